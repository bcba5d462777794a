//! The write steps of the ZooKeeper sandbox test (`mod.rs` runs them in order): `edit-config`,
//! pause and resume, `events`, switchover and failover, the member commands, `remove`, and a
//! stopped ZooKeeper.

use super::*;

/// `edit-config`: the same diff as patronictl's, and a concurrent change wins (exit 4, nothing lost).
pub(super) fn edit_config(sb: &ModeSandbox, zk: &Zk) {
    let cfg_key = "/service/demo/config";
    let (original, _) = zk.get(cfg_key).expect("config znode");
    let mut concurrent: Value = serde_json::from_str(&original).unwrap();
    concurrent["retry_timeout"] = Value::from(6);
    let concurrent = serde_json::to_string(&concurrent).unwrap();
    let script = scratch_file(
        "zk-race.sh",
        &format!(
            "#!/bin/sh\n{VENV_PYTHON} -c \"$ZK_TOOL\" \"$ZK_HOSTS\" set \"$CFG_KEY\" \"$CONCURRENT\" || exit 9\nsed -i 's/^loop_wait: .*/loop_wait: 7/' \"$1\"\n"
        ),
    );
    let editor = format!("sh {script}");
    let cfg = sb.config();
    let envs = [
        ("EDITOR", editor.as_str()),
        ("ZK_TOOL", ZK_TOOL),
        ("ZK_HOSTS", zk.hosts.as_str()),
        ("CFG_KEY", cfg_key),
        ("CONCURRENT", concurrent.as_str()),
    ];
    for extra in [&[][..], &["--force"]] {
        let mut args = vec!["-c", cfg.as_str(), "edit-config"];
        args.extend_from_slice(extra);
        let out = patctl_raw(&args, Some("y\n"), &envs);
        out.code(4);
        assert_eq!(
            out.stderr,
            "Error: Config modification aborted due to concurrent changes\n"
        );
        assert_eq!(zk.get(cfg_key).unwrap().0, concurrent, "{extra:?}");
    }
    zk.set(cfg_key, &original);

    // The same change by each tool prints the same diff and leaves the same config.
    let set = |tool: &dyn Fn(&[&str]) -> Out, v: &str| {
        let out = tool(&[
            "-c",
            &cfg,
            "edit-config",
            "-s",
            &format!("loop_wait={v}"),
            "--force",
        ]);
        out.code(0);
        out.stdout
    };
    let theirs_tool = |a: &[&str]| patronictl_raw(a, &[]);
    let ours_tool = |a: &[&str]| patctl_raw(a, None, &[]);
    let theirs = set(&theirs_tool, "3");
    let shown = sb.assert_same(&["show-config"]);
    assert!(shown.stdout.contains("loop_wait: 3\n"), "{}", shown.stdout);
    set(&theirs_tool, "2");
    let ours = set(&ours_tool, "3");
    assert_eq!(ours, theirs);
    sb.assert_same(&["show-config"]);
    set(&ours_tool, "2");
    sb.assert_same(&["show-config"]);
}

