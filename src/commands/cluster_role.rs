//! `demote-cluster` and `promote-cluster`, mirroring patronictl's `change_cluster_role`: checks,
//! the topology table, a confirmation, `PATCH /config` with `standby_cluster` to the leader, then
//! status lines until the leader has the target role and is running.
//!
//! patronictl polls once a second forever; patctl re-reads the cluster when the DCS changes (or at
//! least every second), prints a status line when the status changed or a second has passed, and
//! gives up after `--wait-timeout` seconds with exit code 5 (the change was requested, its outcome
//! is unknown).

use std::time::{Duration, Instant};

use crate::http_client::Method;
use clap::Args;
use serde_json::{json, Map, Value};

use super::members_table;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::output::machine::{member_outcome, Outcome};
use crate::output::members::Format;

/// `demote-cluster [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct DemoteArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    /// Address of the remote node
    #[arg(long, value_name = "TEXT")]
    pub host: Option<String>,
    /// Port of the remote node
    #[arg(long, value_name = "INTEGER")]
    pub port: Option<i64>,
    /// Command to restore WAL records from the remote primary
    #[arg(long = "restore-command", value_name = "TEXT")]
    pub restore_command: Option<String>,
    /// Name of the slot on the remote node to use for replication
    #[arg(long = "primary-slot-name", value_name = "TEXT")]
    pub primary_slot_name: Option<String>,
    /// Give up waiting for the demotion after this many seconds (exit 5) (patctl only)
    #[arg(long = "wait-timeout", value_name = "SECONDS", default_value = "120", value_parser = crate::time::wait_seconds)]
    pub wait_timeout: Duration,
}

/// `promote-cluster [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    /// Give up waiting for the promotion after this many seconds (exit 5) (patctl only)
    #[arg(long = "wait-timeout", value_name = "SECONDS", default_value = "120", value_parser = crate::time::wait_seconds)]
    pub wait_timeout: Duration,
}

/// Run `demote-cluster`.
pub async fn cmd_demote(ctx: &mut Context<'_>, args: DemoteArgs) -> Result<()> {
    if args.host.as_deref().is_none_or(str::is_empty)
        && args.port.is_none_or(|p| p == 0)
        && args.restore_command.as_deref().is_none_or(str::is_empty)
    {
        return Err(Error::failure(
            "At least --host, --port or --restore-command should be specified",
        ));
    }
    let mut standby = Map::new();
    let mut put = |k: &str, v: Value| {
        if crate::py::truth::truthy(&v) {
            standby.insert(k.to_string(), v);
        }
    };
    put("host", json!(args.host));
    put("port", json!(args.port));
    put("primary_slot_name", json!(args.primary_slot_name));
    put("restore_command", json!(args.restore_command));
    let change = Change {
        demote: true,
        standby: Value::Object(standby),
        force: args.force,
        wait: args.wait_timeout,
        quiet: false,
    };
    change_cluster_role(ctx, args.cluster_name, change)
        .await
        .map(|_| ())
}

/// Run `promote-cluster`.
pub async fn cmd_promote(ctx: &mut Context<'_>, args: PromoteArgs) -> Result<()> {
    let change = Change {
        demote: false,
        standby: Value::Null,
        force: args.force,
        wait: args.wait_timeout,
        quiet: false,
    };
    change_cluster_role(ctx, args.cluster_name, change)
        .await
        .map(|_| ())
}

/// What `site switchover`/`site failover` reuse: `demote-cluster` (with `standby` as the
/// `standby_cluster` to PATCH) or `promote-cluster` (`standby` null) of cluster `name`, with the same
/// checks and wait, but without table, prompt or document, and the status lines on stderr. Returns
/// the cluster as last read once the leader runs in the target role.
pub async fn change_role(
    ctx: &mut Context<'_>,
    name: &str,
    demote: bool,
    standby: Value,
    wait: Duration,
) -> Result<Cluster> {
    let change = Change {
        demote,
        standby,
        force: true,
        wait,
        quiet: true,
    };
    change_cluster_role(ctx, Some(name.to_string()), change).await
}

/// One requested role change.
struct Change {
    demote: bool,
    /// The `standby_cluster` value to PATCH (`null` to promote).
    standby: Value,
    force: bool,
    wait: Duration,
    /// `site` commands: status lines on stderr, no table, no prompt, no machine document.
    quiet: bool,
}

