fn main() {
    let _ = async {
        let _ = magpie::join!(async { 1 }; async { 2 });
    };
}
