//! `pause` and `resume` on the sandbox (with and without `--wait`, as every member publishes it) and
//! against synthetic clusters whose members reject, time out or are unreachable, next to patronictl.

use super::*;

#[test]
fn pause_and_resume() {
    let Some(_g) = write_lock() else { return };
    let _restore = Restore::new();
    let out = patctl(&["pause"]);
    out.code(0);
    assert_eq!(out.stdout, "Success: cluster management is paused\n");
    assert!(patctl(&["list"])
        .stdout
        .contains("\n Maintenance mode: on\n"));
    assert_eq!(current_config()["pause"], true);
    let again = assert_same(&["pause"]);
    again.code(1);
    assert_eq!(
        patctl(&["pause"]).stderr,
        "Error: Cluster is already paused\n"
    );
    // Until every member has published the pause, `resume --wait` could end at once and a member
    // could publish the pause after it.
    wait_pause_flags(true, Duration::from_secs(60));

    let out = patctl(&["resume", "--wait"]);
    out.code(0);
    assert_eq!(
        out.stdout,
        "'resume' request sent, waiting until it is recognized by all nodes\nSuccess: cluster management is resumed\n"
    );
    assert!(member_pause_flags().iter().all(|p| !p));
    assert!(!patctl(&["list"]).stdout.contains("Maintenance mode"));
    assert!(current_config().get("pause").is_none());
    assert_eq!(patctl(&["resume"]).stderr, "Error: Cluster is not paused\n");

    let out = patctl(&["pause", "--wait"]);
    out.code(0);
    assert!(out
        .stdout
        .ends_with("Success: cluster management is paused\n"));
    let flags = member_pause_flags();
    assert!(flags.len() == 3 && flags.iter().all(|p| *p), "{flags:?}");
    patctl(&["resume", "--wait"]).code(0);
    assert!(!patctl(&["list"]).stdout.contains("Maintenance mode"));
}

fn synthetic_cluster(tag: &str, ports: &[u16]) -> (String, String) {
    let scope = scratch_scope(tag);
    let base = format!("/service/{scope}");
    etcd_put(&format!("{base}/config"), r#"{"loop_wait":2}"#);
    etcd_put(&format!("{base}/leader"), "m1");
    for (i, port) in ports.iter().enumerate() {
        etcd_put(
            &format!("{base}/members/m{}", i + 1),
            &format!(
                r#"{{"conn_url":"postgres://127.0.0.1:5432/postgres","api_url":"http://127.0.0.1:{port}/patroni","state":"running","role":"replica"}}"#
            ),
        );
    }
    (scope, base)
}

#[test]
fn pause_failures() {
    let Some(_g) = read_lock() else { return };
    // A member that rejects: patronictl's line on stdout, but a non-zero exit.
    let p = fake_api(&[Reply::Status(503, "boom")]).port;
    let (scope, base) = synthetic_cluster("pause503", &[p, p]);
    with_prefix_removed(&base, || {
        let ours = patctl(&["pause", &scope]);
        let theirs = patronictl(&["pause", &scope]);
        assert_eq!(
            ours.stdout,
            "Failed: pause cluster management status code=503, (boom)\n"
        );
        assert_eq!(
            (ours.stdout.as_str(), theirs.code),
            (theirs.stdout.as_str(), 0)
        );
        ours.code(1);
    });

    // Nobody listening: exit 3, patronictl's error line.
    let closed = closed_port();
    let (scope, base) = synthetic_cluster("pausedown", &[closed, closed]);
    with_prefix_removed(&base, || {
        let ours = patctl(&["resume", &scope]);
        assert_eq!(ours.stderr, "Error: Cluster is not paused\n");
        let ours = patctl(&["pause", &scope]);
        ours.code(3);
        assert!(
            ours.stderr
                .ends_with("Error: Can not find accessible cluster member\n"),
            "{}",
            ours.stderr
        );
        assert!(ours.stderr.contains("Member m2 is not accessible"));
        let theirs = patronictl(&["pause", &scope]);
        assert!(theirs
            .stderr
            .ends_with("Error: Can not find accessible cluster member\n"));
    });

    // A member that never answers: bounded by --timeout, outcome unknown (exit 5).
    let hang = fake_api(&[Reply::Hang]).port;
    let (scope, base) = synthetic_cluster("pausehang", &[hang]);
    with_prefix_removed(&base, || {
        let start = Instant::now();
        let ours = patctl(&["--timeout", "1", "pause", &scope]);
        ours.code(5);
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(
            ours.stderr.contains("may have been applied"),
            "{}",
            ours.stderr
        );
    });
}
