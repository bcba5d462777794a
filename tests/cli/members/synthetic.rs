//! `restart`/`reload`/`flush` against synthetic clusters written into etcd whose members are fakes
//! or closed ports: a rejecting member fails the command, unreachable and silent members are bounded,
//! and a switchover is flushed through the DCS when no member answers.

use super::*;

/// Write a scratch cluster whose members `(name, api port)` exist only in the DCS.
fn scratch_cluster(tag: &str, members: &[(&str, u16)]) -> (String, String) {
    let scope = scratch_scope(tag);
    let base = format!("/service/{scope}");
    etcd_put(&format!("{base}/initialize"), "7334869384651563031");
    etcd_put(&format!("{base}/config"), r#"{"loop_wait":7}"#);
    etcd_put(&format!("{base}/leader"), members[0].0);
    for (i, (name, port)) in members.iter().enumerate() {
        let role = if i == 0 { "primary" } else { "replica" };
        etcd_put(
            &format!("{base}/members/{name}"),
            &format!(
                r#"{{"conn_url":"postgres://127.0.0.1:{}/postgres","api_url":"http://127.0.0.1:{port}/patroni","state":"running","role":"{role}","timeline":1,"scheduled_restart":{{"schedule":"2030-01-01T12:00:00+00:00"}}}}"#,
                6000 + i
            ),
        );
    }
    (scope, base)
}

fn with_scratch(tag: &str, members: &[(&str, u16)], test: impl FnOnce(&str, &str)) {
    let (scope, base) = scratch_cluster(tag, members);
    with_prefix_removed(&base, || test(&scope, &base));
}

fn patctl_timeout(secs: &str, args: &[&str]) -> Out {
    let c = config();
    let mut full = vec!["-c", c.as_str(), "--timeout", secs];
    full.extend_from_slice(args);
    patctl_raw(&full, None, &[])
}

#[test]
fn rejected_member_fails_the_command() {
    let Some(_g) = read_lock() else { return };
    let ok = fake_api(&[Reply::Status(202, "reload scheduled")]).port;
    let bad = fake_api(&[Reply::Status(503, "boom")]).port;
    with_scratch(
        "reject",
        &[("m1", ok), ("m2", bad), ("m3", ok)],
        |scope, _| {
            let out = patctl(&["reload", scope, "--force"]);
            out.code(1);
            let results: Vec<&str> = out
                .stdout
                .lines()
                .filter(|l| !l.starts_with(['+', '|']))
                .collect();
            assert_eq!(
                results,
                [
                    "Reload request received for member m1 and will be processed within 7 seconds",
                    "Failed: reload for member m2, status code=503, (boom)",
                    "Reload request received for member m3 and will be processed within 7 seconds",
                ]
            );
            // patronictl prints the same lines and exits 0.
            let theirs = patronictl(&["reload", scope, "--force"]);
            assert_eq!(
                (theirs.stdout.as_str(), theirs.code),
                (out.stdout.as_str(), 0)
            );

            let out = patctl(&["restart", scope, "m2", "--force"]);
            out.code(1);
            assert!(out
                .stdout
                .ends_with("Failed: restart for member m2, status code=503, (boom)\n"));
            let out = patctl(&["flush", scope, "m2", "restart", "--force"]);
            out.code(1);
            assert!(out.stdout.ends_with(
                "Failed: flush scheduled restart for member m2, status code=503, (boom)\n"
            ));
        },
    );
    // A reinit already running: patronictl offers to force it, and asks again while it fails.
    let busy = fake_api(&[Reply::Status(503, "reinitialize already in progress")]).port;
    with_scratch("busy", &[("m1", ok), ("m2", busy)], |scope, _| {
        let args = ["reinit", scope, "m2"];
        let ours = patctl_stdin(&args, "y\ny\ny\nn\n");
        let theirs = patronictl_stdin(&args, "y\ny\ny\nn\n");
        assert_eq!(ours.stdout, theirs.stdout);
        assert_eq!((ours.code, theirs.code), (1, 0));
        let failed = "Failed: reinitialize for member m2, status code=503, (reinitialize already in progress)\n";
        let again = "Do you want to cancel it and reinitialize anyway? [y/N]: ";
        assert!(
            ours.stdout.ends_with(&format!(
                "[y/N]: {failed}{again}{failed}{again}{failed}{again}"
            )),
            "{}",
            ours.stdout
        );
    });
}

#[test]
fn unreachable_and_silent_members_are_bounded() {
    let Some(_g) = read_lock() else { return };
    let gone = closed_port();
    let hang = fake_api(&[Reply::Hang]).port;
    let ok = fake_api(&[Reply::Status(200, "restarted")]).port;
    with_scratch("down", &[("m1", gone), ("m2", ok)], |scope, _| {
        let out = patctl(&["reload", scope, "m1", "--force"]);
        out.code(3);
        assert!(
            out.stdout.contains(
                "Failed: reload for member m1, unreachable (member m1 at http://127.0.0.1:"
            ),
            "{}",
            out.stdout
        );
        let out = patctl(&["restart", scope, "--force"]);
        out.code(3);
        assert!(
            out.stdout.ends_with("Success: restart on member m2\n"),
            "{}",
            out.stdout
        );
    });
    with_scratch(
        "hang",
        &[("m1", hang), ("m2", hang), ("m3", ok)],
        |scope, _| {
            // Three members, two silent: answers in parallel, bounded by the timeout, in member order.
            let started = Instant::now();
            let out = patctl_timeout("1", &["reload", scope, "--force"]);
            out.code(5);
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{:?}",
                started.elapsed()
            );
            let results: Vec<&str> = out
                .stdout
                .lines()
                .filter(|l| l.starts_with(['F', 'N']))
                .collect();
            assert_eq!(results.len(), 3, "{}", out.stdout);
            assert!(results[0].starts_with("Failed: reload for member m1, outcome unknown ("));
            assert!(results[1].starts_with("Failed: reload for member m2, outcome unknown ("));
            assert_eq!(results[2], "No changes to apply on member m3");

            // Restarts go one member at a time; a silent member is probed first and not sent the
            // restart, so each costs one (short) timeout.
            let started = Instant::now();
            let out = patctl_timeout(
                "1",
                &[
                    "restart",
                    scope,
                    "m1",
                    "m2",
                    "--force",
                    "--wait-timeout",
                    "1",
                ],
            );
            out.code(3);
            assert!(started.elapsed() < Duration::from_secs(5));
            assert!(out
                .stdout
                .contains("Failed: restart for member m2, unreachable ("));
            assert!(out.stdout.contains("restart not sent"), "{}", out.stdout);
        },
    );
}