/// `pause --wait` and `resume --wait` print what patronictl prints and reach every member.
pub(super) fn pause_resume(sb: &ModeSandbox) {
    let cfg = sb.config();
    let run = |ours: bool, what: &str| {
        let args = ["-c", cfg.as_str(), what, "--wait"];
        let once = || {
            if ours {
                patctl_raw(&args, None, &[])
            } else {
                patronictl_raw(&args, &[])
            }
        };
        // Patroni answers 409 when its own compare-and-swap of /config lost against a change it
        // was still making (the edit before); asked again, it applies.
        let mut out = once();
        for _ in 0..3 {
            if out.code == 0 || !out.stdout.contains("status code=409") {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
            out = once();
        }
        out.code(0);
        out.stdout
    };
    let ours = run(true, "pause");
    assert!(sb
        .patctl(&["list"])
        .stdout
        .contains("\n Maintenance mode: on\n"));
    sb.assert_same(&["list"]);
    let theirs_resume = run(false, "resume");
    let theirs = run(false, "pause");
    let ours_resume = run(true, "resume");
    assert_eq!(ours, theirs);
    assert_eq!(ours_resume, theirs_resume);
    assert_eq!(
        ours_resume,
        "'resume' request sent, waiting until it is recognized by all nodes\nSuccess: cluster management is resumed\n"
    );
    assert!(!sb.patctl(&["list"]).stdout.contains("Maintenance mode"));
}

/// `events` on ZooKeeper (a persistent recursive watch, no revisions): pause and resume arrive once,
/// in order; `--since-revision` is refused (no history to resume from).
pub(super) fn events(sb: &ModeSandbox) {
    let evs = crate::events::pause_resume_events(sb);
    assert!(evs.iter().all(|e| e["revision"].is_null()));
    let out = sb.patctl(&["events", "--since-revision", "5"]);
    out.code(2);
    assert!(
        out.stderr.contains("--since-revision needs etcd v3"),
        "{}",
        out.stderr
    );
}

/// `switchover`/`failover` with `--wait` (a watch), next to patronictl's own, back and forth.
pub(super) fn switch_leaders(sb: &ModeSandbox) {
    let cfg = sb.config();
    let leader = healthy(sb, 2);
    let other = if leader == "node1" { "node2" } else { "node1" };

    let theirs = patronictl_raw(
        &[
            "-c",
            &cfg,
            "switchover",
            "demo",
            "--candidate",
            other,
            "--force",
        ],
        &[],
    );
    theirs.code(0);
    assert_eq!(healthy(sb, 2), other);
    let ours = sb.patctl(&[
        "switchover",
        "demo",
        "--candidate",
        &leader,
        "--force",
        "--wait",
    ]);
    ours.code(0);
    let (t, o) = (said(&theirs.stdout), said(&ours.stdout));
    assert_eq!(t[0], o[0], "{}", ours.stdout);
    assert_eq!(t[1], format!("Successfully switched over to \"{other}\""));
    assert_eq!(o[1], format!("Successfully switched over to \"{leader}\""));
    assert!(
        ours.stdout
            .trim_end()
            .ends_with(&format!(": {leader} is the leader")),
        "{}",
        ours.stdout
    );
    assert_eq!(healthy(sb, 2), leader);

    let ours = sb.patctl(&[
        "failover",
        "demo",
        "--candidate",
        other,
        "--force",
        "--wait",
    ]);
    ours.code(0);
    assert!(
        ours.stdout.contains("Failover completed in "),
        "{}",
        ours.stdout
    );
    assert_eq!(healthy(sb, 2), other);
    patronictl_raw(
        &[
            "-c",
            &cfg,
            "failover",
            "demo",
            "--candidate",
            &leader,
            "--force",
        ],
        &[],
    )
    .code(0);
    assert_eq!(healthy(sb, 2), leader);
    let history = sb.assert_same(&["history"]);
    assert_eq!(history.stdout.lines().count(), 4 + 4, "{}", history.stdout);
    for args in READ_COMMANDS {
        sb.assert_same(args);
    }
}

/// `restart`, `reinit --wait` and `flush` on a member, as patronictl does them.
pub(super) fn members(sb: &ModeSandbox, zk: &Zk) {
    let cfg = sb.config();
    let leader = healthy(sb, 2);
    let replica = if leader == "node1" { "node2" } else { "node1" };
    let last = |o: &Out| o.stdout.lines().last().unwrap_or_default().to_string();

    let ours = sb.patctl(&["restart", "demo", replica, "--force"]);
    ours.code(0);
    healthy(sb, 2);
    let theirs = patronictl_raw(&["-c", &cfg, "restart", "demo", replica, "--force"], &[]);
    theirs.code(0);
    assert_eq!(last(&ours), format!("Success: restart on member {replica}"));
    assert_eq!(last(&ours), last(&theirs));
    healthy(sb, 2);

    let out = sb.patctl(&["reinit", "demo", replica, "--force", "--wait"]);
    out.code(0);
    let tail = lines_from_success(&out.stdout);
    assert_eq!(
        tail,
        [
            format!("Success: reinitialize for member {replica}"),
            format!("Waiting for reinitialize to complete on: {replica}"),
            format!("Reinitialize is completed on: {replica}"),
        ]
    );
    healthy(sb, 2);

    let failover = || {
        zk.get("/service/demo/failover")
            .map(|(v, _)| serde_json::from_str::<Value>(&v).unwrap_or(Value::Null))
            .unwrap_or(Value::Null)
    };
    patronictl_raw(
        &[
            "-c",
            &cfg,
            "switchover",
            "demo",
            "--scheduled",
            "2030-01-01T12:00:00+00:00",
            "--force",
        ],
        &[],
    )
    .code(0);
    assert_eq!(failover()["scheduled_at"], "2030-01-01T12:00:00+00:00");
    let out = sb.patctl(&["flush", "demo", "switchover"]);
    out.code(0);
    assert_eq!(out.stdout, "Success: scheduled switchover deleted\n");
    assert!(failover().get("scheduled_at").is_none(), "{}", failover());
    let out = sb.assert_same(&["flush", "demo", "switchover"]);
    assert_eq!(out.stdout, "No pending scheduled switchover\n");
}

/// `remove` of a scratch scope: patronictl's prompts and answers, only that scope deleted.
pub(super) fn remove(sb: &ModeSandbox, zk: &Zk) {
    let cfg = sb.config();
    let scope = scratch_scope("zkrm");
    let base = format!("/service/{scope}");
    let make = || {
        zk.create(&format!("{base}/initialize"), "7334869384651563031");
        zk.create(&format!("{base}/config"), r#"{"ttl":30,"loop_wait":10}"#);
        zk.create(&format!("{base}/leader"), "m1");
        zk.create(
            &format!("{base}/members/m1"),
            r#"{"conn_url":"postgres://127.0.0.1:1/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"primary","version":"4.1.5","timeline":1}"#,
        );
    };
    let demo = zk.keys("/service/demo");
    finally(
        || {
            make();
            let before = zk.keys(&base);
            assert_eq!(before, ["config", "initialize", "leader", "members/m1"]);
            for input in ["wrong\n".to_string(), format!("{scope}\nyes\n")] {
                let ours = patctl_raw(&["-c", &cfg, "remove", &scope], Some(&input), &[]);
                let theirs = patronictl_raw_stdin(&["-c", &cfg, "remove", &scope], &input);
                ours.code(1);
                assert_eq!(
                    (&ours.stdout, &ours.stderr),
                    (&theirs.stdout, &theirs.stderr)
                );
                assert_eq!(zk.keys(&base), before);
            }
            let input = format!("{scope}\nYes I am aware\nm1\n");
            let theirs = patronictl_raw_stdin(&["-c", &cfg, "remove", &scope], &input);
            theirs.code(0);
            assert_eq!(zk.get(&base), None);
            make();
            let ours = patctl_raw(&["-c", &cfg, "remove", &scope], Some(&input), &[]);
            ours.code(0);
            assert_eq!(ours.stdout, theirs.stdout);
            assert_eq!(zk.get(&base), None);
            assert_eq!(zk.keys("/service/demo"), demo);
        },
        || {
            zk.delete(&base);
        },
    );
}

/// ZooKeeper stopped: reads and writes fail within the timeout, naming the server (exit 3).
pub(super) fn stopped(sb: &ModeSandbox, zk: &Zk) {
    sb.sh(&["zk-stop"]);
    let expected = format!(
        "Error: DCS unreachable at {} (connection refused)\nHint: tried ",
        zk.hosts
    );
    for args in [
        &["list"][..],
        &["edit-config", "-s", "loop_wait=5", "--force"],
        &["switchover", "demo", "--candidate", "node2", "--force"],
        &["pause", "--wait"],
    ] {
        let mut full = vec!["--request-timeout", "3"];
        full.extend_from_slice(args);
        let t0 = Instant::now();
        let out = sb.patctl(&full);
        assert!(
            t0.elapsed() < Duration::from_secs(4),
            "{args:?}: {:?}",
            t0.elapsed()
        );
        out.code(3);
        assert!(
            out.stderr.starts_with(&expected),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(out.stdout, "", "{args:?}");
    }
}
