//! `--wait`: follow a switchover or failover in the DCS (an etcd watch on the cluster prefix that
//! starts right after the last read, a ZooKeeper persistent watch; never a sleep loop) through the
//! three [`stages`](super::stages) — new leader, former leader rejoined, replicas streaming within the
//! lag limit — showing progress on stderr, then print the member table, a stage summary (stderr) and
//! how long it took. The exit code names the first stage not reached within `--wait-timeout`.
//!
//! patronictl has no such wait; its server side polls the first of these conditions for
//! 2 × max(10, loop_wait) seconds (`poll_failover_result`): a new leader means success, a `failover`
//! key removed while the old leader keeps the lock means failure.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::stages::{judge, Baseline, Check, StageName};
use super::Plan;
use crate::commands::members_table;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::output::machine::now_rfc3339;
use crate::output::members::Format;
use crate::output::Ui;

/// One stage as followed so far: when it was first seen reached, and the latest judgement.
#[derive(Debug, Clone)]
pub(super) struct Stage {
    pub(super) name: StageName,
    /// Seconds since the request went out, and the wall-clock time it was noticed.
    pub(super) reached: Option<(f64, String)>,
    pub(super) last: Option<Check>,
}

impl Stage {
    /// The stage as machine output: name, reached, elapsedSeconds, noticedAt, goal, seen, details.
    pub(super) fn to_json(&self) -> Value {
        let last = self.last.as_ref();
        json!({
            "name": self.name.as_str(),
            "reached": self.reached.is_some(),
            "elapsedSeconds": self.reached.as_ref().map(|(s, _)| (s * 1000.0).round() / 1000.0),
            "noticedAt": self.reached.as_ref().map(|(_, t)| t.clone()),
            "goal": self.name.goal(),
            "seen": last.map(|c| c.seen.clone()),
            "blocking": last.map(|c| c.blocking.clone()).unwrap_or_default(),
            "details": last.map(|c| c.details.clone()).unwrap_or(Value::Null),
        })
    }
}

/// The stages of one wait, in order.
pub(super) struct Stages {
    pub(super) list: Vec<Stage>,
}

impl Stages {
    fn new() -> Stages {
        Stages {
            list: StageName::ALL
                .iter()
                .map(|&name| Stage {
                    name,
                    reached: None,
                    last: None,
                })
                .collect(),
        }
    }

    /// Take in one read's judgement; returns the stages newly reached.
    fn update(&mut self, checks: Vec<(StageName, Check)>, started: Instant) -> Vec<StageName> {
        let mut newly = Vec::new();
        let now = now_rfc3339();
        let elapsed = started.elapsed().as_secs_f64();
        for (name, check) in checks {
            let Some(stage) = self.list.iter_mut().find(|s| s.name == name) else {
                continue;
            };
            if check.ok && stage.reached.is_none() {
                stage.reached = Some((elapsed, now.clone()));
                newly.push(name);
            }
            stage.last = Some(check);
        }
        newly
    }

    fn all_reached(&self) -> bool {
        self.list.iter().all(|s| s.reached.is_some())
    }

    /// The first stage not reached yet.
    fn pending(&self) -> Option<&Stage> {
        self.list.iter().find(|s| s.reached.is_none())
    }

    pub(super) fn to_json(&self) -> Value {
        Value::Array(self.list.iter().map(Stage::to_json).collect())
    }

    /// The summary printed on stderr when the wait ends, one line per stage.
    fn summary(&self) -> String {
        let mut out = String::from("Stages:\n");
        for s in &self.list {
            let (verdict, time) = match &s.reached {
                Some((e, _)) => ("reached", format!("{e:6.1} s")),
                None => ("NOT reached", "       -".to_string()),
            };
            let seen = s
                .last
                .as_ref()
                .map(|c| c.seen.as_str())
                .unwrap_or("not judged yet");
            out.push_str(&format!(
                "  {:<9} {verdict:<11} {time}  {seen}\n",
                s.name.as_str()
            ));
        }
        out
    }
}

/// Where the switch stands in one DCS read.
enum State {
    /// Every stage is reached.
    Done,
    /// The request was dropped and the old leader kept the lock.
    Failed(String),
    /// Still under way; the text says what is seen.
    Pending(String),
}

/// The progress display: one rewritten line on a terminal, a plain line per new state otherwise.
struct Progress<'a> {
    ui: &'a Ui,
    tty: bool,
    last: String,
    shown: bool,
}

