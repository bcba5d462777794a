//! `site status|switchover|failover` on two real sites started by `sandbox/sites.sh` (a cluster and
//! its Patroni standby cluster, each with its own etcd), stopped at the end, pass or fail: rows written
//! right up to the switch all arrive (count and checksum), roles exchange and a second switchover
//! restores them; a lagging standby site (its WAL receiver stopped) is refused by the pre-flight;
//! the standby site's Patroni killed during the LSN proof stops the switch with exit 10 and a report
//! of both sites; `site failover` refuses while the primary site answers.
//!
//! Starting two sites is the expensive part (about 40 s), so one test runs everything, in order.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

const SITES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sandbox/sites.sh");
const CLUSTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sandbox/cluster.sh");
const PATCTL: &str = env!("CARGO_BIN_EXE_patctl");

/// The two sites, on two consecutive port slots next to the main sandbox's (site A on the first, site B
/// on the second: `common::Slots`), taken down on drop.
struct Sites {
    dir: String,
    vars: Vec<(String, String)>,
    _slots: Slots,
}

impl Sites {
    fn up() -> Option<Sites> {
        if !sandbox() {
            return None;
        }
        let slots = Slots::take(2);
        let main = std::env::var("SANDBOX_DIR").unwrap_or_else(|_| "/tmp/patctl-sandbox".into());
        let base = format!("{main}-site");
        let [a, b] = [slots.ports(0), slots.ports(1)];
        let vars: Vec<(String, String)> = [
            ("SANDBOX_DIR", base.clone()),
            ("SANDBOX_ETCD_PORT", a[0].1.clone()),
            ("SANDBOX_PG_BASE", a[1].1.clone()),
            ("SANDBOX_API_BASE", a[2].1.clone()),
            ("SITE_B_ETCD_PORT", b[0].1.clone()),
            ("SITE_B_PG_BASE", b[1].1.clone()),
            ("SITE_B_API_BASE", b[2].1.clone()),
            ("SANDBOX_NODES", "2".into()),
            ("SANDBOX_FORCE", "1".into()),
            ("SANDBOX_TIMEOUT", "90".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let sites = Sites {
            dir: format!("{base}-sites"),
            vars,
            _slots: slots,
        };
        let out = sites.script(SITES, &[], &["up"]);
        if !out.status.success() {
            sites.script(SITES, &[], &["down"]);
            panic!(
                "the two sites did not come up:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Some(sites)
    }

    fn script(
        &self,
        script: &str,
        extra: &[(&str, String)],
        args: &[&str],
    ) -> std::process::Output {
        let mut cmd = Command::new("bash");
        cmd.arg(script).args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("SANDBOX_") || k.starts_with("ETCDCTL_") || k.starts_with("SITE") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    /// `cluster.sh ARGS` on site `a` or `b` (its recorded settings).
    fn site_sh(&self, site: &str, args: &[&str]) {
        let out = self.script(
            CLUSTER,
            &[("SANDBOX_DIR", format!("{}/{site}", self.dir))],
            args,
        );
        assert!(
            out.status.success(),
            "cluster.sh {args:?} on site {site}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn envs(&self) -> Vec<(String, String)> {
        vec![
            (
                "PATCTL_CONTEXTS".into(),
                format!("{}/contexts.yaml", self.dir),
            ),
            ("PGUSER".into(), "postgres".into()),
            ("PGPASSWORD".into(), "postgres".into()),
        ]
    }

    fn patctl(&self, args: &[&str]) -> Out {
        let envs = self.envs();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_isolated(PATCTL, args, &envs)
    }

    /// One SQL statement on a site's leader (or `member`), through `patctl query`; its tsv rows.
    fn sql(&self, site: &str, member: Option<&str>, sql: &str) -> Out {
        let config = format!("{}/{site}/node1/patroni.yml", self.dir);
        let mut args = vec!["-c", config.as_str(), "query", "-U", "postgres", "-c", sql];
        if let Some(m) = member {
            args.extend(["-m", m]);
        }
        self.patctl(&args)
    }

    #[track_caller]
    fn value(&self, site: &str, sql: &str) -> String {
        let out = self.sql(site, None, sql);
        out.code(0);
        out.stdout
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    fn status(&self, primary: &str, standby: &str) -> Value {
        let out = self.patctl(&[
            "-o",
            "json",
            "site",
            "status",
            "--primary",
            primary,
            "--standby",
            standby,
        ]);
        out.code(0);
        crate::schema::assert_valid("SiteStatus", &serde_json::from_str(&out.stdout).unwrap());
        serde_json::from_str::<Value>(&out.stdout).unwrap()["data"].clone()
    }

    /// Wait (bounded) until `site status` says ready with `primary` as the primary site.
    #[track_caller]
    fn wait_ready(&self, primary: &str, standby: &str) -> Value {
        let start = Instant::now();
        loop {
            let d = self.status(primary, standby);
            if d["ready"] == true {
                return d;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "not ready within 90 s: {d:#}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn switchover(&self, primary: &str, standby: &str, extra: &[&str]) -> (Out, Value) {
        let mut args = vec![
            "-o",
            "json",
            "site",
            "switchover",
            "--primary",
            primary,
            "--standby",
            standby,
            "--force",
        ];
        args.extend_from_slice(extra);
        let out = self.patctl(&args);
        let env: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
        crate::schema::assert_valid("SiteSwitchoverReport", &env);
        (out, env)
    }
}

impl Drop for Sites {
    fn drop(&mut self) {
        let out = self.script(SITES, &[], &["down"]);
        if !out.status.success() {
            let _ = writeln!(
                std::io::stderr(),
                "sites.sh down: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Count and checksum of the test table.
const SUM: &str =
    "SELECT count(*) || ' ' || md5(coalesce(string_agg(v, ',' ORDER BY v), '')) FROM site_rows";

#[test]
fn two_sites_switch_over_and_back_proven_by_lsn() {
    let Some(s) = Sites::up() else { return };

    // status: ready, the standby site streams from the primary site's leader
    let d = s.wait_ready("site-a", "site-b");
    assert_eq!(d["primary"]["role"], "primary", "{d:#}");
    assert_eq!(d["standby"]["role"], "standby_leader", "{d:#}");
    assert_eq!(d["sourceIsPrimaryLeader"], true, "{d:#}");

    // failover refuses while the primary site answers
    let out = s.patctl(&[
        "site",
        "failover",
        "--standby",
        "site-b",
        "--primary",
        "site-a",
        "--force",
    ]);
    out.code(1);
    assert!(
        out.stderr.contains("refusing to fail over"),
        "{}",
        out.stderr
    );
    let out = s.patctl(&["site", "failover", "--standby", "site-b", "--force"]);
    out.code(1);
    assert!(out.stderr.contains("replication source"), "{}", out.stderr);

    s.value("a", "CREATE TABLE site_rows (v text PRIMARY KEY); SELECT 1");

    // a standby site lagging beyond --max-lag (its WAL receiver stopped) is refused by the pre-flight
    let pid = s.value("b", "SELECT pid FROM pg_stat_wal_receiver");
    assert!(
        pid.parse::<u32>().is_ok(),
        "no WAL receiver on site B: {pid}"
    );
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {pid}");
    };
    signal("-STOP");
    let refused = finally(
        || {
            s.value(
                "a",
                "INSERT INTO site_rows SELECT 'lag' || i FROM generate_series(1, 2000) i; SELECT 1",
            );
            s.switchover("site-a", "site-b", &["--max-lag", "8192"])
        },
        || signal("-CONT"),
    );
    refused.0.code(1);
    assert!(
        refused.0.stderr.contains("more than --max-lag 8192"),
        "{}",
        refused.0.stderr
    );
    assert_eq!(refused.1["error"]["exitCode"], 1);
    s.wait_ready("site-a", "site-b");

    // rows written right up to the switch are all on the new primary
    let stop = Arc::new(AtomicBool::new(false));
    let first = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let first = first.clone();
        let config = format!("{}/a/node1/patroni.yml", s.dir);
        let envs = s.envs();
        std::thread::spawn(move || {
            let envs: Vec<(&str, &str)> =
                envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut ok = 0;
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let sql = format!("INSERT INTO site_rows VALUES ('w{i}'); SELECT 1");
                let out = run_isolated(
                    PATCTL,
                    &["-c", &config, "query", "-U", "postgres", "-c", &sql],
                    &envs,
                );
                if out.code == 0 && !out.stdout.contains("ERROR") {
                    ok += 1;
                    first.store(true, Ordering::Relaxed);
                }
            }
            ok
        })
    };
    // The switchover starts once the writer has written.
    wait_until("the writer's first row", Duration::from_secs(30), || {
        first.load(Ordering::Relaxed)
    });
    let (out, rep) = s.switchover("site-a", "site-b", &["--wait-timeout", "60"]);
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    out.code(0);
    assert!(written > 0, "the writer wrote nothing");
    let data = &rep["data"];
    assert_eq!(data["completed"], true, "{data:#}");
    let lsns = &data["lsns"];
    assert!(lsns["standbyReplayed"].as_str().is_some(), "{data:#}");
    assert!(out.stderr.contains("[4/7] lsn-proof"), "{}", out.stderr);
    let d = s.wait_ready("site-b", "site-a");
    assert_eq!(d["primary"]["role"], "primary");
    assert_eq!(d["standby"]["role"], "standby_leader");
    let on_b = s.value("b", SUM);
    let on_a = s.value("a", SUM);
    assert_eq!(on_b, on_a, "the sites differ after the switch");
    let count: usize = on_b.split(' ').next().unwrap().parse().unwrap();
    assert!(
        count >= 2000 + written,
        "{count} rows, {written} inserts acknowledged"
    );

    // and back
    let (out, rep) = s.switchover("site-b", "site-a", &["--wait-timeout", "60"]);
    out.code(0);
    assert_eq!(rep["data"]["completed"], true);
    let d = s.wait_ready("site-a", "site-b");
    assert_eq!(d["primary"]["cluster"], "demo");
    assert_eq!(s.value("a", SUM), on_b, "rows changed by the switch back");

    // the standby site's Patroni killed during the LSN proof: stopped there, exit 10, a report.
    // Its leader's replay is frozen (the startup process stopped: Patroni resumes a paused replay by
    // itself), so the proof waits; its Patroni is then killed (SIGKILL: the leader key stays until
    // its TTL, 20 s, longer than the 10 s wait, so the site's other member does not take over).
    let b_leader = s.status("site-a", "site-b")["standby"]["leader"]
        .as_str()
        .unwrap()
        .to_string();
    let startup = s.value(
        "b",
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'",
    );
    assert!(
        startup.parse::<u32>().is_ok(),
        "no startup process: {startup}"
    );
    let signal = |sig: &str, pid: &str| {
        let ok = Command::new("kill")
            .args([sig, pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {pid}");
    };
    signal("-STOP", &startup);
    let patroni_pid = std::fs::read_to_string(format!("{}/b/{b_leader}/patroni.pid", s.dir))
        .unwrap()
        .trim()
        .to_string();
    let result = finally(
        || {
            s.value(
                "a",
                "INSERT INTO site_rows SELECT 'pending' || i FROM generate_series(1, 100) i; SELECT 1",
            );
            stopped_switchover(&s, || signal("-KILL", &patroni_pid))
        },
        || signal("-CONT", &startup),
    );
    let (code, stderr, env) = result;
    assert_eq!(code, Some(10), "{stderr}\n{env:#}");
    crate::schema::assert_valid("SiteSwitchoverReport", &env);
    assert_eq!(env["error"]["category"], "stopped");
    let data = &env["data"];
    assert_eq!(data["failedStep"], "lsn-proof", "{data:#}");
    assert_eq!(
        data["sites"]["primary"]["role"], "standby_leader",
        "{data:#}"
    );
    let back = data["next"]["back"].as_str().unwrap().to_string();
    assert!(back.contains("promote-cluster demo --force"), "{back}");
    assert!(stderr.contains("to go back:"), "{stderr}");

    // go back as the report says, and the two sites are ready again
    s.site_sh("b", &["node-start", &b_leader]);
    let args: Vec<&str> = back.split_whitespace().skip(1).collect();
    s.patctl(&args).code(0);
    s.wait_ready("site-a", "site-b");
    assert_eq!(s.value("a", SUM), s.value("b", SUM));
}

/// `site switchover` from site A with a 10 s wait, `kill` run once it reached the LSN proof; its
/// exit code, stderr and report.
fn stopped_switchover(s: &Sites, kill: impl FnOnce()) -> (Option<i32>, String, Value) {
    let envs = s.envs();
    let mut child = Command::new(PATCTL)
        .args([
            "-o",
            "json",
            "site",
            "switchover",
            "--primary",
            "site-a",
            "--standby",
            "site-b",
            "--force",
            "--wait-timeout",
            "10",
        ])
        .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let started = Instant::now();
    while !seen.contains("[4/7] lsn-proof") {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 || started.elapsed() > Duration::from_secs(60)
        {
            break;
        }
        seen.push_str(&line);
    }
    assert!(seen.contains("[4/7] lsn-proof"), "{seen}");
    kill();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let env: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (output.status.code(), seen + &rest, env)
}
