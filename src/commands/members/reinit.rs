//! `reinit`: `POST /reinitialize` per member (with the "cancel it and reinitialize anyway?" retry),
//! and the bounded `--wait` until each member streams again.

use std::time::{Duration, Instant};

use crate::http_client::Method;
use clap::Args;
use serde_json::Value;

use super::report::{asked, check_response, emit, transport_report, Report, Tally};
use super::select::{confirm_members_action, get_members, Selection};
use crate::api::{Api, Failure, Response};
use crate::commands::fanout::{in_parallel, Job};
use crate::commands::Role;
use crate::context::Context;
use crate::error::{Error, Exit, Result};
use crate::model::health::replica::from_rest;
use crate::model::health::{replication, Replication};
use crate::model::Member;
use crate::output::machine::{member_outcome, Outcome};
use crate::output::Ui;

/// `reinit CLUSTER_NAME [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct ReinitArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members to reinitialize
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    /// Get basebackup from leader
    #[arg(long = "from-leader")]
    pub from_leader: bool,
    /// Wait until reinitialization completes
    #[arg(long)]
    pub wait: bool,
    /// patctl: with --wait, give up after this many seconds (exit 5, outcome unknown)
    #[arg(long = "wait-timeout", value_name = "SECONDS", default_value = "600", value_parser = crate::time::wait_seconds)]
    pub wait_timeout: Duration,
}

/// How often `reinit --wait` polls, as patronictl.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// A reinitialized replica that runs without streaming (archive recovery only) counts as done after this.
const NOT_STREAMING_GRACE: Duration = Duration::from_secs(15);
/// States after which a reinitialization will not complete by itself.
const FAILED_STATES: [&str; 6] = [
    "start failed",
    "stop failed",
    "restart failed",
    "crashed",
    "initdb failed",
    "custom bootstrap failed",
];

/// A member's `GET /patroni` before the reinit, to tell a finished reinit from one not yet begun.
#[derive(Default, Clone)]
struct Baseline {
    state: Option<String>,
    start_time: Option<String>,
}

/// The first `POST /reinitialize` of one member (and its baseline when waiting).
struct FirstTry {
    baseline: Baseline,
    result: std::result::Result<Response, Failure>,
}

async fn patroni_status(api: &Api, m: &Member) -> Option<Value> {
    let r = api
        .request(m, Method::GET, "patroni", None, None)
        .await
        .ok()?;
    serde_json::from_str::<Value>(&r.body)
        .ok()
        .filter(Value::is_object)
}

async fn reinit_first(api: &Api, m: &Member, body: Value, wait: bool) -> FirstTry {
    let mut baseline = Baseline::default();
    if wait {
        if let Some(s) = patroni_status(api, m).await {
            baseline.state = s["state"].as_str().map(String::from);
            baseline.start_time = s["postmaster_start_time"].as_str().map(String::from);
        }
    }
    let result = api
        .request(m, Method::POST, "reinitialize", Some(&body), None)
        .await;
    FirstTry { baseline, result }
}

fn reinit_body(force: bool, from_leader: bool) -> Value {
    serde_json::json!({"force": force, "from_leader": from_leader})
}

/// Run `reinit`.
pub async fn cmd_reinit(ctx: &mut Context<'_>, args: ReinitArgs) -> Result<()> {
    let cluster = ctx.cluster(&args.cluster_name, args.group).await?;
    let selection = Selection {
        cluster_name: &args.cluster_name,
        names: &args.member_names,
        role: Role::Replica,
        group: args.group,
        force: args.force,
        action: "reinitialize",
        quoted_role: false,
    };
    let members = get_members(ctx, &cluster, &selection)?;
    let ui = ctx.ui;
    confirm_members_action(ui, &members, args.force, "reinitialize", None, false)?;
    let api = ctx.api()?;
    let jobs: Vec<Job<FirstTry>> = members
        .iter()
        .map(|m| {
            let body = reinit_body(args.force, args.from_leader);
            Box::pin(reinit_first(api, m, body, args.wait)) as Job<FirstTry>
        })
        .collect();
    let mut first = Vec::new();
    in_parallel(jobs, |t| first.push(t)).await;

    let mut tally = Tally::new(api);
    let mut waiting = Vec::new();
    let mut data = asked("reinitialize", &args.cluster_name, args.group, &members);
    data.insert("fromLeader".into(), args.from_leader.into());
    for (m, t) in members.iter().copied().zip(first) {
        let started = reinit_outcome(ui, api, m, &args, t.result, &mut tally).await;
        let started = started.inspect_err(|_| {
            data.insert("members".into(), tally.members());
            data.insert("wait".into(), Value::Null);
            ui.set_partial(Value::Object(data.clone()));
        })?;
        if started && args.wait {
            waiting.push(Waiter::new(m, t.baseline));
        }
    }
    let mut stages = Vec::new();
    if !waiting.is_empty() {
        let waited = wait_for_reinit(ui, api, waiting, args.wait_timeout, &mut tally, &mut stages);
        if let Err(e) = waited.await {
            data.insert("members".into(), tally.members());
            data.insert("wait".into(), Value::Array(stages));
            ui.set_partial(Value::Object(data));
            return Err(e);
        }
    }
    data.insert(
        "wait".into(),
        if args.wait {
            Value::Array(stages)
        } else {
            Value::Null
        },
    );
    tally.conclude(ui, data)
}