impl<'a> Progress<'a> {
    fn new(ui: &'a Ui) -> Self {
        Progress {
            ui,
            tty: ui.err_is_tty(),
            last: String::new(),
            shown: false,
        }
    }

    fn show(&mut self, stage: &str, started: Instant, seen: &str) {
        let elapsed = started.elapsed().as_secs_f64();
        if self.tty {
            self.ui
                .status(&format!("Waiting for {stage} ({elapsed:.1} s): {seen}"));
            self.shown = true;
        } else if seen != self.last {
            self.ui
                .err_line(&format!("{elapsed:6.1} s  {stage}: {seen}"));
        }
        self.last = seen.to_string();
    }

    fn reached(&mut self, started: Instant, name: StageName, seen: &str) {
        self.finish();
        self.ui.err_line(&format!(
            "{:6.1} s  {} reached: {seen}",
            started.elapsed().as_secs_f64(),
            name.as_str()
        ));
    }

    fn finish(&mut self) {
        if self.shown {
            self.ui.status_done();
            self.shown = false;
        }
    }
}

/// How the request itself ended, which decides the exit code of a leader stage not reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sent {
    /// Patroni answered that the switch happened (200).
    Confirmed,
    /// The `failover` key is known to be written (DCS fallback, 503 "status unknown").
    KeyWritten,
    /// The request may never have arrived (timeout).
    Unknown,
}

/// Follow the switch until every stage is reached, it failed, or `deadline` passes. `cluster` is the
/// latest read; progress is measured from `started`, when the request went out.
pub(super) async fn run(
    ctx: &mut Context<'_>,
    plan: &Plan,
    (started, deadline): (Instant, Instant),
    mut cluster: Cluster,
    sent: Sent,
) -> Result<()> {
    let ui = ctx.ui;
    let base = Baseline::of(&plan.cluster, plan.max_lag);
    let old_leader = plan.cluster.leader_name();
    let mut stages = Stages::new();
    let mut progress = Progress::new(ui);
    let mut known = sent != Sent::Unknown;
    let mut new_leader: Option<String> = None;
    loop {
        known |= cluster.failover.is_some();
        let judged = judge(&cluster, &base);
        if judged.new_leader.is_some() {
            new_leader = judged.new_leader.clone();
        }
        for name in stages.update(judged.checks, started) {
            let seen = stages
                .list
                .iter()
                .find(|s| s.name == name)
                .and_then(|s| s.last.as_ref())
                .map(|c| c.seen.clone())
                .unwrap_or_default();
            progress.reached(started, name, &seen);
        }
        let state = if stages.all_reached() {
            State::Done
        } else if known
            && new_leader.is_none()
            && cluster.failover.is_none()
            && cluster.leader_name().is_some()
            && cluster.leader_name() == old_leader
        {
            State::Failed(format!(
                "the failover key was removed and {} is still the leader",
                old_leader.unwrap_or_default()
            ))
        } else {
            let p = stages
                .pending()
                .map(|s| s.last.as_ref().map(|c| c.seen.clone()).unwrap_or_default())
                .unwrap_or_default();
            State::Pending(p)
        };
        plan.record("wait", wait_json(plan, &stages, deadline, started));
        plan.record("newLeader", json!(new_leader));
        match state {
            State::Done => {
                progress.finish();
                ui.out(&final_table(ctx, plan, &cluster));
                ui.err_raw(&stages.summary());
                let leader = new_leader.clone().unwrap_or_default();
                ui.line(&completed_line(plan, started, &leader));
                return Ok(());
            }
            State::Failed(why) => {
                progress.finish();
                ui.out(&final_table(ctx, plan, &cluster));
                return Err(Error::failure(format!(
                    "{} failed: {why}",
                    plan.action.title()
                )));
            }
            State::Pending(seen) => {
                let stage = stages
                    .pending()
                    .map(|s| s.name)
                    .unwrap_or(StageName::Leader);
                progress.show(stage.as_str(), started, &seen);
                let now = Instant::now();
                if now >= deadline {
                    progress.finish();
                    ui.out(&final_table(ctx, plan, &cluster));
                    ui.err_raw(&stages.summary());
                    return Err(timed_out(
                        plan,
                        &stages,
                        started,
                        sent,
                        new_leader.as_deref(),
                    ));
                }
                let mut slice = deadline - now;
                if progress.tty {
                    // Only to keep the elapsed time on the status line ticking.
                    slice = slice.min(Duration::from_secs(1));
                }
                if watch(ctx, plan, slice).await? {
                    cluster = ctx
                        .cluster(&plan.name, plan.group)
                        .await
                        .map_err(lost_dcs)?;
                }
            }
        }
    }
}

