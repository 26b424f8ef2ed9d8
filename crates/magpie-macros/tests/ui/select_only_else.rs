fn main() {
    let _ = async {
        let _: u8 = magpie::select! {
            else => 3,
        };
    };
}