impl Change {
    /// `demot` / `promot`, as patronictl builds its messages.
    fn action(&self) -> &'static str {
        if self.demote {
            "demot"
        } else {
            "promot"
        }
    }

    /// The DCS `role` the leader must reach.
    fn target_role(&self) -> &'static str {
        if self.demote {
            "standby_leader"
        } else {
            "primary"
        }
    }
}

/// patronictl's `change_cluster_role`.
async fn change_cluster_role(
    ctx: &mut Context<'_>,
    name: Option<String>,
    change: Change,
) -> Result<Cluster> {
    let name = ctx.cluster_name(name)?;
    let action = change.action();
    let cluster = ctx.cluster(&name, None).await?;
    let Some(leader_name) = cluster
        .leader_name()
        .filter(|l| !l.is_empty())
        .map(String::from)
    else {
        return Err(Error::failure(format!(
            "Cluster has no leader, {action}ion is not possible"
        )));
    };
    let leader = cluster.leader_member();
    if leader.and_then(|m| m.str_field("role")) == Some(change.target_role()) {
        return Err(Error::failure("Cluster is already in the required state"));
    }
    if !change.quiet {
        ctx.ui.line("Current cluster topology");
        ctx.ui
            .out(&members_table(ctx, &cluster, &name, None, Format::Pretty));
    }
    if !change.force
        && !ctx.ui.confirm(&format!(
            "Are you sure you want to {action}e {name} cluster?"
        ))?
    {
        return Err(Error::failure(format!("Aborted cluster {action}ion")));
    }
    let failed = |why: String| format!("Failed to {action}e {name} cluster: {why}");
    let Some(leader) = leader else {
        return Err(Error::failure(failed(format!(
            "the leader {leader_name} has no member key, so its REST API is unknown"
        ))));
    };
    let body = json!({ "standby_cluster": change.standby });
    // Machine output: what was asked, the leader's answer, the wait.
    let data = |answer: Value, wait: Value| {
        if change.quiet {
            return Value::Null;
        }
        json!({
            "action": format!("{action}e"),
            "cluster": name,
            "leader": leader_name,
            "request": body,
            "members": [answer],
            "wait": wait,
        })
    };
    let response = ctx
        .api()?
        .request(leader, Method::PATCH, "config", Some(&body), None)
        .await;
    let response = match response {
        Ok(r) => r,
        Err(f) => {
            let outcome = Outcome::of_exit(f.exit());
            let entry = member_outcome(&leader_name, outcome, None, None, Some(f.message.clone()));
            if !change.quiet {
                ctx.ui.set_partial(data(entry, Value::Null));
            }
            let mut e = Error::from(f);
            e.message = failed(e.message);
            return Err(e);
        }
    };
    let ok = response.status == 200;
    let outcome = if ok {
        Outcome::Succeeded
    } else {
        Outcome::Failed
    };
    let answer = member_outcome(
        &leader_name,
        outcome,
        Some(response.status),
        Some(&response.body),
        None,
    );
    if !ok {
        if !change.quiet {
            ctx.ui.set_partial(data(answer, Value::Null));
        }
        // patronictl wraps this message twice (its own exception is caught and re-raised).
        let inner = failed(format!(
            "/config PATCH status code={}, ({})",
            response.status, response.body
        ));
        let e = Error::failure(failed(inner));
        return Err(
            match ctx.api()?.status_hint(response.status, &response.body) {
                Some(h) => e.with_hint(h),
                None => e,
            },
        );
    }
    let mut stage = Value::Null;
    match wait_for_role(ctx, &name, &leader_name, &change, &mut stage).await {
        Ok(cluster) if change.quiet => Ok(cluster),
        Ok(cluster) => {
            ctx.ui
                .out(&members_table(ctx, &cluster, &name, None, Format::Pretty));
            ctx.ui.emit(data(answer, stage));
            Ok(cluster)
        }
        Err(e) => {
            if !change.quiet {
                ctx.ui.set_partial(data(answer, stage));
            }
            Err(e)
        }
    }
}

