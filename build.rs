//! Build script: link the release binary as a non-PIE executable on Linux.
//!
//! Why: a position-independent executable makes the dynamic loader apply ~34,000 relative
//! relocations at every start and copy the ~150 pages of `.data.rel.ro` they touch; that was a
//! quarter of the instructions of a whole `patctl list` (callgrind). Linked with `-no-pie`, the
//! addresses are fixed at link time and the pages are only read when used. The cost is that the
//! binary's own code is not placed at a random address (shared libraries still are).
//! Debug builds (tests) stay as they are.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if release && linux {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
