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
use crate::dcs::{block_on, settings, with_hosts, READ_COMMANDS};

mod writes;
use writes::*;

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
                // The writer writes every 300 ms until the change is seen: a write made before
                // the watch is set is not lost to the test, the next one is seen.
                let seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let writer = {
                    let seen = seen.clone();
                    std::thread::spawn(move || {
                        while !seen.load(std::sync::atomic::Ordering::Relaxed) {
                            std::thread::sleep(Duration::from_millis(300));
                            Zk {
                                hosts: hosts.clone(),
                            }
                            .set(&k, "v3");
                        }
                    })
                };
                let t0 = Instant::now();
                let changed = z.wait_for_change(&prefix, Duration::from_secs(30)).await;
                seen.store(true, std::sync::atomic::Ordering::Relaxed);
                writer.join().unwrap();
                assert!(changed.unwrap());
                assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());

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
