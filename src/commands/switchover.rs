//! `switchover` and `failover`, mirroring patronictl's `_do_failover_or_switchover`: the topology
//! table, the `Primary` / `Candidate` / schedule prompts and the confirmation with patronictl's exact
//! texts, defaults and checks, `POST /switchover` (or `/failover`) to the leader, and the DCS fallback
//! (`manual_failover`: an unconditional write of the `failover` key) when the member cannot be reached.
//!
//! Beyond patronictl: every REST call is bounded, the exit code says what happened (0 only when the
//! switch happened or was scheduled, 1 for a rejection or abort, 5 when the outcome is unknown),
//! `--wait` follows the switch in the DCS until the new leader runs ([`follow`]), and `--dry-run`
//! checks every member without writing anything ([`preflight`]).

mod decide;
mod follow;
pub mod handoff;
mod preflight;
mod request;
mod stages;

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use clap::Args;
use serde_json::{json, Map, Value};

use super::members_table;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::{Cluster, Member};
use crate::output::members::Format;
use crate::py::datetime::isoformat;
use decide::{confirm, decide, prompt_group, CITUS_GROUP_REQUIRED};
pub use preflight::pg::{self, PgArgs};
use request::execute;

/// `switchover [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct SwitchoverArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// The name of the current leader
    #[arg(long = "leader", visible_alias = "primary", value_name = "TEXT")]
    pub leader: Option<String>,
    /// The name of the candidate
    #[arg(long, value_name = "TEXT")]
    pub candidate: Option<String>,
    /// Timestamp of a scheduled switchover in unambiguous format (e.g. ISO 8601)
    #[arg(long, value_name = "TEXT")]
    pub scheduled: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub extra: ExtraArgs,
}

/// `failover [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// The name of the candidate
    #[arg(long, value_name = "TEXT")]
    pub candidate: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub extra: ExtraArgs,
}

/// patctl's additions to `switchover` and `failover`.
#[derive(Debug, Args)]
pub struct ExtraArgs {
    /// After the request, follow the cluster until it is healthy again: the new leader runs as
    /// primary on a new timeline (else exit 6), the former leader streams from it (else 7), every
    /// replica streams within the lag limit (else 8); each stage is reported with its elapsed time
    #[arg(long, conflicts_with = "dry_run")]
    pub wait: bool,
    /// The lag limit for --wait and --dry-run, in bytes [default: maximum_lag_on_failover]
    #[arg(long = "max-lag", value_name = "BYTES")]
    pub max_lag: Option<u64>,
    /// With --wait: how long to follow the switch, in seconds [default: 2 × max(10, loop_wait) + 30]
    #[arg(long = "wait-timeout", alias = "timeout", value_name = "SECONDS", requires = "wait", value_parser = crate::time::wait_seconds)]
    pub wait_timeout: Option<Duration>,
    /// Check every member (tags, state, timeline, lag, sync, REST API) and say whether the switch can
    /// go ahead (exit 0) or not (exit 1); nothing is written and nothing is asked
    #[arg(long)]
    pub dry_run: bool,
    /// The PostgreSQL pre-flight (the leader's long and prepared transactions, slots, archiving)
    #[command(flatten)]
    pub pg: PgArgs,
}

/// Which of the two commands runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Switchover,
    Failover,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Switchover => "switchover",
            Action::Failover => "failover",
        }
    }

    /// Python's `action.title()`.
    fn title(self) -> &'static str {
        match self {
            Action::Switchover => "Switchover",
            Action::Failover => "Failover",
        }
    }
}

/// The command line of either command, in one shape.
#[derive(Debug)]
struct Request {
    action: Action,
    cluster_name: Option<String>,
    group: Option<i64>,
    leader: Option<String>,
    candidate: Option<String>,
    scheduled: Option<String>,
    force: bool,
    extra: ExtraArgs,
}

/// What was decided after the prompts and checks: everything the request needs.
struct Plan {
    action: Action,
    name: String,
    group: Option<i64>,
    /// The cluster as read before the prompts (patronictl prints it again after a DCS fallback).
    cluster: Cluster,
    /// The switchover leader (`None` for failover).
    leader: Option<String>,
    /// `None` is sent as `null` (`--force` without `--candidate`), `Some("")` as `""` (empty answer).
    candidate: Option<String>,
    scheduled: Option<DateTime<FixedOffset>>,
    /// The lag limit of the `replicas` stage, in bytes.
    max_lag: i64,
    /// The PostgreSQL pre-flight's options.
    pg: PgArgs,
    /// What the command did so far, for machine output (`request`, `wait`, `newLeader`, …).
    record: std::cell::RefCell<Map<String, Value>>,
}

impl Plan {
    /// Note one part of the outcome for machine output.
    fn record(&self, key: &str, value: Value) {
        self.record.borrow_mut().insert(key.to_string(), value);
    }

