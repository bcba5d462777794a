//! The `patctl` binary: parse, run, exit. Everything else lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    patctl::run(std::env::args_os())
}