#[test]
fn flush_switchover_falls_back_to_dcs() {
    let Some(_g) = read_lock() else { return };
    let (a, b) = (closed_port(), closed_port());
    for tool in ["patctl", "patronictl"] {
        with_scratch(tool, &[("m1", a), ("m2", b)], |scope, base| {
            let key = format!("{base}/failover");
            etcd_put(
                &key,
                r#"{"leader":"m1","scheduled_at":"2030-01-01T12:00:00+00:00"}"#,
            );
            let out = if tool == "patctl" {
                patctl(&["flush", scope, "switchover"])
            } else {
                patronictl(&["flush", scope, "switchover"])
            };
            out.code(0);
            let line = out.stdout.lines().next().unwrap_or_default();
            assert!(
                line.ends_with(&format!(
                    " Could not find any accessible member of cluster {scope}"
                )),
                "{tool}: {}",
                out.stdout
            );
            assert_eq!(line.split(' ').nth(1).map(str::len), Some(14), "{line}");
            assert!(
                out.stderr.contains("Member m1 is not accessible"),
                "{}",
                out.stderr
            );
            assert!(out.stderr.contains("Member m2 is not accessible"));
            assert!(out.stderr.contains("WARNING - Failing over to DCS"));
            assert_eq!(etcd_get(&key).as_deref(), Some("{}"), "{tool}");
        });
    }
}
