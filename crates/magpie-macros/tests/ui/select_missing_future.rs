fn main() {
    let _ = async {
        let _: u8 = magpie::select! {
            v => v,
        };
    };
}
