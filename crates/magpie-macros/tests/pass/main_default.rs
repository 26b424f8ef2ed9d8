#[magpie::main]
async fn main() {
    assert_eq!(magpie::spawn(async { 1 + 1 }).await.unwrap(), 2);
}
