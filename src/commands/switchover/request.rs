//! The request and what follows it, as in patronictl: `POST /switchover` (or `/failover`) to the
//! leader with a bounded timeout, the result line and a fresh member table, `<Action> failed, details:`
//! for any other status, and the DCS fallback (an unconditional write of the `failover` key) when the
//! member cannot be reached. patctl adds the exit codes (1 rejected, 5 outcome unknown) and hands
//! over to [`super::follow`] for `--wait`.

use std::time::{Duration, Instant};

use crate::http_client::Method;

use super::follow::Sent;
use super::{follow, preflight, Action, Plan, Request};
use crate::api::{Failure, FailureKind, Response};
use crate::commands::members_table;
use crate::context::Context;
use crate::dcs::Expect;
use crate::error::{Error, Exit, Result};
use crate::model::Cluster;
use crate::output::machine::{member_outcome, Outcome};
use crate::output::members::Format;
use crate::output::Ui;
use crate::py::json;
use crate::time::timestamp;

/// How long the POST may take: the server holds an immediate request up to 2 × max(10, loop_wait)
/// seconds, so at least that plus a margin, and never less than 30 s or the global timeout.
fn post_timeout(ctx: &Context, cluster: &Cluster) -> Duration {
    let server_hold = 2 * cluster.loop_wait().max(10) as u64;
    Duration::from_secs((server_hold + 5).max(30)).max(ctx.settings.rest.timeout)
}

/// `--wait`'s default: the server's own limit plus time for the new leader to come up.
fn default_wait(cluster: &Cluster) -> Duration {
    Duration::from_secs(2 * cluster.loop_wait().max(10) as u64 + 30)
}

/// Send the request (re-sending a switchover to `/failover` on a pre-switchover Patroni).
async fn post(
    ctx: &mut Context<'_>,
    plan: &Plan,
    timeout: Duration,
) -> std::result::Result<Response, Failure> {
    let Some(target) = plan.target() else {
        return Err(Failure::new(
            FailureKind::NoUrl,
            "no member to send the request to",
        ));
    };
    let api = ctx.api().map_err(|e| Failure {
        hint: e.hint.clone(),
        ..Failure::new(FailureKind::Other, e.message.clone())
    })?;
    let body = plan.body();
    let endpoint = plan.action.name();
    let r = api
        .request(&target, Method::POST, endpoint, Some(&body), Some(timeout))
        .await?;
    if r.status == 501
        && plan.action == Action::Switchover
        && r.body.contains("Server does not support this operation")
    {
        return api
            .request(
                &target,
                Method::POST,
                "failover",
                Some(&body),
                Some(timeout),
            )
            .await;
    }
    Ok(r)
}

/// Send the request and act on the answer; in machine mode, report what was asked and what came of
/// it (as `data`, or beside the error).
pub(super) async fn execute(ctx: &mut Context<'_>, req: &Request, plan: Plan) -> Result<()> {
    let result = send_and_follow(ctx, req, &plan).await;
    match &result {
        Ok(()) => ctx.ui.emit(plan.data()),
        Err(_) => ctx.ui.set_partial(plan.data()),
    }
    result
}

/// Note the request's outcome for machine output: the member outcome shape of every write
/// (`member`, `outcome`, `httpStatus`, `response`, `message`) with `via` and `endpoint`.
fn record_request(plan: &Plan, via: &str, status: Option<u16>, answer: &str, outcome: &str) {
    let member = plan.target().map(|m| m.name);
    let outcome = match outcome {
        "succeeded" => Outcome::Succeeded,
        "failed" => Outcome::Failed,
        _ => Outcome::Unknown,
    };
    let (response, message) = match status {
        Some(_) => (Some(answer), None),
        None => (None, Some(answer.to_string())),
    };
    let mut entry = member_outcome(
        member.as_deref().unwrap_or_default(),
        outcome,
        status,
        response,
        message,
    );
    entry["member"] = serde_json::json!(member);
    entry["via"] = via.into();
    entry["endpoint"] = plan.action.name().into();
    plan.record("request", entry);
}

pub(super) async fn send_and_follow(
    ctx: &mut Context<'_>,
    req: &Request,
    plan: &Plan,
) -> Result<()> {
    let started = Instant::now();
    let wait = req.extra.wait && plan.scheduled.is_none();
    let deadline = started
        + req
            .extra
            .wait_timeout
            .unwrap_or_else(|| default_wait(&plan.cluster));
    let mut timeout = post_timeout(ctx, &plan.cluster);
    if wait {
        timeout = timeout.min(deadline.saturating_duration_since(Instant::now()));
    }
    let times = (started, deadline);
    match post(ctx, plan, timeout).await {
        Ok(r) if r.status == 200 || r.status == 202 => {
            record_request(plan, "rest", Some(r.status), &r.body, "succeeded");
            accepted(ctx, plan, r, wait, times).await
        }
        Ok(r) if r.status == 503 && r.body.ends_with("status unknown") && wait => {
            record_request(plan, "rest", Some(r.status), &r.body, "unknown");
            // Patroni stopped waiting, not the switch: keep following it.
            let why = format!("Patroni answered 503 \"{}\"", r.body);
            unknown(ctx, plan, why, Some((times, Sent::KeyWritten))).await
        }
        Ok(r) => {
            ctx.ui.line(&format!(
                "{} failed, details: {}, {}",
                plan.action.title(),
                r.status,
                r.body
            ));
            if r.status == 503 && r.body.ends_with("status unknown") {
                record_request(plan, "rest", Some(r.status), &r.body, "unknown");
                let why = "Patroni stopped waiting for it".to_string();
                return unknown(ctx, plan, why, None).await;
            }
            record_request(plan, "rest", Some(r.status), &r.body, "failed");
            if r.status == 412 || r.status == 503 {
                preflight::explain_rejection(ctx, plan).await;
            }
            let e = Error::silent(Exit::Failure);
            Err(match ctx.api()?.status_hint(r.status, &r.body) {
                Some(h) => e.with_hint(h),
                None => e,
            })
        }
        Err(f) if f.kind == FailureKind::Timeout => {
            record_request(plan, "rest", None, &f.message, "unknown");
            // The request may never have been handled, so no failover key is assumed.
            unknown(ctx, plan, f.message, wait.then_some((times, Sent::Unknown))).await
        }
        Err(f) => fall_back_to_dcs(ctx, plan, f, wait, times).await,
    }
}

