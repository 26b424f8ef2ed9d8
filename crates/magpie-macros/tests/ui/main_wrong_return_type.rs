#[magpie::main]
async fn main() -> Result<(), String> {
    42
}
