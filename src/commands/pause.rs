//! `pause` and `resume`, mirroring patronictl's `toggle_pause` and `wait_until_pause_is_applied`:
//! `PATCH /config` with `{"pause": true}` (or `{"pause": null}`) to the first member that answers,
//! leader first, then optionally wait until every member publishes the new state in its member key.
//!
//! Deliberate differences: every request and the wait are bounded; a rejection (`Failed: …`) exits 1
//! instead of 0 (5, with a hint, when it is Patroni's 409 after a member that timed out); an
//! unreachable cluster exits 3 (5 when a request timed out and may have been applied); `--wait`
//! watches the DCS instead of polling, allows `2*loop_wait + 5` seconds instead of `loop_wait + 1`,
//! and reports every member that did not acknowledge (exit 5) instead of only those whose member key
//! changed.

use std::time::{Duration, Instant};

use crate::http_client::Method;
use clap::Args;
use serde_json::{json, Value};

use crate::api::FailureKind;
use crate::context::Context;
use crate::error::{Error, Exit, Result};
use crate::model::{Cluster, Member};
use crate::output::machine::{member_outcome, Outcome};
use crate::py::truth::truthy;

/// `pause [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Wait until pause is applied on all nodes
    #[arg(long)]
    pub wait: bool,
}

/// `resume [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Wait until pause is cleared on all nodes
    #[arg(long)]
    pub wait: bool,
}

/// Run `pause`.
pub async fn cmd_pause(ctx: &mut Context<'_>, args: PauseArgs) -> Result<()> {
    toggle_pause(ctx, args.cluster_name, args.group, true, args.wait).await
}

/// Run `resume`.
pub async fn cmd_resume(ctx: &mut Context<'_>, args: ResumeArgs) -> Result<()> {
    toggle_pause(ctx, args.cluster_name, args.group, false, args.wait).await
}

fn verb(paused: bool) -> &'static str {
    if paused {
        "pause"
    } else {
        "resume"
    }
}

fn success_line(paused: bool) -> String {
    format!(
        "Success: cluster management is {}",
        if paused { "paused" } else { "resumed" }
    )
}

/// patronictl's `toggle_pause`.
async fn toggle_pause(
    ctx: &mut Context<'_>,
    name: Option<String>,
    group: Option<i64>,
    paused: bool,
    wait: bool,
) -> Result<()> {
    let name = ctx.cluster_name(name)?;
    let group = ctx.default_group(group);
    let cluster = ctx.cluster(&name, group).await?;
    if cluster.is_paused() == paused {
        return Err(Error::failure(format!(
            "Cluster is {} paused",
            if paused { "already" } else { "not" }
        )));
    }
    // `{"pause": null}` removes the key on the server (its PATCH merges with patch_config).
    let body = json!({ "pause": if paused { Value::Bool(true) } else { Value::Null } });
    let mut timed_out = Vec::new();
    // Machine output: what was asked, each member tried (in order) and the wait.
    let mut data = serde_json::Map::new();
    data.insert("action".into(), verb(paused).into());
    data.insert("cluster".into(), name.clone().into());
    data.insert("group".into(), group.into());
    data.insert("request".into(), body.clone());
    let mut tried = Vec::new();
    // The first member's failure with a hint (else the first one): its cause and hint go with the
    // final error. A refusal is not always told the same way by each member (TLS 1.3's "certificate
    // required" alert may arrive as a plain shutdown), so one that says why wins.
    let mut first: Option<crate::api::Failure> = None;
    let report = |data: &mut serde_json::Map<String, Value>, tried: &[Value], wait: Value| {
        data.insert("members".into(), Value::Array(tried.to_vec()));
        data.insert("wait".into(), wait);
        Value::Object(data.clone())
    };
    for member in cluster.members_leader_first() {
        let r = ctx
            .api()?
            .request(member, Method::PATCH, "config", Some(&body), None)
            .await;
        let resp = match r {
            Ok(resp) => resp,
            Err(f) => {
                ctx.ui.warning(&f.message);
                ctx.ui
                    .warning(&format!("Member {} is not accessible", member.name));
                if f.kind == FailureKind::Timeout {
                    timed_out.push(member.name.clone());
                }
                let outcome = Outcome::of_exit(f.exit());
                let entry =
                    member_outcome(&member.name, outcome, None, None, Some(f.message.clone()));
                tried.push(entry);
                if first
                    .as_ref()
                    .is_none_or(|kept| kept.hint.is_none() && f.hint.is_some())
                {
                    first = Some(f);
                }
                continue;
            }
        };
        if resp.status != 200 {
            let line = format!(
                "Failed: {} cluster management status code={}, ({})",
                verb(paused),
                resp.status,
                resp.body
            );
            ctx.ui.line(&line);
            tried.push(member_outcome(
                &member.name,
                Outcome::Failed,
                Some(resp.status),
                Some(&resp.body),
                Some(line),
            ));
            ctx.ui.set_partial(report(&mut data, &tried, Value::Null));
            let e = rejection(resp.status, &timed_out, paused);
            return Err(
                match (&e.hint, ctx.api()?.status_hint(resp.status, &resp.body)) {
                    (None, Some(h)) => e.with_hint(h),
                    _ => e,
                },
            );
        }
        tried.push(member_outcome(
            &member.name,
            Outcome::Succeeded,
            Some(resp.status),
            Some(&resp.body),
            None,
        ));
        if wait {
            let mut stage = Value::Null;
            let waited = wait_until_applied(ctx, &name, group, paused, &cluster, &mut stage).await;
            return ctx.ui.emit_result(waited, report(&mut data, &tried, stage));
        }
        ctx.ui.line(&success_line(paused));
        ctx.ui.emit(report(&mut data, &tried, Value::Null));
        return Ok(());
    }
    ctx.ui.set_partial(report(&mut data, &tried, Value::Null));
    let e = if timed_out.is_empty() {
        Error::unreachable("Can not find accessible cluster member")
    } else {
        Error::unknown(format!(
            "Can not find accessible cluster member (no answer in time from {}: the request may have been applied)",
            timed_out.join(", ")
        ))
    };
    Err(match first {
        Some(f) => {
            let hint = f.hint.clone();
            let e = e.with_source(Error::from(f));
            match hint {
                Some(h) => e.with_hint(h),
                None => e,
            }
        }
        None => e,
    })
}