/// The request went out but its result is not known: follow the cluster (`--wait`, with whether the
/// failover key is known to be written), else exit 5.
async fn unknown(
    ctx: &mut Context<'_>,
    plan: &Plan,
    why: String,
    follow: Option<((Instant, Instant), Sent)>,
) -> Result<()> {
    let Some((times, sent)) = follow else {
        return Err(Error::unknown(format!(
            "{why}: the {} outcome is unknown",
            plan.action.name()
        ))
        .with_hint("check `patctl list`, or run it with --wait to follow the switch to its end"));
    };
    ctx.ui
        .err_line(&format!("{} {why}; following the cluster", timestamp(6)));
    let fresh = read_after_request(ctx, plan).await?;
    follow::run(ctx, plan, times, fresh, sent).await
}

/// Read the cluster after the request went out: failing now leaves the outcome unknown (exit 5).
async fn read_after_request(ctx: &mut Context<'_>, plan: &Plan) -> Result<Cluster> {
    ctx.cluster(&plan.name, plan.group).await.map_err(|e| {
        let message = format!(
            "{}; the {} request was made but its outcome is unknown",
            e.message,
            plan.action.name()
        );
        e.wrap(Exit::Unknown, message)
    })
}

/// A 200 (switched) or 202 (scheduled): the result line, then the table of a fresh read, or with
/// `--wait` the follow-up until the new leader runs.
async fn accepted(
    ctx: &mut Context<'_>,
    plan: &Plan,
    r: Response,
    wait: bool,
    times: (Instant, Instant),
) -> Result<()> {
    ctx.ui.line(&format!("{} {}", timestamp(6), r.body));
    let fresh = match ctx.cluster(&plan.name, plan.group).await {
        Ok(c) => c,
        Err(e) => {
            // Patroni confirmed the switch; only the table afterwards is missing.
            ctx.ui
                .warning(&format!("cannot show the cluster: {}", e.message));
            return Ok(());
        }
    };
    if wait && r.status == 200 {
        return follow::run(ctx, plan, times, fresh, Sent::Confirmed).await;
    }
    ctx.ui.out(&members_table(
        ctx,
        &fresh,
        &plan.name,
        plan.group,
        Format::Pretty,
    ));
    Ok(())
}

/// patronictl's fallback when the request could not be made: write the `failover` key
/// unconditionally, print the table read before, then read the DCS back to say what happened.
async fn fall_back_to_dcs(
    ctx: &mut Context<'_>,
    plan: &Plan,
    failure: Failure,
    wait: bool,
    times: (Instant, Instant),
) -> Result<()> {
    ctx.ui
        .warning(&format!("Failing over to DCS ({})", failure.message));
    ctx.ui.line(&format!(
        "{} Could not {} using Patroni api, falling back to DCS",
        timestamp(6),
        plan.action.name()
    ));
    let value = json::dumps_compact(&plan.failover_value());
    record_request(plan, "dcs", None, &value, "unknown");
    ctx.dcs()
        .await?
        .set_failover(&plan.name, plan.group, &value, Expect::Any)
        .await?;
    ctx.ui.out(&members_table(
        ctx,
        &plan.cluster,
        &plan.name,
        plan.group,
        Format::Pretty,
    ));
    let fresh = read_after_request(ctx, plan).await?;
    if wait {
        return follow::run(ctx, plan, times, fresh, Sent::KeyWritten).await;
    }
    let verdict = report_fallback(ctx.ui, plan, &fresh, &value);
    if verdict.is_ok() {
        record_request(plan, "dcs", None, &value, "succeeded");
    }
    verdict
}

/// What the DCS shows right after the fallback write.
fn report_fallback(ui: &Ui, plan: &Plan, fresh: &Cluster, written: &str) -> Result<()> {
    let old_leader = plan.cluster.leader_name();
    let new_leader = fresh.leader_name();
    if new_leader.is_some() && new_leader != old_leader {
        ui.err_line(&format!("{} is the leader now", new_leader.unwrap_or("")));
        return Ok(());
    }
    let stored = fresh.failover.as_ref();
    let matches = stored.is_some_and(|f| {
        f.leader.as_deref() == plan.leader.as_deref().filter(|l| !l.is_empty())
            && f.candidate.as_deref() == plan.wanted()
            && f.scheduled_at.is_some() == plan.scheduled.is_some()
    });
    if !matches {
        return Err(Error::failure(format!(
            "the failover key was written ({written}) but the DCS no longer holds it and {} is still the leader",
            old_leader.unwrap_or("nobody")
        )));
    }
    if plan.scheduled.is_some() {
        ui.err_line(&format!("Scheduled through the DCS: {written}"));
        return Ok(());
    }
    Err(Error::unknown(format!(
        "the failover key is set ({written}) but the {} is not confirmed yet; check `patctl list` or use --wait",
        plan.action.name()
    )))
}
