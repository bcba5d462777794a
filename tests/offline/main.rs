//! The tests that need no sandbox and run the real `patctl` binary (plain `cargo test` runs them, in
//! seconds, on any machine): `--help` and error snapshots, the generated completions and man pages,
//! argument parsing and config errors, property tests of the parsers and renderers, PyYAML/json
//! compatibility, completion without a cluster, and a DCS that is down or hung.
//!
//! Where an oracle or tool is missing (the real `patronictl`, `check_patroni`, the Patroni venv's
//! Python, `man`, `zsh`, `fish`) its test is skipped with a `skipped: <test> needs …` line on stderr,
//! or fails under `CI`/`PATCTL_REQUIRE_SANDBOX` (`process::needs`). Command logic in-process is the
//! `hermetic` target; everything on a running cluster is the `cli` target (the sandbox tests).

#[path = "../support/complete.rs"]
mod complete;
#[path = "../support/doctor_findings.rs"]
mod doctor_findings;
#[path = "../support/fake_api.rs"]
mod fake_api;
#[path = "../support/fork_server.rs"]
mod fork_server;
#[path = "../support/generator.rs"]
mod generator;
#[path = "../support/hung.rs"]
mod hung;
#[path = "../support/process.rs"]
mod process;
#[path = "../support/rng.rs"]
mod rng;
#[path = "../support/schema.rs"]
mod schema;
#[path = "../support/tls_server.rs"]
mod tls_server;
#[path = "../support/wait.rs"]
mod wait;

/// What the test modules use: running the tools, skipping without them, loopback fakes.
mod harness {
    pub use crate::fake_api::closed_port;
    pub use crate::hung::Hung;
    pub use crate::process::*;
}

mod check; // check: check_patroni's UNKNOWN lines for errors before any request
mod cli_basics; // parsing, config errors, exit codes, patctl invoked as patronictl
mod completion; // dynamic completion with a dead DCS, context names
mod doctor; // doctor's certificate checks against openssl s_server: expiring, another host
mod formats; // PyYAML and json.dumps compatibility against Python itself
mod fuzz; // property tests: parsers and renderers never panic on any input
mod generated; // completions/ and man/ are current
mod snapshots; // --help of every command and the main error messages (tests/snapshots/)
mod unreachable; // a DCS down or hung: every command fails fast, naming the endpoints