/// The `wait` object of the machine output.
fn wait_json(plan: &Plan, stages: &Stages, deadline: Instant, started: Instant) -> Value {
    json!({
        "timeoutSeconds": (deadline.saturating_duration_since(started).as_secs_f64() * 1000.0).round() / 1000.0,
        "maxLagBytes": plan.max_lag,
        "completed": stages.all_reached(),
        "stages": stages.to_json(),
    })
}

/// The error of a wait that ran out: the first stage not reached names the exit code. A leader stage
/// not reached while nothing confirms the request was even taken up stays "outcome unknown" (5).
fn timed_out(
    plan: &Plan,
    stages: &Stages,
    started: Instant,
    sent: Sent,
    new_leader: Option<&str>,
) -> Error {
    let elapsed = started.elapsed().as_secs_f64();
    let Some(stage) = stages.pending() else {
        return Error::unknown("the wait ended without a verdict");
    };
    let seen = stage
        .last
        .as_ref()
        .map(|c| c.seen.clone())
        .unwrap_or_else(|| "nothing judged yet".into());
    if stage.name == StageName::Leader && new_leader.is_none() && sent != Sent::Confirmed {
        return Error::unknown(format!(
            "{} not confirmed after {elapsed:.1} s ({seen}); check `patctl list`",
            plan.action.title()
        ));
    }
    Error::with_exit(
        stage.name.exit(),
        format!(
            "{} {}: {} not reached within {elapsed:.1} s ({seen})",
            plan.action.title(),
            if stage.name == StageName::Leader {
                "not complete"
            } else {
                "done"
            },
            stage.name.as_str(),
        ),
    )
    .with_hint(format!(
        "the stage means {}; check `patctl list`",
        stage.name.goal()
    ))
}

async fn watch(ctx: &mut Context<'_>, plan: &Plan, slice: Duration) -> Result<bool> {
    ctx.dcs()
        .await
        .map_err(lost_dcs)?
        .wait_for_change(&plan.name, plan.group, slice)
        .await
        .map_err(lost_dcs)
}

/// The request went out, so losing the DCS now leaves the outcome unknown (exit 5).
fn lost_dcs(e: Error) -> Error {
    let message = format!(
        "{}; the request was sent but its outcome is unknown",
        e.message
    );
    e.wrap(crate::error::Exit::Unknown, message)
}

/// `Switchover completed in 4.2 s: node2 is the leader`.
fn completed_line(plan: &Plan, started: Instant, leader: &str) -> String {
    let mut line = format!(
        "{} completed in {:.1} s: {leader} is the leader",
        plan.action.title(),
        started.elapsed().as_secs_f64()
    );
    if let Some(w) = plan.wanted().filter(|w| *w != leader) {
        line.push_str(&format!(" (instead of {w})"));
    }
    line
}

/// The member table printed when the wait ends, whichever way it ends.
fn final_table(ctx: &Context, plan: &Plan, cluster: &Cluster) -> String {
    members_table(ctx, cluster, &plan.name, plan.group, Format::Pretty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcs::Version;
    use crate::model::Node;

    #[test]
    fn stages_are_reached_once_and_summarised() {
        let c = Cluster::from_nodes(&[
            Node {
                key: "leader".into(),
                value: "node2".into(),
                version: Version::new(1),
                session: None,
            },
            Node {
                key: "members/node2".into(),
                value: r#"{"state":"running","role":"primary","timeline":2}"#.into(),
                version: Version::new(1),
                session: None,
            },
        ]);
        let base = Baseline {
            old_leader: Some("node1".into()),
            old_timeline: Some(1),
            max_lag: 10,
            standby: false,
        };
        let mut st = Stages::new();
        let started = Instant::now();
        assert_eq!(
            st.update(judge(&c, &base).checks, started),
            vec![StageName::Leader]
        );
        assert!(st.update(judge(&c, &base).checks, started).is_empty());
        assert_eq!(st.pending().map(|s| s.name), Some(StageName::Rejoin));
        let j = st.to_json();
        assert_eq!(j[0]["reached"], true);
        assert_eq!(j[1]["reached"], false);
        assert_eq!(j[1]["blocking"], json!(["node1"]));
        assert_eq!(j[2]["seen"], Value::Null);
        let text = st.summary();
        assert!(
            text.contains("  rejoin    NOT reached        -  node1: no member key"),
            "{text}"
        );
    }
}
