fn main() {
    let _ = async {
        let _: u8 = magpie::select! {
            async { 1u8 } => 2,
        };
    };
}