/// Poll the cluster until the change is complete, printing patronictl's status lines; returns the
/// cluster as last read.
async fn wait_for_role(
    ctx: &mut Context<'_>,
    name: &str,
    old_leader: &str,
    change: &Change,
    stage: &mut Value,
) -> Result<Cluster> {
    let started = Instant::now();
    let mut last_line: Option<(String, Instant)> = None;
    loop {
        let cluster = ctx
            .cluster(name, None)
            .await
            .map_err(|e| requested_but_unknown(e, change))?;
        let status = Status::of(&cluster, old_leader);
        *stage = json!({
            "completed": status.complete(change),
            "targetRole": change.target_role(),
            "leader": status.leader_name,
            "leaderRole": status.leader_role,
            "leaderState": status.leader_state,
            "timeoutSeconds": change.wait.as_secs_f64(),
            "elapsedSeconds": started.elapsed().as_secs_f64(),
        });
        if status.complete(change) {
            say(
                ctx,
                change,
                &format!(
                    "{} cluster is successfully {}ed",
                    crate::time::timestamp(0),
                    change.action()
                ),
            );
            return Ok(cluster);
        }
        let text = status.describe(change.demote, old_leader);
        let due = last_line
            .as_ref()
            .is_none_or(|(prev, at)| *prev != text || at.elapsed() >= Duration::from_secs(1));
        if due {
            say(
                ctx,
                change,
                &format!("{} {text}", crate::time::timestamp(0)),
            );
            last_line = Some((text, Instant::now()));
        }
        let Some(left) = change.wait.checked_sub(started.elapsed()) else {
            return Err(Error::unknown(format!(
                "the cluster was not {}ed within {} s; the change was requested, check with `list`",
                change.action(),
                change.wait.as_secs_f64()
            )));
        };
        let nap = left.min(Duration::from_secs(1));
        let woke = Instant::now();
        let waited = match ctx.dcs().await {
            Ok(dcs) => dcs.wait_for_change(name, None, nap).await,
            Err(e) => Err(e),
        };
        waited.map_err(|e| requested_but_unknown(e, change))?;
        // Member keys change often during a role change; re-read at most every 200 ms.
        let min_gap = Duration::from_millis(200);
        if woke.elapsed() < min_gap {
            tokio::time::sleep(min_gap - woke.elapsed()).await;
        }
    }
}

/// A status line: stdout as patronictl prints it, stderr for the `site` commands.
fn say(ctx: &Context<'_>, change: &Change, text: &str) {
    if change.quiet {
        ctx.ui.err_line(&format!("  {text}"));
    } else {
        ctx.ui.line(text);
    }
}

/// A DCS failure after the PATCH went out: the change may still happen, so the outcome is unknown.
fn requested_but_unknown(e: Error, change: &Change) -> Error {
    let message = format!(
        "{}; the {}ion was requested but its outcome is unknown",
        e.message,
        change.action()
    );
    e.wrap(crate::error::Exit::Unknown, message)
}

/// What patronictl looks at in each round.
struct Status {
    unlocked: bool,
    leader_name: Option<String>,
    leader_role: Option<String>,
    leader_state: Option<String>,
    old_leader_state: Option<String>,
}

impl Status {
    fn of(cluster: &Cluster, old_leader: &str) -> Status {
        let leader_name = cluster
            .leader_name()
            .filter(|l| !l.is_empty())
            .map(String::from);
        let leader = cluster.leader_member();
        let field = |k: &str| leader.and_then(|m| m.str_field(k)).map(String::from);
        Status {
            unlocked: leader_name.is_none(),
            leader_role: field("role"),
            leader_state: field("state"),
            old_leader_state: cluster
                .member(old_leader)
                .and_then(|m| m.str_field("state"))
                .map(String::from),
            leader_name,
        }
    }

    fn complete(&self, change: &Change) -> bool {
        // patronictl wants `running`; a standby leader soon shows `streaming` once it replicates
        // from the other site, which the `site` commands expect and patronictl's loop may miss.
        let up = |s: &Option<String>| match s.as_deref() {
            Some("running") => true,
            Some("streaming") => change.quiet,
            _ => false,
        };
        !self.unlocked
            && self.leader_role.as_deref() == Some(change.target_role())
            && up(&self.leader_state)
            && (!change.demote || up(&self.old_leader_state))
    }

    /// `cluster is unlocked: False, leader role: primary, leader state: running[, previous leader
    /// state: 'stopped']`.
    fn describe(&self, demote: bool, old_leader: &str) -> String {
        let none = |v: &Option<String>| v.clone().unwrap_or_else(|| "None".into());
        let mut text = format!(
            "cluster is unlocked: {}, leader role: {}, leader state: {}",
            if self.unlocked { "True" } else { "False" },
            none(&self.leader_role),
            none(&self.leader_state)
        );
        if demote && self.leader_name.as_deref().is_some_and(|l| l != old_leader) {
            if let Some(s) = self.old_leader_state.as_deref().filter(|s| !s.is_empty()) {
                text.push_str(&format!(
                    ", previous leader state: {}",
                    crate::py::repr::repr_str(s)
                ));
            }
        }
        text
    }
}