    /// The machine output of a switchover or failover: what was asked, what Patroni answered, the
    /// `--wait` stages.
    fn data(&self) -> Value {
        let mut m = Map::new();
        m.insert("action".into(), json!(self.action.name()));
        m.insert("cluster".into(), json!(self.name));
        m.insert("group".into(), json!(self.group));
        m.insert("leader".into(), json!(self.cluster.leader_name()));
        m.insert("candidate".into(), json!(self.wanted()));
        m.insert(
            "scheduledAt".into(),
            json!(self.scheduled.as_ref().map(|t| t.to_rfc3339())),
        );
        let rec = self.record.borrow();
        for key in ["request", "newLeader", "wait", "rejection"] {
            m.insert(key.into(), rec.get(key).cloned().unwrap_or(Value::Null));
        }
        Value::Object(m)
    }

    /// The REST body, keys in patronictl's order: candidate, leader, scheduled_at.
    fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("candidate".into(), json!(self.candidate));
        if self.action == Action::Switchover {
            m.insert("leader".into(), json!(self.leader));
        }
        if let Some(t) = &self.scheduled {
            m.insert("scheduled_at".into(), json!(isoformat(t)));
        }
        Value::Object(m)
    }

    /// The `failover` key as Patroni's `manual_failover` writes it: empty fields left out, the
    /// candidate stored as `member`.
    fn failover_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(l) = self.leader.as_deref().filter(|l| !l.is_empty()) {
            m.insert("leader".into(), json!(l));
        }
        if let Some(c) = self.wanted() {
            m.insert("member".into(), json!(c));
        }
        if let Some(t) = &self.scheduled {
            m.insert("scheduled_at".into(), json!(isoformat(t)));
        }
        Value::Object(m)
    }

    /// The candidate, when one was named.
    fn wanted(&self) -> Option<&str> {
        self.candidate.as_deref().filter(|c| !c.is_empty())
    }

    /// The member the request goes to: the leader (a bare stub when its member key is missing, so
    /// the request fails and the DCS fallback runs, as in patronictl), else the candidate.
    fn target(&self) -> Option<Member> {
        match self.cluster.leader_name() {
            Some(l) => Some(
                self.cluster
                    .leader_member()
                    .cloned()
                    .unwrap_or_else(|| Member::from_node(l, None, None, "{}")),
            ),
            None => self.wanted().and_then(|c| self.cluster.member(c).cloned()),
        }
    }
}

/// Run `switchover`.
pub async fn cmd_switchover(ctx: &mut Context<'_>, args: SwitchoverArgs) -> Result<()> {
    run(
        ctx,
        Request {
            action: Action::Switchover,
            cluster_name: args.cluster_name,
            group: args.group,
            leader: args.leader,
            candidate: args.candidate,
            scheduled: args.scheduled,
            force: args.force,
            extra: args.extra,
        },
    )
    .await
}

/// Run `failover`.
pub async fn cmd_failover(ctx: &mut Context<'_>, args: FailoverArgs) -> Result<()> {
    run(
        ctx,
        Request {
            action: Action::Failover,
            cluster_name: args.cluster_name,
            group: args.group,
            leader: None,
            candidate: args.candidate,
            scheduled: None,
            force: args.force,
            extra: args.extra,
        },
    )
    .await
}

async fn run(ctx: &mut Context<'_>, req: Request) -> Result<()> {
    let name = ctx.cluster_name(req.cluster_name.clone())?;
    if req.extra.dry_run {
        ctx.ui.set_kind("SwitchoverPlan");
        return preflight::run(ctx, &req, &name).await;
    }
    let mut group = req.group;
    let mut cluster = ctx.cluster(&name, group).await?;
    ctx.ui.line("Current cluster topology");
    ctx.ui
        .out(&members_table(ctx, &cluster, &name, group, Format::Pretty));
    if ctx.settings.citus && group.is_none() {
        if req.force {
            return Err(Error::failure(CITUS_GROUP_REQUIRED));
        }
        group = Some(prompt_group(ctx.ui)?);
        cluster = ctx.cluster(&name, group).await?;
    }
    let plan = decide(ctx.ui, &req, name, group, cluster)?;
    preflight::refuse_if_strict(ctx, &plan).await?;
    if !req.force {
        // On a terminal the DBA sees what Patroni will judge before saying yes (on stderr: the
        // prompts and stdout stay patronictl's).
        if ctx.ui.err_is_tty() && ctx.ui.machine().is_none() {
            preflight::show_before_confirm(ctx, &plan).await;
        }
        confirm(ctx.ui, &plan)?;
    }
    if req.extra.wait && plan.scheduled.is_some() {
        ctx.ui
            .err_line("Note: --wait does not apply to a scheduled switchover");
    }
    execute(ctx, &req, plan).await
}
