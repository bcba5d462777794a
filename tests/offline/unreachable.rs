//! A DCS that is down or hung, no sandbox needed: every command fails fast (exit 3) with one line
//! naming the endpoints it tried, in JSON and YAML as an envelope that says `unreachable`.

use std::time::{Duration, Instant};

use crate::harness::*;
use crate::schema::{assert_valid, parse_json, untimed};

/// Every command, with arguments that skip prompts, aimed at cluster `demo`.
const COMMANDS: &[&[&str]] = &[
    &["list", "demo"],
    &["topology", "demo"],
    &["history", "demo"],
    &["show-config", "demo"],
    &["edit-config", "demo", "-s", "loop_wait=3", "--force"],
    &["pause", "demo"],
    &["resume", "demo"],
    &["switchover", "demo", "--candidate", "node2", "--force"],
    &["failover", "demo", "--candidate", "node2", "--force"],
    &["restart", "demo", "--force"],
    &["reload", "demo", "--force"],
    &["reinit", "demo", "node2", "--force"],
    &["flush", "demo", "restart", "--force"],
    &["flush", "demo", "switchover"],
    &["dsn", "demo"],
    &["version", "demo"],
    &["remove", "demo"],
    &["demote-cluster", "demo", "--host", "127.0.0.1", "--force"],
    &["promote-cluster", "demo", "--force"],
    &["query", "demo", "-c", "select 1"],
];

#[test]
fn every_command_fails_fast_when_the_dcs_is_down() {
    // Nothing listens on 127.0.0.1:1; etcd3:// is the v3 back end, a bare host:port is etcd v2.
    for url in ["etcd3://127.0.0.1:1", "127.0.0.1:1"] {
        for cmd in COMMANDS {
            let mut args = vec!["--timeout", "2", "-d", url];
            args.extend_from_slice(cmd);
            let start = Instant::now();
            let out = patctl_raw(&args, Some(""), &[]);
            let took = start.elapsed();
            assert!(
                took < Duration::from_secs(15),
                "{cmd:?} on {url} took {took:?}"
            );
            assert_eq!(
                out.code, 3,
                "{cmd:?} on {url}: exit {}\n{}{}",
                out.code, out.stdout, out.stderr
            );
            // The error, then the hint naming the endpoints tried.
            let last = out
                .stderr
                .lines()
                .find(|l| l.starts_with("Error: "))
                .unwrap_or_default();
            assert!(
                out.stderr.contains("\nHint: tried ") && last.starts_with("Error: DCS unreachable"),
                "{cmd:?} on {url}: {}",
                out.stderr
            );
            assert!(
                last.contains("127.0.0.1:1"),
                "{cmd:?}: the endpoint is named: {last}"
            );
            assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        }
    }
}

#[test]
fn all_endpoints_down_names_each_one() {
    let hung = Hung::start();
    let (a, b) = (closed_port(), closed_port());
    // Both back ends at once: each waits 5 s for the hung endpoint.
    each_in_parallel(&[("etcd3", "v3"), ("etcd", "v2")], |&(section, kind)| {
        let cfg = scratch_file(
            &format!("down-{kind}.yml"),
            &format!(
                "scope: demo\n{section}:\n  hosts: 127.0.0.1:{a}, 127.0.0.1:{b},127.0.0.1:{}\n",
                hung.port
            ),
        );
        let t0 = Instant::now();
        let out = patctl_raw(&["-c", &cfg, "list"], None, &[]);
        let took = t0.elapsed();
        out.code(3);
        assert!(took < Duration::from_secs(7), "{kind}: took {took:?}");
        // The hint says the order they were tried in, each with its error. The hung endpoint gets
        // what is left of the 5 s budget after the refusals (4.9s on a loaded machine).
        let (ea, eb, eh) = (
            format!("http://127.0.0.1:{a} (connection refused)"),
            format!("http://127.0.0.1:{b} (connection refused)"),
            format!("http://127.0.0.1:{} (no answer within 5.0s)", hung.port),
        );
        let stderr = (0..10).fold(out.stderr.clone(), |e, tenth| {
            e.replace(
                &format!("(no answer within 4.{tenth}s)"),
                "(no answer within 5.0s)",
            )
        });
        assert!(
            stderr.starts_with(&format!(
                "Error: DCS unreachable at {ea}, {eb}, {eh}\nHint: tried in this order: {ea}, then {eb}, then {eh}; check "
            )),
            "{kind}: {}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 2, "{kind}: {}", out.stderr);
        assert_eq!(out.stdout, "");
    });
    // Credentials in an etcd URL never show up in the error.
    let cfg = scratch_file(
        "url-secret.yml",
        &format!("scope: demo\netcd3:\n  url: http://root:Url-S3cret@127.0.0.1:{a}\n"),
    );
    let out = patctl_raw(&["-c", &cfg, "list"], None, &[]);
    out.code(3);
    assert!(
        out.stderr.starts_with(&format!(
            "Error: DCS unreachable at http://127.0.0.1:{a} (connection refused)\nHint: tried http://127.0.0.1:{a} (connection refused); "
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("Url-S3cret"), "{}", out.stderr);
}

#[test]
fn without_a_dcs_the_envelope_says_unreachable_in_json_and_yaml() {
    let dcs = format!("etcd3://127.0.0.1:{}", closed_port());
    let args = [
        "-d",
        dcs.as_str(),
        "--request-timeout",
        "1",
        "history",
        "demo",
    ];
    let out = patctl_raw(&[&["-o", "json"][..], &args].concat(), None, &[]);
    out.code(3);
    let env = parse_json(&out.stdout);
    assert_valid("History", &env);
    assert_eq!(env["error"]["category"], "unreachable");
    assert_eq!(env["error"]["retrySafe"], true);
    assert!(out.stderr.starts_with("Error: "), "{}", out.stderr);
    let yaml = patctl_raw(&[&["-o", "yaml"][..], &args].concat(), None, &[]);
    yaml.code(3);
    let from_yaml = patctl::py::yaml_load::load(&yaml.stdout).unwrap();
    assert_eq!(untimed(&from_yaml)["error"]["category"], "unreachable");
    assert_valid("History", &from_yaml);
}
