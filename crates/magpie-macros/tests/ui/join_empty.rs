fn main() {
    let _ = async {
        let () = magpie::join!();
    };
}
