//! `patctl check` where check_patroni (2.2, installed by `sandbox/cluster.sh install`) fails before
//! asking any member: its usage errors and a state file it cannot open, on ports nothing listens on.

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
    // The last one is click's own usage error, before the check.
    let usage: &[&str] = &["-e", &node, "node_is_replica", "--no-such-option"];
    let mut answers = click_each(
        "check_patroni",
        ("check_patroni.cli", "main"),
        &[&cases[..], &[usage]].concat(),
    );
    let usage_answer = answers.pop().unwrap();
    for (args, theirs) in cases.iter().zip(answers) {
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
    let theirs = usage_answer;
    let ours = patctl_raw(&[&["check"][..], usage].concat(), None, &[]);
    assert_eq!((ours.code, theirs.code), (2, 2));
    assert_eq!((ours.stdout.as_str(), theirs.stdout.as_str()), ("", ""));
}
