//! `rollout [CLUSTER]`: a rolling restart (or minor upgrade) as one command, patctl's own. Replicas
//! one at a time, then the leader (by a switchover to the best candidate, in place, or not at all),
//! every step gated before and after ([`gate`]) and followed in the DCS watch, stopping at the first
//! step or gate not completed within `--wait-timeout` (exit 11, with what was done and what remains).
//!
//! It reuses `restart`'s request ([`crate::commands::members::restart_one`]) and `switchover
//! --force --wait` ([`crate::commands::switchover::handoff`]); patronictl has no such procedure (its
//! `restart` order is not guaranteed and it may return before the start finished, Patroni #2385).
//! The plan ends with `switchover`'s PostgreSQL pre-flight of the leader
//! ([`crate::commands::switchover::pg`]); under `--strict` a finding refuses the rollout.

mod gate;
mod plan;
mod report;
mod run;

use std::collections::BTreeMap;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::commands::switchover::{pg, PgArgs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::http_client::Method;
use plan::{select, version_to_int, Entry, Filter};

/// What the rollout does with the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LeaderMode {
    /// Switch over to the best candidate (or --candidate), then restart the former leader as a
    /// replica if the switchover did not already
    Switchover,
    /// Restart the leader in place (a short outage of writes)
    Restart,
    /// Leave the leader alone
    Skip,
}

impl LeaderMode {
    fn as_str(self) -> &'static str {
        match self {
            LeaderMode::Switchover => "switchover",
            LeaderMode::Restart => "restart",
            LeaderMode::Skip => "skip",
        }
    }
}

/// `rollout [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Only members with a pending restart
    #[arg(long)]
    pub pending: bool,
    /// Only members whose running PostgreSQL is older than this version (e.g. 15.5)
    #[arg(long = "older-than", value_name = "VERSION")]
    pub older_than: Option<String>,
    /// Only this member (repeat for several)
    #[arg(long = "member", value_name = "NAME")]
    pub member: Vec<String>,
    /// What to do with the leader
    #[arg(
        long = "leader",
        value_enum,
        default_value = "switchover",
        value_name = "MODE"
    )]
    pub leader: LeaderMode,
    /// With --leader switchover: the member to switch over to [default: the best candidate]
    #[arg(long, value_name = "NAME")]
    pub candidate: Option<String>,
    /// The lag limit of the gates, in bytes [default: maximum_lag_on_failover, else 1048576]
    #[arg(long = "max-lag", value_name = "BYTES")]
    pub max_lag: Option<u64>,
    /// How long each step (its gate, restart or switchover) may take, in seconds
    #[arg(long = "wait-timeout", value_name = "SECONDS", default_value = "300", value_parser = crate::time::wait_seconds)]
    pub wait_timeout: Duration,
    /// Print the plan (order, why each member is in or out, the gates) and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    pub force: bool,
    /// The PostgreSQL pre-flight of the leader (as `switchover`'s)
    #[command(flatten)]
    pub pg: PgArgs,
}