/// One member's `--wait` stage for machine output: `completed`, `failed` or `timedOut`, with the
/// last state seen.
fn stage(member: &str, result: &str, state: &str) -> Value {
    serde_json::json!({"member": member, "result": result, "lastState": state})
}

/// Print one member's reinitialize result; on `… already in progress` offer to force it, as
/// patronictl does. Returns whether the reinitialization started.
async fn reinit_outcome(
    ui: &Ui,
    api: &Api,
    m: &Member,
    args: &ReinitArgs,
    mut result: std::result::Result<Response, Failure>,
    tally: &mut Tally,
) -> Result<bool> {
    loop {
        let r = match result {
            Ok(r) => r,
            Err(f) => {
                emit(ui, tally, transport_report("reinitialize", &m.name, &f));
                return Ok(false);
            }
        };
        let (line, started) = check_response(&r, &m.name, "reinitialize", false);
        if let Some(l) = &line {
            ui.line(l);
        }
        if !started
            && r.body.ends_with(" already in progress")
            && !args.force
            && ui.confirm("Do you want to cancel it and reinitialize anyway?")?
        {
            let body = reinit_body(true, args.from_leader);
            result = api
                .request(m, Method::POST, "reinitialize", Some(&body), None)
                .await;
            continue;
        }
        let verdict = if started {
            Exit::Success
        } else {
            Exit::Failure
        };
        tally.add(verdict);
        tally.add_member(member_outcome(
            &m.name,
            Outcome::of_exit(verdict),
            Some(r.status),
            Some(&r.body),
            line,
        ));
        return Ok(started);
    }
}

/// A member `reinit --wait` is watching.
struct Waiter<'c> {
    member: &'c Member,
    baseline: Baseline,
    /// A state other than the one before the reinit was seen.
    changed: bool,
    /// When it was first seen running but not streaming.
    running_since: Option<Instant>,
    /// Last state seen, for progress and the timeout message.
    last: String,
}

/// Where a watched member stands after one poll.
enum Stage {
    Waiting,
    Completed,
    Failed,
}

