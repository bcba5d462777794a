//! The ZooKeeper back end against a real ZooKeeper and Patroni (`SANDBOX_DCS=zookeeper`), compared with
//! the real patronictl (kazoo) on the same cluster: the read commands byte for byte, `-d zookeeper://`,
//! `PATRONI_ZOOKEEPER_HOSTS`, dead and hung servers skipped, compare-and-swap on znode versions, the
//! watch behind `--wait`, every write command, and a stopped ZooKeeper (exit 3 within the timeout).
//!
//! Starting the sandbox is the expensive part, so one test runs everything on one sandbox, in order.
//! ZooKeeper is read and written behind patctl's back with kazoo, from Patroni's own venv.

use std::time::{Duration, Instant};

use patctl::config::DcsKind;
use patctl::dcs::{Expect, KeyValue, Version, ZooKeeper};
use serde_json::Value;

use crate::common::*;
use crate::dcs::{block_on, scratch_file, settings, with_hosts, Hung, READ_COMMANDS};

/// kazoo as a command-line tool: `HOSTS get KEY` prints `[value, version]` or `null`; `set`/`create`
/// KEY VALUE; `keys PATH` prints the leaf znodes under PATH (relative); `delete PATH` is recursive.
const ZK_TOOL: &str = include_str!("zk_tool.py");

const VENV_PYTHON: &str = "/opt/patroni-venv/bin/python3";

/// Raw access to the sandbox's ZooKeeper, independent of patctl.
struct Zk {
    hosts: String,
}

