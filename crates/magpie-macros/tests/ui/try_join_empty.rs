fn main() {
    let _ = async {
        let _: Result<(), ()> = magpie::try_join!();
    };
}
