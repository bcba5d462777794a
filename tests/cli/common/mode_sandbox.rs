//! Sandboxes of their own in a given mode (`sandbox/cluster.sh up` with SANDBOX_DCS / SANDBOX_TLS / …),
//! each on a slot of ports next to the main sandbox's (slot K: etcd and ZooKeeper +10·K, PostgreSQL
//! and REST +100·K), stopped at the end, pass or fail; and a throw-away TLS server (`openssl s_server`).
//!
//! Several run at once, next to the tests on the main sandbox: `PATCTL_MODE_SANDBOXES` slots [2]
//! (a test waits for a free one). Each slot is its own cluster, so its tests need no cluster lock.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::*;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sandbox/cluster.sh");

/// Which slots are taken (index 0 is slot 1).
static TAKEN: Mutex<Vec<bool>> = Mutex::new(Vec::new());
static FREED: Condvar = Condvar::new();

/// How many sandboxes of their own may run at once: `PATCTL_MODE_SANDBOXES` [2], 1 to 8.
fn slot_count() -> usize {
    std::env::var("PATCTL_MODE_SANDBOXES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2usize)
        .clamp(1, 8)
}

/// Consecutive port slots held by one test; freed on drop.
pub struct Slots {
    first: u16,
    count: usize,
}

impl Slots {
    /// Wait until `count` consecutive slots are free and take them.
    pub fn take(count: usize) -> Slots {
        let total = slot_count().max(count);
        let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
        if taken.len() < total {
            taken.resize(total, false);
        }
        loop {
            if let Some(i) = (0..=total - count).find(|&i| taken[i..i + count].iter().all(|t| !t)) {
                taken[i..i + count].iter_mut().for_each(|t| *t = true);
                return Slots {
                    first: i as u16 + 1,
                    count,
                };
            }
            taken = FREED.wait(taken).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The ports of the `k`th slot held (0-based), as SANDBOX_* settings for `cluster.sh`.
    pub fn ports(&self, k: u16) -> [(String, String); 4] {
        let s = self.first + k;
        [
            (
                "SANDBOX_ETCD_PORT",
                port_base("SANDBOX_ETCD_PORT", 2379) + 10 * s,
            ),
            (
                "SANDBOX_PG_BASE",
                port_base("SANDBOX_PG_BASE", 5432) + 100 * s,
            ),
            (
                "SANDBOX_API_BASE",
                port_base("SANDBOX_API_BASE", 8008) + 100 * s,
            ),
            (
                "SANDBOX_ZK_PORT",
                port_base("SANDBOX_ZK_PORT", 2181) + 10 * s,
            ),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
        let first = usize::from(self.first) - 1;
        taken[first..first + self.count]
            .iter_mut()
            .for_each(|t| *t = false);
        FREED.notify_all();
    }
}

/// A sandbox of its own, started in one mode and stopped (and removed, when the test passed) on drop.
pub struct ModeSandbox {
    pub dir: String,
    pub env: BTreeMap<String, String>,
    slots: Slots,
}

pub fn port_base(name: &str, default: u16) -> u16 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl ModeSandbox {
    /// `None` (the test is skipped) when the main sandbox is not up: a mode sandbox needs its install,
    /// and takes its ports from the main sandbox's settings.
    pub fn up(tag: &str, mode: &[(&str, &str)]) -> Option<ModeSandbox> {
        if !sandbox() {
            return None;
        }
        let slots = Slots::take(1);
        let main_dir =
            std::env::var("SANDBOX_DIR").unwrap_or_else(|_| "/tmp/patctl-sandbox".to_string());
        let dir = format!("{main_dir}-{tag}");
        let mut vars: Vec<(String, String)> = vec![("SANDBOX_DIR".into(), dir.clone())];
        vars.extend(slots.ports(0));
        vars.extend(
            [
                ("SANDBOX_FORCE", "1"),
                ("SANDBOX_TIMEOUT", "90"),
                ("SANDBOX_NODES", "2"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        vars.extend(mode.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut sb = ModeSandbox {
            dir,
            env: BTreeMap::new(),
            slots,
        };
        let out = sb.script(&vars, &["up"]);
        assert!(
            out.status.success(),
            "sandbox {tag} did not come up:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = sb.script(&vars, &["env"]);
        for line in String::from_utf8_lossy(&env.stdout).lines() {
            if let Some(rest) = line.strip_prefix("export ") {
                for kv in rest.split_whitespace() {
                    if let Some((k, v)) = kv.split_once('=') {
                        // printf %q escapes commas; the values hold no real backslashes.
                        sb.env.insert(k.to_string(), v.replace('\\', ""));
                    }
                }
            }
        }
        Some(sb)
    }

    /// Run sandbox/cluster.sh with only this sandbox's settings (none of the main sandbox's leak in).
    pub fn script(&self, vars: &[(String, String)], args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new("bash");
        cmd.arg(SCRIPT).args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("SANDBOX_") || k.starts_with("ETCDCTL_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("SANDBOX_DIR", &self.dir);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    /// `cluster.sh ARGS` for this sandbox (it reads its recorded settings).
    pub fn sh(&self, args: &[&str]) {
        let out = self.script(&[], args);
        assert!(
            out.status.success(),
            "cluster.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The REST API port of member `nodeI` of this sandbox.
    pub fn api_port(&self, i: u16) -> u16 {
        port_base("SANDBOX_API_BASE", 8008) + 100 * self.slots.first + i
    }

    pub fn var(&self, k: &str) -> &str {
        self.env
            .get(k)
            .unwrap_or_else(|| panic!("{k} not in the sandbox env"))
    }

    /// The `PATRONI_*` and `PG*` settings `cluster.sh env` printed (the ctl side of
    /// SANDBOX_TLS=selfsigned, configured by environment only).
    pub fn ctl_env(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .filter(|(k, _)| k.starts_with("PATRONI_") || k.starts_with("PG"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn config(&self) -> String {
        format!("{}/node1/patroni.yml", self.dir)
    }

    pub fn config_text(&self) -> String {
        std::fs::read_to_string(self.config()).unwrap()
    }

    pub fn tls(&self, file: &str) -> String {
        format!("{}/tls/{file}", self.dir)
    }

    pub fn patctl_with(&self, config: &str, args: &[&str]) -> Out {
        with_config(config, args, |full| patctl_raw(full, None, &[]))
    }

    pub fn patctl(&self, args: &[&str]) -> Out {
        self.patctl_with(&self.config(), args)
    }

    /// Both tools print the same and exit the same way (a few tries: LSNs move between the runs).
    #[track_caller]
    pub fn assert_same(&self, args: &[&str]) -> Out {
        let cfg = self.config();
        assert_same_run(args, |tool| {
            with_config(&cfg, args, |full| tool.run(full, None, &[]))
        })
    }

    /// A cluster read through the given config file answers with the sandbox's members.
    #[track_caller]
    pub fn assert_lists_members(&self, config: &str) {
        let out = self.patctl_with(config, &["list", "-f", "json"]);
        out.code(0);
        let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let names: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["Member"].as_str())
            .collect();
        assert_eq!(names, vec!["node1", "node2"], "{}", out.stdout);
    }
}

/// Wait (bounded by `timeout`) until `list_json` (`list -f json` through patctl) shows `nodes` members,
/// one leader running and every other member streaming; returns the leader's name.
#[track_caller]
pub fn wait_listed_healthy(nodes: usize, timeout: Duration, list_json: impl Fn() -> Out) -> String {
    let start = Instant::now();
    loop {
        let out = list_json();
        let rows: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap_or_default();
        let leader = rows
            .iter()
            .find(|r| r["Role"] == "Leader" && r["State"] == "running");
        let streaming = rows.iter().filter(|r| r["State"] == "streaming").count();
        if let (Some(l), true) = (leader, rows.len() == nodes && streaming == nodes - 1) {
            return l["Member"].as_str().unwrap().to_string();
        }
        assert!(
            start.elapsed() < timeout,
            "the cluster did not become healthy within {timeout:?}: {}{}",
            out.stdout,
            out.stderr
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

impl Drop for ModeSandbox {
    fn drop(&mut self) {
        // Keep data and logs of a failed test for a look; remove them otherwise.
        let sub = if std::thread::panicking() {
            "down"
        } else {
            "clean"
        };
        let _ = self.script(&[], &[sub]);
    }
}
