//! The switchover as one step of another command (`rollout`'s leader step): the candidate the
//! pre-flight picks (Patroni's own choice, [`super::preflight`]), then the request and `--wait`'s
//! follower ([`super::follow`]) exactly as `switchover --force --wait` runs them, with the text it
//! prints sent to stderr so that the calling command keeps stdout.

use std::time::Duration;

use serde_json::Value;

use super::decide::decide;
use super::preflight::{assess, Query};
use super::request::send_and_follow;
use super::{Action, ExtraArgs, Request};
use crate::context::Context;
use crate::error::Result;

/// What the pre-flight says about a switchover now.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Whether the switchover can go ahead.
    pub go: bool,
    /// The member to switch over to: the one pinned, else the one Patroni would promote (the first of
    /// those equally placed).
    pub candidate: Option<String>,
    /// Why not (`go` false), or why this candidate.
    pub why: String,
}

/// Judge a switchover of cluster `name` to `pinned` (or to the best member) with the pre-flight of
/// `switchover --dry-run`.
pub async fn choose(
    ctx: &mut Context<'_>,
    name: &str,
    pinned: Option<&str>,
    max_lag: Option<u64>,
    pg: &super::PgArgs,
) -> Result<Choice> {
    let cluster = ctx.cluster(name, None).await?;
    let q = Query {
        action: Action::Switchover,
        leader: None,
        candidate: pinned.map(String::from),
        scheduled: None,
        max_lag,
        pg: pg.clone(),
    };
    let a = assess(ctx, &q, name, cluster).await?;
    let failing: Vec<String> = a
        .rows
        .iter()
        .filter(|r| !r.pass() && pinned.is_none_or(|p| p == r.name))
        .map(|r| format!("{}: {}", r.name, r.reasons.join("; ")))
        .collect();
    if !a.go {
        let mut why = a.problems.clone();
        why.extend(failing);
        return Ok(Choice {
            go: false,
            candidate: pinned.map(String::from),
            why: why.join("; "),
        });
    }
    Ok(match (pinned, a.predicted) {
        (Some(p), _) => Choice {
            go: true,
            candidate: Some(p.to_string()),
            why: "pinned by --candidate".into(),
        },
        (None, Some(pred)) => Choice {
            go: true,
            candidate: pred.name.or_else(|| pred.candidates.first().cloned()),
            why: pred.why,
        },
        (None, None) => Choice {
            go: false,
            candidate: None,
            why: "no member passes the switchover checks".into(),
        },
    })
}

/// `switchover --force --wait --candidate CANDIDATE` on cluster `name`, its text on stderr: the
/// outcome and the `Switchover` machine data (request, stages).
pub async fn switch_and_wait(
    ctx: &mut Context<'_>,
    name: &str,
    candidate: &str,
    max_lag: Option<u64>,
    wait_timeout: Duration,
) -> (Result<()>, Value) {
    let req = Request {
        action: Action::Switchover,
        cluster_name: Some(name.to_string()),
        group: None,
        leader: None,
        candidate: Some(candidate.to_string()),
        scheduled: None,
        force: true,
        extra: ExtraArgs {
            wait: true,
            max_lag,
            wait_timeout: Some(wait_timeout),
            dry_run: false,
            // Judged already by `choose` just before.
            pg: super::PgArgs {
                skip_pg_checks: true,
                ..super::PgArgs::default()
            },
        },
    };
    let cluster = match ctx.cluster(name, None).await {
        Ok(c) => c,
        Err(e) => return (Err(e), Value::Null),
    };
    let plan = match decide(ctx.ui, &req, name.to_string(), None, cluster) {
        Ok(p) => p,
        Err(e) => return (Err(e), Value::Null),
    };
    ctx.ui.divert_stdout(true);
    let result = send_and_follow(ctx, &req, &plan).await;
    ctx.ui.divert_stdout(false);
    (result, plan.data())
}
