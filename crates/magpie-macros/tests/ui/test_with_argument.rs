#[magpie::test]
async fn with_argument(n: u32) {
    assert_eq!(n, n);
}

fn main() {}
