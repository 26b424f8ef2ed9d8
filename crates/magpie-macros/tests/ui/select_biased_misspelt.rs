fn main() {
    let _ = async {
        let _: u8 = magpie::select! {
            biassed;
            v = async { 1u8 } => v,
        };
    };
}
