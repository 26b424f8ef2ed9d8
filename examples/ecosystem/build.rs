//! Compiles `proto/greeter.proto` into the tonic service and client that `src/grpc.rs`
//! includes, with the protoc binary of the `protoc-bin-vendored` crate: no protoc needs to be
//! installed (a `PROTOC` set in the environment still wins).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("PROTOC").is_none() {
        let protoc = protoc_bin_vendored::protoc_bin_path()?;
        // A build script runs on one thread: setting the variable races with nothing.
        std::env::set_var("PROTOC", protoc);
    }
    println!("cargo:rerun-if-changed=proto/greeter.proto");
    tonic_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_protos(&["proto/greeter.proto"], &["proto"])?;
    Ok(())
}
