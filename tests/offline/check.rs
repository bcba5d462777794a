//! `patctl check` where check_patroni (2.2, installed by `sandbox/cluster.sh install`) fails before
//! asking any member: its usage errors and a state file it cannot open, on ports nothing listens on.

use std::path::Path;

use crate::fork_server::{python_of, ForkServer, Script};
use crate::harness::*;

/// Every error check_patroni raises inside a check (its usage errors, a state file it cannot open)
/// is its `UNKNOWN: <exception>: <message>` line on stdout with exit 3 (the traceback under it is
/// not taken over); an option click refuses before the check runs stays exit 2 with nothing on stdout.
#[test]
fn check_errors_inside_a_check_are_check_patronis_unknown_line() {
    if !installed("check_patroni") {
        return;
    }
    // Every case fails before a request is sent, so no member needs to answer.
    let node = format!("http://127.0.0.1:{}", closed_port());
    let all = format!("{node},http://127.0.0.1:{}", closed_port());
    let cases: [&[&str]; 8] = [
        &["-e", &node, "node_is_replica", "--is-sync", "--is-async"],
        &[
            "-e",
            &node,
            "-v",
            "node_is_replica",
            "--is-sync",
            "--is-async",
        ],
        &[
            "-e",
            &node,
            "node_is_replica",
            "--is-sync",
            "--max-lag",
            "1MB",
        ],
        &["-e", &all, "cluster_config_has_changed"],
        &[
            "-e",
            &all,
            "cluster_config_has_changed",
            "--hash",
            "x",
            "--state-file",
            "/tmp/x",
        ],
        &["-e", &node, "node_tl_has_changed"],
        &[
            "-e",
            &node,
            "node_tl_has_changed",
            "--state-file",
            "/nonexistent/dir/tl",
        ],
        &[
            "-e",
            &all,
            "cluster_config_has_changed",
            "--state-file",
            "/",
        ],
    ];
    // check_patroni's own entry point in a fork server: a Python start per case took 3.5 s.
    let python = python_of("check_patroni");
    let script = Script {
        python: &python,
        entry: ("check_patroni.cli", "main"),
        prog: "check_patroni",
        warm: &[],
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fork-check_patroni");
    let mut check_patroni = ForkServer::start(&script, &dir);
    for args in cases {
        let theirs = check_patroni.run(args);
        let mut full = vec!["check"];
        full.extend_from_slice(args);
        let ours = patctl_raw(&full, None, &[]);
        assert_eq!(
            (ours.code, theirs.code),
            (3, 3),
            "{args:?}: {}",
            ours.stderr
        );
        let first = theirs.stdout.lines().next().unwrap_or("");
        assert!(first.starts_with("UNKNOWN: "), "{args:?}: {first}");
        assert_eq!(ours.stdout, format!("{first}\n"), "{args:?}");
        assert_eq!(ours.stderr, "", "{args:?}");
    }
    // click's own usage errors, before the check: exit 2, the message on stderr, stdout empty.
    let args = ["-e", &node, "node_is_replica", "--no-such-option"];
    let theirs = check_patroni.run(&args);
    let ours = patctl_raw(&[&["check"][..], &args].concat(), None, &[]);
    assert_eq!((ours.code, theirs.code), (2, 2));
    assert_eq!((ours.stdout.as_str(), theirs.stdout.as_str()), ("", ""));
}
