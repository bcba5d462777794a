//! `restart`: patronictl's prompts for role, pending, schedule and version, then one request per
//! member (immediate restarts one at a time, as patronictl), a frozen member found first. patctl's
//! `--wait` then follows the restarted members until they run again ([`super::restart_wait`]);
//! machine output reports each member's outcome and the wait.

use std::time::{Duration, Instant};

use crate::http_client::Method;
use clap::Args;
use serde_json::{Map, Value};

use super::report::{asked, check_response, emit, transport_report, Report, Restarted, Tally};
use super::select::{confirm_members_action, get_members, Selection};
use crate::api::{Api, Failure, FailureKind};
use crate::commands::fanout::{in_parallel, Job};
use crate::commands::Role;
use crate::context::Context;
use crate::error::{Error, Exit, Result};
use crate::model::Member;
use crate::py::truth::truthy;

/// `restart CLUSTER_NAME [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members to restart
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Restart only members with this role
    #[arg(short = 'r', long, value_enum, default_value = "any")]
    pub role: Role,
    /// Restart a single member only
    #[arg(long = "any")]
    pub p_any: bool,
    /// Timestamp of a scheduled restart in unambiguous format (e.g. ISO 8601)
    #[arg(long, value_name = "TEXT")]
    pub scheduled: Option<String>,
    /// Restart if the PostgreSQL version is less than provided (e.g. 9.5.2)
    #[arg(long = "pg-version", value_name = "TEXT")]
    pub version: Option<String>,
    /// Restart if pending
    #[arg(long)]
    pub pending: bool,
    /// Return error and fail over if necessary when restarting takes longer than this.
    #[arg(long, value_name = "TEXT")]
    pub timeout: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    /// patctl: how long to wait for each member's answer to an immediate restart; a member that has
    /// not answered by then is reported as "outcome unknown" (exit 5)
    #[arg(long = "wait-timeout", value_name = "SECONDS", default_value = "600", value_parser = crate::time::wait_seconds)]
    pub wait_timeout: Duration,
    /// patctl: after an immediate restart, wait (bounded by --wait-timeout) until every restarted
    /// member runs again with a new postmaster start time and no pending restart (else exit 8)
    #[arg(long)]
    pub wait: bool,
}

