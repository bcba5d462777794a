//! `events` on the sandbox: `-o json` during a real switchover, pause/resume and edit-config, each
//! expected event once and in order; `--since-revision` after the stream was gone loses nothing;
//! an etcd restart under a running stream is said in it and the stream goes on.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::common::*;

const HEALTHY: Duration = Duration::from_secs(90);

/// A running `patctl events …`, its envelope lines collected by a thread.
struct Stream {
    child: Child,
    lines: mpsc::Receiver<Value>,
    reader: Option<std::thread::JoinHandle<()>>,
    /// Envelopes already taken from `lines` by [`Stream::wait_for`].
    seen: Vec<Value>,
}

impl Stream {
    fn start(args: &[&str]) -> Stream {
        Stream::start_with(&config(), args)
    }

    fn start_with(cfg: &str, args: &[&str]) -> Stream {
        let mut child = Command::new(env!("CARGO_BIN_EXE_patctl"))
            .args(["-c", cfg, "events", "-o", "json"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        // The watch is open once `Watching …` is on stderr (bounded by the caller's limits: the
        // process ends at its --wait-timeout, closing stderr).
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        err.read_line(&mut first).unwrap();
        assert!(
            first.starts_with("Watching "),
            "events did not start: {first:?}"
        );
        std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        let (tx, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(|l| l.ok()) {
                let v: Value = serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Stream {
            child,
            lines,
            reader: Some(reader),
            seen: Vec::new(),
        }
    }

    /// Wait (bounded by `limit`) until the stream has shown an event of type `t`.
    fn wait_for(&mut self, t: &str, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let env = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {t} event within {limit:?}: {:#?}", self.seen));
            let found = env["data"]["type"] == t;
            self.seen.push(env);
            if found {
                return;
            }
        }
    }

    /// Wait (bounded) for the process to end; its exit code and every envelope's `data`.
    fn finish(mut self, limit: Duration) -> (i32, Vec<Value>) {
        let start = std::time::Instant::now();
        let code = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s.code().unwrap_or(-1);
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("events did not end within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        // Every line the process wrote is read once the reader has seen the end of its stdout.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let rest: Vec<Value> = self.lines.try_iter().collect();
        let data = std::mem::take(&mut self.seen)
            .into_iter()
            .chain(rest)
            .map(|env| {
                assert_eq!(env["apiVersion"], "patctl/v1");
                assert_eq!(env["kind"], "Event");
                env["data"].clone()
            })
            .collect();
        (code, data)
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `events -o json ARGS` with config `cfg` while `actions` run (the stream must end by itself,
/// through `--until` or `--count`); its exit code and events. For the mode sandboxes.
pub(crate) fn events_during(cfg: &str, args: &[&str], actions: impl FnOnce()) -> (i32, Vec<Value>) {
    let stream = Stream::start_with(cfg, args);
    actions();
    stream.finish(Duration::from_secs(90))
}

/// `events` on a mode sandbox while it is paused and resumed once (`--wait` both): the stream ends by
/// itself at `resume`, and its config-change, pause and resume events come in order. Its events.
pub(crate) fn pause_resume_events(sb: &ModeSandbox) -> Vec<Value> {
    let args = ["--until", "resume", "--wait-timeout", "60"];
    let (code, evs) = events_during(&sb.config(), &args, || {
        sb.patctl(&["pause", "--wait"]).code(0);
        sb.patctl(&["resume", "--wait"]).code(0);
    });
    assert_eq!(code, 0, "{evs:#?}");
    let main: Vec<&str> = types(&evs)
        .into_iter()
        .filter(|t| ["config-change", "pause", "resume"].contains(t))
        .collect();
    assert_eq!(
        main,
        ["config-change", "pause", "config-change", "resume"],
        "{evs:#?}"
    );
    evs
}

/// The types of the events, in order.
pub(crate) fn types(evs: &[Value]) -> Vec<&str> {
    evs.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// The events of the demo cluster of the given types, in the order they came.
fn only<'a>(evs: &'a [Value], kinds: &[&str]) -> Vec<&'a Value> {
    evs.iter()
        .filter(|e| kinds.contains(&e["type"].as_str().unwrap()))
        .collect()
}

/// No event twice: (type, revision, member) is unique, and revisions never go back.
fn assert_once_in_order(evs: &[Value]) {
    let mut seen = std::collections::HashSet::new();
    let mut last = 0;
    for e in evs {
        let rev = e["revision"]
            .as_i64()
            .expect("etcd v3 events carry a revision");
        assert!(rev >= last, "revision went back at {e}");
        last = rev;
        let id = (e["type"].to_string(), rev, e["member"].to_string());
        assert!(seen.insert(id), "repeated: {e}");
    }
}

#[test]
fn switchover_pause_and_edit_config_arrive_once_in_order() {
    let Some(_g) = write_lock() else { return };
    let leader = wait_healthy(HEALTHY);
    let candidate = if leader == "node1" { "node2" } else { "node1" };
    let stream = Stream::start(&["--until", "history-appended", "--wait-timeout", "120"]);
    patctl(&["pause", "--wait"]).code(0);
    patctl(&["resume", "--wait"]).code(0);
    patctl(&[
        "edit-config",
        "--force",
        "-s",
        "maximum_lag_on_failover=1048577",
    ])
    .code(0);
    patctl(&["switchover", "--candidate", candidate, "--force", "--wait"]).code(0);
    let (code, evs) = stream.finish(Duration::from_secs(90));
    patctl(&[
        "edit-config",
        "--force",
        "-s",
        "maximum_lag_on_failover=1048576",
    ])
    .code(0);
    assert_eq!(code, 0, "{evs:#?}");
    assert!(evs.iter().all(|e| e["cluster"] == "demo"), "{evs:#?}");
    assert_once_in_order(&evs);
    let main = only(
        &evs,
        &[
            "pause",
            "resume",
            "config-change",
            "failover-set",
            "failover-cleared",
            "history-appended",
        ],
    );
    let names: Vec<&str> = main.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "config-change",
            "pause",
            "config-change",
            "resume",
            "config-change",
            "failover-set",
            "failover-cleared",
            "history-appended"
        ],
        "{evs:#?}"
    );
    assert_eq!(main[0]["keys"], serde_json::json!(["pause"]));
    assert_eq!(
        main[4]["keys"],
        serde_json::json!(["maximum_lag_on_failover"])
    );
    assert_eq!(main[5]["to"], candidate);
    assert_eq!(main[7]["member"], candidate);
    // The leader key went from the old leader to the candidate (directly, or through no leader),
    // before the failover key was cleared.
    let changes = only(&evs, &["leader-change"]);
    assert_eq!(changes.first().unwrap()["from"], leader.as_str());
    let last = changes.last().unwrap();
    assert_eq!(last["to"], candidate);
    assert!(last["timeline"].as_i64().unwrap() >= 1);
    let pos = |t: &str| types(&evs).iter().position(|x| *x == t).unwrap();
    assert!(pos("failover-set") < pos("leader-change"));
    assert_eq!(wait_healthy(HEALTHY), candidate);
}

#[test]
fn since_revision_after_the_stream_was_gone_loses_nothing() {
    let Some(_g) = write_lock() else { return };
    wait_healthy(HEALTHY);
    let stream = Stream::start(&["--until", "pause", "--wait-timeout", "30"]);
    patctl(&["pause", "--wait"]).code(0);
    let (code, evs) = stream.finish(Duration::from_secs(30));
    assert_eq!(code, 0);
    assert_eq!(types(&evs).last(), Some(&"pause"));
    let seen = evs.last().unwrap()["revision"].as_i64().unwrap();
    // While nothing watches: resume, and a config change.
    patctl(&["resume", "--wait"]).code(0);
    patctl(&[
        "edit-config",
        "--force",
        "-s",
        "maximum_lag_on_failover=1048578",
    ])
    .code(0);
    patctl(&[
        "edit-config",
        "--force",
        "-s",
        "maximum_lag_on_failover=1048576",
    ])
    .code(0);
    let out = patctl(&[
        "events",
        "-o",
        "json",
        "--since-revision",
        &seen.to_string(),
        "--count",
        "4",
        "--wait-timeout",
        "10",
    ]);
    out.code(0);
    let evs: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["data"].clone())
        .collect();
    assert_once_in_order(&evs);
    let kinds: Vec<&str> = only(&evs, &["config-change", "resume", "pause"])
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["config-change", "resume", "config-change", "config-change"],
        "{evs:#?}"
    );
    assert!(evs.iter().all(|e| e["revision"].as_i64().unwrap() > seen));
    // A stream that ends in an error ends with the error envelope, on one line too.
    let out = patctl(&[
        "events",
        "-o",
        "json",
        "--until",
        "pause",
        "--wait-timeout",
        "0.5",
    ]);
    out.code(1);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    let env: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(env["kind"], "Event");
    assert_eq!(env["error"]["message"], "no pause event within 0.5s");
}

#[test]
fn an_etcd_restart_is_said_in_the_stream_and_it_goes_on() {
    let Some(_g) = write_lock() else { return };
    wait_healthy(HEALTHY);
    // Paused, Patroni does not demote the leader while etcd is away.
    patctl(&["pause", "--wait"]).code(0);
    let mut stream = Stream::start(&["--until", "resume", "--wait-timeout", "60"]);
    finally(
        || {
            sandbox_cmd(&["etcd-stop", "1"]);
            // etcd comes back once the stream has said it is gone.
            let seen = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                stream.wait_for("dcs-disconnected", Duration::from_secs(30))
            }));
            sandbox_cmd(&["etcd-start", "1"]);
            if let Err(e) = seen {
                std::panic::resume_unwind(e);
            }
        },
        || resume_and_settle(HEALTHY),
    );
    let (code, evs) = stream.finish(Duration::from_secs(60));
    assert_eq!(code, 0, "{evs:#?}");
    let kinds = types(&evs);
    let at = |t: &str| {
        kinds
            .iter()
            .position(|x| *x == t)
            .unwrap_or_else(|| panic!("no {t}: {evs:#?}"))
    };
    assert!(at("dcs-disconnected") < at("dcs-reconnected"));
    assert!(at("dcs-reconnected") < at("resume"));
    assert_eq!(
        kinds.iter().filter(|t| **t == "dcs-disconnected").count(),
        1
    );
    wait_healthy(HEALTHY);
}