impl Zk {
    fn run(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(VENV_PYTHON)
            .arg("-c")
            .arg(ZK_TOOL)
            .arg(&self.hosts)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kazoo {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// (value, stat.version) of a znode.
    fn get(&self, key: &str) -> Option<(String, i64)> {
        let v: Value = serde_json::from_str(&self.run(&["get", key])).unwrap();
        let a = v.as_array()?;
        Some((a[0].as_str()?.to_string(), a[1].as_i64()?))
    }

    fn set(&self, key: &str, value: &str) {
        self.run(&["set", key, value]);
    }

    fn create(&self, key: &str, value: &str) {
        self.run(&["create", key, value]);
    }

    fn keys(&self, path: &str) -> Vec<String> {
        serde_json::from_str(&self.run(&["keys", path])).unwrap()
    }

    fn delete(&self, path: &str) {
        self.run(&["delete", path]);
    }
}

/// Wait (bounded) until the sandbox has a running leader and every other member streams; its name.
#[track_caller]
fn healthy(sb: &ModeSandbox, nodes: usize) -> String {
    wait_listed_healthy(nodes, Duration::from_secs(120), || {
        sb.patctl(&["list", "-f", "json"])
    })
}

/// Both tools, same arguments (no config added), same stdout and exit code (a few tries: LSNs move).
#[track_caller]
fn same_raw(args: &[&str], envs: &[(&str, &str)]) -> Out {
    let (ours, theirs) = until_same(
        |tool| tool.run(args, None, envs),
        |ours, theirs| ours.stdout == theirs.stdout && ours.code == theirs.code,
    )
    .unwrap_or_else(|last| last);
    assert_eq!(ours.stdout, theirs.stdout, "{args:?}\n{}", ours.stderr);
    assert_eq!(ours.code, theirs.code, "{args:?}");
    ours
}

/// `stdout` without the tables and with the leading timestamps cut: the lines that say what happened.
fn said(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| !l.starts_with('+') && !l.starts_with('|'))
        .map(|l| match l.find(" Successfully ") {
            Some(i) => l[i + 1..].to_string(),
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn zookeeper_sandbox_matches_patronictl() {
    let Some(sb) = ModeSandbox::up("zk", &[("SANDBOX_DCS", "zookeeper")]) else {
        return;
    };
    let zk = Zk {
        hosts: sb.var("SANDBOX_ZK_HOSTS").to_string(),
    };
    healthy(&sb, 2);

    reads(&sb, &zk);
    library(&sb, &zk);
    edit_config(&sb, &zk);
    pause_resume(&sb);
    events(&sb);
    switch_leaders(&sb);
    members(&sb, &zk);
    remove(&sb, &zk);
    stopped(&sb, &zk);
}

/// The read commands byte for byte, through the file, `-d` and `PATRONI_ZOOKEEPER_HOSTS`; dead and hung
/// servers in the host list are skipped within the timeout.
fn reads(sb: &ModeSandbox, zk: &Zk) {
    for args in READ_COMMANDS {
        sb.assert_same(args);
    }
    for args in [
        &["show-config"][..],
        &["topology", "-e"],
        &["list", "-e", "-f", "json"],
        &["dsn"],
        &["dsn", "-r", "replica"],
        &["version"],
        &["version", "demo", "node2"],
    ] {
        sb.assert_same(args);
    }
    // --all reads the namespace's tree at once; Patroni's member znodes are ephemeral (not stale),
    // so the demo cluster is healthy and stdout is `list demo`'s.
    let all = sb.patctl(&["list", "--all"]);
    all.code(0);
    assert_eq!(
        all.stdout.lines().next(),
        sb.assert_same(&["list", "demo"]).stdout.lines().next()
    );
    assert!(all.stderr.starts_with("demo: healthy; "), "{}", all.stderr);
    // A persistent member znode would never go away with its Patroni: stale.
    zk.create(
        "/service/patctl-zk-stale/members/ghost",
        r#"{"conn_url":"postgres://127.0.0.1:1/postgres","state":"running","role":"replica"}"#,
    );
    let all = sb.patctl(&["list", "--all", "--unhealthy"]);
    zk.delete("/service/patctl-zk-stale");
    all.code(9);
    assert!(
        all.stderr
            .starts_with("patctl-zk-stale: UNHEALTHY (no leader; stale member key ghost); "),
        "{}",
        all.stderr
    );

    let url = format!("zookeeper://{}", zk.hosts);
    same_raw(&["-d", &url, "list", "demo"], &[]);
    same_raw(&["-d", &format!("{url}/service"), "topology", "demo"], &[]);

    let text = sb.config_text();
    let dead = scratch_file(
        "zk-dead.yml",
        &with_hosts(&text, &format!("127.0.0.1:{}", closed_port())),
    );
    let hosts_env = [("PATRONI_ZOOKEEPER_HOSTS", zk.hosts.as_str())];
    same_raw(&["-c", &dead, "list"], &hosts_env);

    let hung = Hung::start();
    let skip = scratch_file(
        "zk-skip.yml",
        &with_hosts(
            &text,
            &format!(
                "127.0.0.1:{},127.0.0.1:{},{}",
                closed_port(),
                hung.port,
                zk.hosts
            ),
        ),
    );
    for args in [&["list"][..], &["history"]] {
        let t0 = Instant::now();
        let mut full = vec!["-c", skip.as_str(), "--request-timeout", "4"];
        full.extend_from_slice(args);
        let out = patctl_raw(&full, None, &[]);
        let took = t0.elapsed();
        out.code(0);
        // The hung server gets its share of the 4 s (2 s with two servers left), then the real one answers.
        assert!(took < Duration::from_millis(3500), "{args:?} took {took:?}");
        assert_eq!(
            out.stdout.lines().next(),
            sb.patctl(args).stdout.lines().next()
        );
    }
}

/// Compare-and-swap on znode versions and the watch, through the library, checked with kazoo.
fn library(sb: &ModeSandbox, zk: &Zk) {
    let dcs = settings(&sb.config(), false).dcs().unwrap().clone();
    assert_eq!(dcs.kind, DcsKind::Zookeeper);
    let prefix = format!("/service/{}/", scratch_scope("zkcas"));
    let root = prefix.trim_end_matches('/').to_string();
    let key = format!("{prefix}config");
    finally(
        || {
            block_on(async {
                let mut z = ZooKeeper::connect(&dcs).await.unwrap();
                assert!(z.put(&key, "v1", Expect::Absent).await.unwrap());
                assert_eq!(zk.get(&key), Some(("v1".to_string(), 0)));
                assert!(!z.put(&key, "lost", Expect::Absent).await.unwrap());
                assert!(!z
                    .put(&key, "lost", Expect::At(Version::new(1)))
                    .await
                    .unwrap());
                assert_eq!(zk.get(&key), Some(("v1".to_string(), 0)), "nothing written");
                // Version 0 is compared too (patronictl's `version or -1` would write unconditionally).
                assert!(z
                    .put(&key, "v2", Expect::At(Version::new(0)))
                    .await
                    .unwrap());
                assert_eq!(zk.get(&key), Some(("v2".to_string(), 1)));
                assert!(!z
                    .put(&key, "lost", Expect::At(Version::new(0)))
                    .await
                    .unwrap());
                let missing = format!("{prefix}failover");
                assert!(!z
                    .put(&missing, "x", Expect::At(Version::new(0)))
                    .await
                    .unwrap());
                assert_eq!(zk.get(&missing), None);
                let member = format!("{prefix}members/m1");
                assert!(z.put(&member, "{\"a\": 1}", Expect::Any).await.unwrap());
                assert!(z.put(&member, "{\"a\": 2}", Expect::Any).await.unwrap());
                let nodes = z.read_prefix(&prefix).await.unwrap();
                let kv: Vec<(&str, &str)> = nodes
                    .iter()
                    .map(|n| (n.key.as_str(), n.value.as_str()))
                    .collect();
                assert_eq!(kv, [("config", "v2"), ("members/m1", "{\"a\": 2}")]);

                // The first wait sets the watch up; then nothing changes for a second; then another client's
                // change ends the wait at once.
                assert!(z
                    .wait_for_change(&prefix, Duration::from_secs(5))
                    .await
                    .unwrap());
                let t0 = Instant::now();
                assert!(!z
                    .wait_for_change(&prefix, Duration::from_secs(1))
                    .await
                    .unwrap());
                assert!(t0.elapsed() >= Duration::from_secs(1));
                let hosts = zk.hosts.clone();
                let k = key.clone();
                let writer = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(300));
                    Zk { hosts }.set(&k, "v3");
                });
                let t0 = Instant::now();
                assert!(z
                    .wait_for_change(&prefix, Duration::from_secs(30))
                    .await
                    .unwrap());
                assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
                writer.join().unwrap();

                z.delete_prefix(&prefix).await.unwrap();
                assert_eq!(zk.get(&root), None);
                assert!(z.read_prefix(&prefix).await.unwrap().is_empty());
            })
        },
        || {
            zk.delete(&root);
        },
    );
}

/// `edit-config`: the same diff as patronictl's, and a concurrent change wins (exit 4, nothing lost).
fn edit_config(sb: &ModeSandbox, zk: &Zk) {
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
fn pause_resume(sb: &ModeSandbox) {
    let cfg = sb.config();
    let run = |ours: bool, what: &str| {
        let args = ["-c", cfg.as_str(), what, "--wait"];
        let out = if ours {
            patctl_raw(&args, None, &[])
        } else {
            patronictl_raw(&args, &[])
        };
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
fn events(sb: &ModeSandbox) {
    let cfg = sb.config();
    let (code, evs) =
        crate::events::events_during(&cfg, &["--until", "resume", "--wait-timeout", "60"], || {
            sb.patctl(&["pause", "--wait"]).code(0);
            sb.patctl(&["resume", "--wait"]).code(0);
        });
    assert_eq!(code, 0, "{evs:#?}");
    let main: Vec<&str> = crate::events::types(&evs)
        .into_iter()
        .filter(|t| ["config-change", "pause", "resume"].contains(t))
        .collect();
    assert_eq!(
        main,
        ["config-change", "pause", "config-change", "resume"],
        "{evs:#?}"
    );
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
fn switch_leaders(sb: &ModeSandbox) {
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
fn members(sb: &ModeSandbox, zk: &Zk) {
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
fn remove(sb: &ModeSandbox, zk: &Zk) {
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
fn stopped(sb: &ModeSandbox, zk: &Zk) {
    sb.sh(&["zk-stop"]);
    let expected = format!(
        "Error: DCS unreachable at {} (connection refused)\n",
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
        assert_eq!(out.stderr, expected, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
    }
}