/// Run `rollout`.
pub async fn cmd_rollout(ctx: &mut Context<'_>, args: RolloutArgs) -> Result<()> {
    let name = ctx.cluster_name(args.cluster_name.clone())?;
    if ctx.settings.citus {
        return Err(Error::usage(
            "rollout does not support Citus clusters yet: restart each group's members with `restart`",
        ));
    }
    let older_than = match &args.older_than {
        Some(v) => Some((v.clone(), version_to_int(v).map_err(Error::usage)?)),
        None => None,
    };
    let cluster = ctx.cluster(&name, None).await?;
    for m in &args.member {
        if cluster.member(m).is_none() {
            return Err(Error::usage(format!(
                "{m} is not a member of cluster {name}"
            )));
        }
    }
    if let Some(c) = &args.candidate {
        if cluster.member(c).is_none() {
            return Err(Error::usage(format!(
                "candidate {c} is not a member of cluster {name}"
            )));
        }
    }
    if cluster.is_paused() {
        return Err(Error::failure(format!(
            "cluster {name} is paused: Patroni does not manage its members, so no gate would hold"
        ))
        .with_hint("resume it first (`patctl resume --wait`), then run the rollout"));
    }
    if cluster.leader_name().is_none() {
        return Err(Error::failure(format!("cluster {name} has no leader")));
    }
    let versions = if older_than.is_some() {
        server_versions(ctx, &cluster).await?
    } else {
        BTreeMap::new()
    };
    let filter = Filter {
        pending: args.pending,
        older_than,
        members: args.member.clone(),
    };
    let entries: Vec<Entry> = select(&cluster, &filter, &versions);
    let max_lag = gate::max_lag(&cluster, args.max_lag);
    let gates = gate::describe(&cluster, max_lag);
    let mut text = report::plan_text(&name, &entries, args.leader, &gates);
    let pg = pg::check(
        &cluster,
        &args.pg,
        pg::config_superuser(&ctx.settings.raw),
        ctx.settings.rest.timeout,
    )
    .await;
    text.push_str(&pg_notes(&pg));
    // Under --strict a finding refuses the rollout before any step (the leader step would cut it).
    let refused = (pg.strict && !pg.findings.is_empty()).then(|| {
        Error::failure(format!(
            "rollout refused by the PostgreSQL pre-flight (--strict): {}",
            pg.lines().join("; ")
        ))
    });
    if args.dry_run {
        ctx.ui.out(&text);
        let mut data = report::plan_json(&name, &entries, &args, max_lag, &gates);
        data["postgresql"] = pg.to_json();
        return match refused {
            Some(e) => {
                ctx.ui.set_partial(data);
                Err(e)
            }
            None => {
                ctx.ui.emit(data);
                Ok(())
            }
        };
    }
    if let Some(e) = refused {
        return Err(e);
    }
    if !args.force {
        ctx.ui.out(&text);
        let n = entries.iter().filter(|e| e.selected).count();
        if !ctx
            .ui
            .confirm(&format!("Roll out to {n} member(s) of cluster {name}?"))?
        {
            return Err(Error::aborted());
        }
    }
    run::run(ctx, &name, &entries, &args, max_lag, &gates).await
}

/// The PostgreSQL pre-flight's lines under the plan (pure): WARN (FAIL under --strict), INFO.
fn pg_notes(pg: &pg::PgReport) -> String {
    let tag = if pg.strict { "FAIL" } else { "WARN" };
    let mut out = String::new();
    for l in pg.lines() {
        out.push_str(&format!("{tag}: {l}\n"));
    }
    for i in pg.info() {
        out.push_str(&format!("INFO: {i}\n"));
    }
    out
}

/// Each member's `server_version` from `GET /patroni` (members that do not answer are left out).
async fn server_versions(
    ctx: &mut Context<'_>,
    cluster: &crate::model::Cluster,
) -> Result<BTreeMap<String, i64>> {
    let api = ctx.api()?;
    let mut out = BTreeMap::new();
    for m in &cluster.members {
        if let Ok(r) = api.request(m, Method::GET, "patroni", None, None).await {
            let v = serde_json::from_str::<serde_json::Value>(&r.body)
                .ok()
                .and_then(|v| v.get("server_version").and_then(|s| s.as_i64()));
            if let Some(v) = v {
                out.insert(m.name.clone(), v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_notes_say_warn_or_fail_then_info() {
        let mut r = pg::PgReport {
            member: Some("node1".into()),
            findings: vec![("transaction", "transaction open for 20 s".into())],
            client_backends: Some(4),
            ..pg::PgReport::default()
        };
        assert_eq!(
            pg_notes(&r),
            "WARN: node1: transaction open for 20 s\n\
             INFO: 4 client connection(s) on node1 will be cut by the switch\n"
        );
        r.strict = true;
        assert!(pg_notes(&r).starts_with("FAIL: node1: transaction"));
    }
}