impl<'c> Waiter<'c> {
    fn new(member: &'c Member, baseline: Baseline) -> Waiter<'c> {
        Waiter {
            member,
            baseline,
            changed: false,
            running_since: None,
            last: "requested".to_string(),
        }
    }

    /// Judge one `GET /patroni` answer (`None`: no usable answer, e.g. while PostgreSQL restarts).
    fn judge(&mut self, status: Option<Value>) -> Stage {
        let Some(s) = status else {
            self.last = "no answer".to_string();
            return Stage::Waiting;
        };
        let state = s["state"].as_str().unwrap_or("unknown").to_string();
        if Some(state.as_str()) != self.baseline.state.as_deref() {
            self.changed = true;
        }
        self.last = state.clone();
        if state != "running" {
            self.running_since = None;
            let failed = self.changed && FAILED_STATES.contains(&state.as_str());
            return if failed {
                Stage::Failed
            } else {
                Stage::Waiting
            };
        }
        let start = s["postmaster_start_time"].as_str();
        let restarted = self.changed
            || self.baseline.start_time.is_none()
            || start != self.baseline.start_time.as_deref();
        if !restarted {
            self.last = "running (reinitialize not started yet)".to_string();
            return Stage::Waiting;
        }
        // The one health judgement, on what the REST API says.
        match replication(&from_rest("", &s)) {
            Replication::Streaming | Replication::Archive => return Stage::Completed,
            Replication::Unknown(_) => self.last = "running, streaming unknown".to_string(),
            _ => self.last = "running, not streaming yet".to_string(),
        }
        let since = *self.running_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= NOT_STREAMING_GRACE {
            Stage::Completed
        } else {
            Stage::Waiting
        }
    }
}

/// patronictl's `--wait` loop, bounded: every 2 s poll the members still reinitializing; print
/// `Waiting for reinitialize to complete on: …` whenever that set changes and
/// `Reinitialize is completed on: …` as each one streams again.
async fn wait_for_reinit(
    ui: &Ui,
    api: &Api,
    mut waiting: Vec<Waiter<'_>>,
    limit: Duration,
    tally: &mut Tally,
    stages: &mut Vec<Value>,
) -> Result<()> {
    let started = Instant::now();
    let progress = Progress { ui, started };
    let mut shown: Vec<String> = Vec::new();
    while !waiting.is_empty() {
        let names: Vec<String> = waiting.iter().map(|w| w.member.name.clone()).collect();
        if names != shown {
            progress.clear();
            ui.line(&format!(
                "Waiting for reinitialize to complete on: {}",
                names.join(", ")
            ));
            shown = names;
        }
        let left = limit.saturating_sub(started.elapsed());
        if left.is_zero() {
            progress.clear();
            for w in &waiting {
                stages.push(stage(&w.member.name, "timedOut", &w.last));
            }
            return Err(Error::unknown(format!(
                "reinitialize did not complete within {}s on: {}",
                limit.as_secs_f64(),
                waiting
                    .iter()
                    .map(|w| format!("{} ({})", w.member.name, w.last))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        tokio::time::sleep(left.min(POLL_INTERVAL)).await;
        let jobs: Vec<Job<Option<Value>>> = waiting
            .iter()
            .map(|w| Box::pin(patroni_status(api, w.member)) as Job<Option<Value>>)
            .collect();
        let mut answers = Vec::new();
        in_parallel(jobs, |a| answers.push(a)).await;
        let mut still = Vec::new();
        for (mut w, answer) in waiting.into_iter().zip(answers) {
            match w.judge(answer) {
                Stage::Waiting => still.push(w),
                Stage::Completed => {
                    progress.clear();
                    stages.push(stage(&w.member.name, "completed", &w.last));
                    ui.line(&format!("Reinitialize is completed on: {}", w.member.name));
                }
                Stage::Failed => {
                    progress.clear();
                    stages.push(stage(&w.member.name, "failed", &w.last));
                    emit(
                        ui,
                        tally,
                        Report::new(
                            format!(
                                "Failed: reinitialize on member {}, state: {}",
                                w.member.name, w.last
                            ),
                            Exit::Failure,
                        ),
                    );
                }
            }
        }
        waiting = still;
        progress.show(&waiting, limit);
    }
    Ok(())
}

/// The one-line progress display of `reinit --wait` on stderr, only on a terminal.
struct Progress<'u> {
    ui: &'u Ui,
    started: Instant,
}

impl Progress<'_> {
    fn show(&self, waiting: &[Waiter], limit: Duration) {
        if !self.ui.err_is_tty() || waiting.is_empty() {
            return;
        }
        let states = waiting
            .iter()
            .map(|w| format!("{}: {}", w.member.name, w.last))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "  {}s/{}s  {}",
            self.started.elapsed().as_secs(),
            limit.as_secs(),
            states
        );
        self.ui.status(&text);
    }

    fn clear(&self) {
        if self.ui.err_is_tty() {
            self.ui.status_done();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiter_needs_a_real_restart() {
        let m = Member::from_node("n", None, None, "{}");
        let base = Baseline {
            state: Some("running".into()),
            start_time: Some("t0".into()),
        };
        let mut w = Waiter::new(&m, base);
        let running = |t: &str| {
            Some(
                serde_json::json!({"state": "running", "postmaster_start_time": t, "replication_state": "streaming"}),
            )
        };
        assert!(matches!(w.judge(running("t0")), Stage::Waiting));
        assert!(matches!(w.judge(None), Stage::Waiting));
        assert!(matches!(
            w.judge(Some(serde_json::json!({"state": "creating replica"}))),
            Stage::Waiting
        ));
        assert!(matches!(w.judge(running("t1")), Stage::Completed));
        let mut w = Waiter::new(&m, Baseline::default());
        assert!(matches!(
            w.judge(Some(serde_json::json!({"state": "start failed"}))),
            Stage::Failed
        ));
    }
}
