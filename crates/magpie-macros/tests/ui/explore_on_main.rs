#[magpie::main(explore = 10)]
async fn main() {}