/// Python's `int()` on one version component: optional sign, digits, single underscores between digits.
fn py_int(s: &str) -> bool {
    let s = s.trim();
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// Patroni's `postgres_version_to_int` validation: X.Y.Z, or X.Y when X ≥ 10.
fn check_pg_version(v: &str) -> Result<()> {
    let parts: Vec<&str> = v.split('.').collect();
    if !parts.iter().all(|p| py_int(p)) {
        return Err(Error::failure(format!("Invalid PostgreSQL version: {v}")));
    }
    let major: i64 = parts[0].trim().replace('_', "").parse().unwrap_or(0);
    if parts.len() < 2 || parts.len() == 2 && major < 10 || parts.len() > 3 {
        return Err(Error::failure(format!(
            "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: {v}"
        )));
    }
    Ok(())
}

/// A random index below `n` (for `--any`), without a random-number crate.
fn random_index(n: usize) -> usize {
    use std::hash::BuildHasher;
    let h = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    (h % n as u64) as usize
}

/// Run `restart`.
pub async fn cmd_restart(ctx: &mut Context<'_>, args: RestartArgs) -> Result<()> {
    let cluster = ctx.cluster(&args.cluster_name, args.group).await?;
    let selection = Selection {
        cluster_name: &args.cluster_name,
        names: &args.member_names,
        role: args.role,
        group: args.group,
        force: args.force,
        action: "restart",
        quoted_role: true,
    };
    let mut members = get_members(ctx, &cluster, &selection)?;
    let ui = ctx.ui;
    let scheduled = match (&args.scheduled, args.force) {
        (None, false) => {
            let example = crate::time::in_one_hour();
            let text = format!("When should the restart take place (e.g. {example}) ");
            Some(ui.prompt(&text, Some("now"))?)
        }
        (s, _) => s.clone(),
    };
    let scheduled_at = crate::time::parse_scheduled(scheduled.as_deref())?;

    let mut body = Map::new();
    if args.pending {
        body.insert("restart_pending".into(), Value::Bool(true));
        // A scheduled restart finds the pending members at the scheduled time.
        if scheduled_at.is_none() {
            members.retain(|m| m.data.get("pending_restart").is_some_and(truthy));
        }
    }
    if args.p_any && !members.is_empty() {
        let keep = members[random_index(members.len())];
        members = vec![keep];
    }
    let at_text = scheduled_at.as_ref().map(crate::py::datetime::py_str);
    confirm_members_action(
        ui,
        &members,
        args.force,
        "restart",
        at_text.as_deref(),
        args.pending,
    )?;

    let version = match (&args.version, args.force) {
        (None, false) => Some(ui.prompt(
            "Restart if the PostgreSQL version is less than provided (e.g. 9.5.2) ",
            Some(""),
        )?),
        (v, _) => v.clone(),
    };
    if let Some(v) = version.filter(|v| !v.is_empty()) {
        check_pg_version(&v)?;
        body.insert("postgres_version".into(), Value::String(v));
    }
    if let Some(at) = &scheduled_at {
        if cluster.is_paused() {
            return Err(Error::failure("Can't schedule restart in the paused state"));
        }
        body.insert(
            "schedule".into(),
            Value::String(crate::py::datetime::isoformat(at)),
        );
    }
    if let Some(t) = &args.timeout {
        body.insert("timeout".into(), Value::String(t.clone()));
    }

    let body = Value::Object(body);
    let plan = RestartPlan {
        body: &body,
        // An immediate restart answers only once PostgreSQL is back up.
        answer_within: scheduled_at.is_none().then_some(args.wait_timeout),
        flush_first: scheduled_at.is_some() && args.force,
    };
    let api = ctx.api()?;
    let jobs: Vec<Job<Restarted>> = members.iter().map(|m| plan.job(api, m)).collect();
    let mut tally = Tally::new(api);
    let mut done: Vec<Restarted> = Vec::new();
    let mut take = |mut r: Restarted| {
        let report = std::mem::replace(&mut r.report, Report::new(String::new(), Exit::Success));
        r.outcome = report.verdict;
        emit(ui, &mut tally, report);
        done.push(r);
    };
    if scheduled_at.is_none() {
        // Immediate restarts go one member at a time, as in patronictl: restarting every member at
        // once would take the whole cluster down together.
        for job in jobs {
            take(job.await);
        }
    } else {
        in_parallel(jobs, take).await;
    }
    let mut data = asked("restart", &args.cluster_name, args.group, &members);
    data.insert("request".into(), body.clone());
    data.insert("scheduled".into(), Value::Bool(scheduled_at.is_some()));
    data.insert("members".into(), tally.members());
    data.insert("wait".into(), Value::Null);
    let mut data = Value::Object(data);
    let result = tally.finish();
    if args.wait && scheduled_at.is_some() {
        ui.err_line("Note: --wait does not apply to a scheduled restart");
    } else if args.wait {
        let (name, group) = (&args.cluster_name, args.group);
        let waited =
            super::restart_wait::run(ctx, name, group, args.wait_timeout, &done, &mut data).await;
        return ctx.ui.emit_result(result.and(waited), data);
    }
    ui.emit_result(result, data)
}

/// What every member's restart request carries.
struct RestartPlan<'b> {
    body: &'b Value,
    answer_within: Option<Duration>,
    /// `--scheduled --force`: drop an existing scheduled restart first.
    flush_first: bool,
}