/// A member's refusal, after `timed_out` members did not answer in time. Patroni answers 409 when its
/// compare-and-swap of the configuration lost: after a member that timed out (typically Patroni
/// reconnecting to a restarted DCS) that is most likely the change it applied all the same, so the
/// outcome is unknown (exit 5) and the hint says how to tell; any other refusal exits 1.
fn rejection(status: u16, timed_out: &[String], paused: bool) -> Error {
    if status != 409 || timed_out.is_empty() {
        return Error::silent(Exit::Failure);
    }
    Error::silent(Exit::Unknown).with_hint(format!(
        "{} did not answer in time and may have applied the change; `patctl list` shows whether the \
         cluster is {}",
        timed_out.join(", "),
        if paused { "paused" } else { "resumed" }
    ))
}

/// Whether a member publishes the wanted pause state (a missing `pause` means not paused).
fn acknowledged(m: &Member, paused: bool) -> bool {
    m.data.get("pause").is_some_and(truthy) == paused
}

/// patronictl's `wait_until_pause_is_applied`, bounded by `2*loop_wait + 5` seconds: wait for every
/// member that existed before (and has an API URL) to publish the new state.
async fn wait_until_applied(
    ctx: &mut Context<'_>,
    name: &str,
    group: Option<i64>,
    paused: bool,
    old: &Cluster,
    stage: &mut Value,
) -> Result<()> {
    ctx.ui.line(&format!(
        "'{}' request sent, waiting until it is recognized by all nodes",
        verb(paused)
    ));
    let watched: Vec<&str> = old
        .members
        .iter()
        .filter(|m| m.api_url().is_some())
        .map(|m| m.name.as_str())
        .collect();
    let loop_wait = u64::try_from(old.loop_wait()).unwrap_or(10).max(1);
    let limit = Duration::from_secs(2 * loop_wait + 5);
    let start = Instant::now();
    loop {
        let cluster = ctx.cluster(name, group).await?;
        let remaining: Vec<&str> = cluster
            .members
            .iter()
            .filter(|m| watched.contains(&m.name.as_str()) && !acknowledged(m, paused))
            .map(|m| m.name.as_str())
            .collect();
        *stage = json!({
            "members": watched,
            "pending": remaining,
            "timeoutSeconds": limit.as_secs_f64(),
            "elapsedSeconds": start.elapsed().as_secs_f64(),
        });
        let progress = ctx.ui.err_is_tty();
        if remaining.is_empty() {
            if progress {
                ctx.ui.status_done();
            }
            ctx.ui.line(&success_line(paused));
            return Ok(());
        }
        let left = limit.saturating_sub(start.elapsed());
        if progress {
            ctx.ui.status(&format!(
                "  {}s/{}s  waiting for: {}",
                start.elapsed().as_secs(),
                limit.as_secs(),
                remaining.join(", ")
            ));
        }
        if left.is_zero() {
            if progress {
                ctx.ui.status_done();
            }
            ctx.ui.line(&format!(
                "{} members didn't recognized pause state after {} seconds",
                remaining.join(", "),
                limit.as_secs()
            ));
            return Err(Error::silent(Exit::Unknown));
        }
        // Wake on the next change under the prefix, but re-read at least every second.
        let step = left.min(Duration::from_secs(1));
        ctx.dcs().await?.wait_for_change(name, group, step).await?;
    }
}
