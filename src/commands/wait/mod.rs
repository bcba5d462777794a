//! `wait [CLUSTER] --until COND…`: return as soon as one DCS snapshot of the cluster meets every
//! condition, or fail at `--wait-timeout` naming those not met (exit 11). patctl's own: patronictl has
//! no wait, and runbooks poll `patronictl list -f json` in loops.
//!
//! Watch-driven: the cluster is read once and then followed through the DCS change stream
//! ([`crate::dcs::watch`]), each revision judged on its own, so a condition is noticed as soon as the
//! DCS shows it, never after a polling sleep. [`follow`] is the same loop for other commands
//! (`rollout`'s gates).

pub mod cond;

use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};

use crate::context::Context;
use crate::dcs::Update;
use crate::error::{Error, Exit, Result};
use crate::model::Cluster;
use cond::{judge, observed, Cond};

/// `wait [CLUSTER_NAME] --until COND…`
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// A condition; repeat the flag for several, all must hold at once: healthy, leader=NAME,
    /// streaming=NAME, running=NAME, stopped, paused, resumed, no-pending-restart, lag<=BYTES,
    /// sync=NAME
    #[arg(long = "until", value_name = "COND", required = true, value_parser = cond::parse)]
    pub until: Vec<Cond>,
    /// How long to wait, in seconds, before failing with exit 11
    #[arg(long = "wait-timeout", value_name = "SECONDS", default_value = "300", value_parser = crate::time::wait_seconds)]
    pub wait_timeout: Duration,
}

/// The judgement of every condition on one snapshot.
fn verdicts(conds: &[Cond], c: Option<&Cluster>) -> Vec<(String, bool, String)> {
    conds
        .iter()
        .map(|k| {
            let (ok, seen) = judge(k, c);
            (k.to_string(), ok, seen)
        })
        .collect()
}

/// Run `wait`.
pub async fn cmd_wait(ctx: &mut Context<'_>, args: WaitArgs) -> Result<()> {
    let name = ctx.cluster_name(args.cluster_name)?;
    let ui = ctx.ui;
    let started = Instant::now();
    let deadline = started + args.wait_timeout;
    let tty = ui.err_is_tty();
    let mut last_seen = String::new();
    let conds = args.until;
    let (cluster, met) = follow(ctx, &name, deadline, |c| {
        let v = verdicts(&conds, c);
        let unmet: Vec<String> = v
            .iter()
            .filter(|(_, ok, _)| !ok)
            .map(|(k, _, seen)| format!("{k} ({seen})"))
            .collect();
        let text = unmet.join(", ");
        if !unmet.is_empty() && text != last_seen {
            let line = format!(
                "{:6.1} s  waiting for {text}",
                started.elapsed().as_secs_f64()
            );
            if tty {
                ui.status(&line);
            } else {
                ui.err_line(&line);
            }
            last_seen = text;
        }
        unmet.is_empty()
    })
    .await?;
    if tty && !last_seen.is_empty() {
        ui.status_done();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let v = verdicts(&conds, cluster.as_ref());
    let data = json!({
        "cluster": name,
        "met": met,
        "elapsedSeconds": (elapsed * 1000.0).round() / 1000.0,
        "timeoutSeconds": args.wait_timeout.as_secs_f64(),
        "conditions": v.iter().map(|(k, ok, seen)| json!({"condition": k, "met": ok, "seen": seen})).collect::<Vec<Value>>(),
        "observed": observed(cluster.as_ref()),
    });
    let names: Vec<&str> = v.iter().map(|(k, _, _)| k.as_str()).collect();
    if met {
        ui.line(&format!("Met after {elapsed:.1} s: {}", names.join(", ")));
        ui.emit(data);
        return Ok(());
    }
    ui.set_partial(data);
    let unmet: Vec<String> = v
        .iter()
        .filter(|(_, ok, _)| !ok)
        .map(|(k, _, seen)| format!("{k} ({seen})"))
        .collect();
    Err(Error::with_exit(
        Exit::NotReached,
        format!("not met within {elapsed:.1} s: {}", unmet.join(", ")),
    ))
}

/// Follow cluster `name` in the DCS change stream until `done` accepts a snapshot (`None`: the
/// cluster has no key) or `deadline` passes; the last snapshot and whether `done` accepted it. Every
/// revision is judged on its own.
pub async fn follow<F>(
    ctx: &mut Context<'_>,
    name: &str,
    deadline: Instant,
    mut done: F,
) -> Result<(Option<Cluster>, bool)>
where
    F: FnMut(Option<&Cluster>) -> bool,
{
    let dcs = ctx.dcs().await?;
    let (mut stream, mut now) = dcs.open_stream(Some(name), None).await?;
    let mut cluster = now.remove(name);
    if done(cluster.as_ref()) {
        return Ok((cluster, true));
    }
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok((cluster, false));
        }
        // A slice of at most a second keeps a terminal's elapsed time ticking; the stream itself
        // wakes on the first change.
        let updates = dcs
            .next_updates(&mut stream, left.min(Duration::from_secs(1)))
            .await?;
        for u in updates {
            let changed = match u {
                Update::Changed { clusters, .. } | Update::Resynced { clusters, .. } => clusters,
                Update::Reconnected(_) => continue,
            };
            if let Some(c) = changed.get(name) {
                cluster = c.clone();
                if done(cluster.as_ref()) {
                    return Ok((cluster, true));
                }
            }
        }
        if done(cluster.as_ref()) {
            return Ok((cluster, true));
        }
    }
}