impl<'b> RestartPlan<'b> {
    fn job<'a>(&self, api: &'a Api, m: &'a Member) -> Job<'a, Restarted>
    where
        'b: 'a,
    {
        let flush = self.flush_first && m.data.get("scheduled_restart").is_some_and(truthy);
        Box::pin(restart_member(api, m, self.body, flush, self.answer_within))
    }
}

/// One member's immediate restart as `restart --force CLUSTER NAME` sends it (`POST /restart` with
/// an empty body, after the probe that the member answers at all), for `rollout`'s steps: the
/// verdict, the lines patronictl would print, and the postmaster start time before the restart.
pub async fn restart_one(
    api: &Api,
    m: &Member,
    answer_within: Duration,
) -> (Exit, Vec<String>, Option<String>) {
    let body = Value::Object(Map::new());
    let r = restart_member(api, m, &body, false, Some(answer_within)).await;
    (r.report.verdict, r.report.lines, r.started_before)
}

/// One member's restart: drop its scheduled restart first when asked, then `POST /restart`.
async fn restart_member(
    api: &Api,
    m: &Member,
    body: &Value,
    flush_first: bool,
    answer_within: Option<Duration>,
) -> Restarted {
    let mut out = Restarted {
        name: m.name.clone(),
        report: Report::new(String::new(), Exit::Success),
        outcome: Exit::Success,
        started_before: None,
    };
    let mut lines = Vec::new();
    if flush_first {
        let action = "flush scheduled restart";
        match api.request(m, Method::DELETE, "restart", None, None).await {
            Ok(r) => lines.extend(check_response(&r, &m.name, action, true).0),
            Err(f) => lines.extend(transport_report(action, &m.name, &f).lines),
        }
    }
    if answer_within.is_some() {
        // An immediate restart may legitimately take minutes to answer, so first make sure the
        // member answers at all (a frozen Patroni would otherwise hold us for the whole wait).
        match api.request(m, Method::GET, "patroni", None, None).await {
            Err(f) => {
                let probe = Failure {
                    kind: FailureKind::Connect,
                    message: format!("{}; restart not sent", f.message),
                    ..f
                };
                let mut report = transport_report("restart", &m.name, &probe);
                lines.append(&mut report.lines);
                report.lines = lines;
                out.report = report;
                return out;
            }
            Ok(r) => out.started_before = super::restart_wait::postmaster_start(&r.body),
        }
    }
    let mut report = match api
        .request(m, Method::POST, "restart", Some(body), answer_within)
        .await
    {
        Err(f) => transport_report("restart", &m.name, &f),
        Ok(r) => match r.status {
            200 => Report::new(
                format!("Success: restart on member {}", m.name),
                Exit::Success,
            )
            .answered(&m.name, Some(&r)),
            202 => Report::new(
                format!("Success: restart scheduled on member {}", m.name),
                Exit::Success,
            )
            .answered(&m.name, Some(&r)),
            409 => Report::new(
                format!(
                    "Failed: another restart is already scheduled on member {}",
                    m.name
                ),
                Exit::Failure,
            )
            .answered(&m.name, Some(&r)),
            _ => Report::rejected("restart", &m.name, &r),
        },
    };
    lines.append(&mut report.lines);
    report.lines = lines;
    out.report = report;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_versions() {
        assert!(check_pg_version("9.5.2").is_ok());
        assert!(check_pg_version("10.1").is_ok());
        assert!(check_pg_version("15.4.0").is_ok());
        let msg = |v: &str| check_pg_version(v).unwrap_err().message;
        assert_eq!(
            msg("9.6"),
            "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 9.6"
        );
        assert_eq!(
            msg("10"),
            "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 10"
        );
        assert_eq!(
            msg("1.2.3.4"),
            "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 1.2.3.4"
        );
        assert_eq!(msg("a.b.c"), "Invalid PostgreSQL version: a.b.c");
        assert_eq!(msg("9..1"), "Invalid PostgreSQL version: 9..1");
    }
}
