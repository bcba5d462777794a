//! Build script: the opt-in fast-start variant links the release binary as a non-PIE executable.
//!
//! The default build is a position-independent executable (the toolchain's default), so the binary's
//! own code is placed at a random address (ASLR), and OpenSSL is the system's shared library found by
//! pkg-config, so a libssl security update reaches patctl without a rebuild.
//!
//! `--features fast-start` (with `--profile release-fast`, `OPENSSL_STATIC=1` and `OPENSSL_LIB_DIR`, see README "Build
//! variants") links with `-no-pie`: the dynamic loader then no longer applies ~34,000 relative
//! relocations and copies the ~150 pages of `.data.rel.ro` they touch at every start (a quarter of
//! the instructions of a whole `patctl list`, callgrind), at the cost of ASLR for the binary's code.
//! Debug builds (tests) stay as they are.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=OPENSSL_STATIC");
    println!("cargo:rerun-if-env-changed=OPENSSL_LIB_DIR");
    let fast = std::env::var_os("CARGO_FEATURE_FAST_START").is_some();
    let debug = std::env::var("PROFILE").is_ok_and(|p| p == "debug");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if fast && !debug && linux {
        println!("cargo:rustc-link-arg-bins=-no-pie");
        if std::env::var_os("OPENSSL_STATIC").is_none()
            || std::env::var_os("OPENSSL_LIB_DIR").is_none()
        {
            println!(
                "cargo:warning=fast-start without OPENSSL_STATIC=1 and OPENSSL_LIB_DIR: OpenSSL stays a shared library"
            );
        }
    }
}
