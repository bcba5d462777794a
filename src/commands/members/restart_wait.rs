//! `restart --wait` (patctl's addition): the `wait` of the `Restart` machine output.
//!
//! After an immediate restart Patroni answers once PostgreSQL is up again, but its member key still
//! says `pending_restart` until its next HA loop, and a restart Patroni declined looks the same as one
//! never asked for. `--wait` follows the DCS (a watch, never a sleep) until every member restarted
//! with success runs again (`state: running`), shows no pending restart, and reports a postmaster
//! start time (`GET /patroni`) other than the one read before the restart. Bounded by
//! `--wait-timeout`; members not back by then are named with their state (exit 8).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::report::Restarted;
use crate::context::Context;
use crate::error::{Error, Exit, Result};
use crate::http_client::Method;
use crate::output::machine::now_rfc3339;
use crate::py::truth::truthy;

/// `postmaster_start_time` from a `GET /patroni` body.
pub fn postmaster_start(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    v.get("postmaster_start_time")?.as_str().map(String::from)
}

/// One restarted member as followed.
struct Follow {
    name: String,
    before: Option<String>,
    back: Option<(f64, String)>,
    seen: Value,
}

/// Wait until every member restarted with success runs again.
pub(super) async fn run(
    ctx: &mut Context<'_>,
    cluster_name: &str,
    group: Option<i64>,
    timeout: Duration,
    done: &[Restarted],
    data: &mut Value,
) -> Result<()> {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut follow: Vec<Follow> = done
        .iter()
        .filter(|r| r.outcome == Exit::Success)
        .map(|r| Follow {
            name: r.name.clone(),
            before: r.started_before.clone(),
            back: None,
            seen: Value::Null,
        })
        .collect();
    loop {
        let cluster = ctx.cluster(cluster_name, group).await?;
        for f in follow.iter_mut().filter(|f| f.back.is_none()) {
            let Some(m) = cluster.member(&f.name) else {
                f.seen =
                    json!({"state": null, "pendingRestart": null, "postmasterStartTime": null});
                continue;
            };
            let pending = m.data.get("pending_restart").is_some_and(truthy);
            let running = m.state() == "running";
            let mut now_started = None;
            if running && !pending {
                let api = ctx.api()?;
                if let Ok(r) = api.request(m, Method::GET, "patroni", None, None).await {
                    now_started = postmaster_start(&r.body);
                }
            }
            f.seen = json!({
                "state": m.state(),
                "pendingRestart": pending,
                "postmasterStartTime": now_started,
            });
            if now_started.is_some() && now_started != f.before {
                f.back = Some((started.elapsed().as_secs_f64(), now_rfc3339()));
                ctx.ui.err_line(&format!(
                    "{:6.1} s  {} runs again",
                    started.elapsed().as_secs_f64(),
                    f.name
                ));
            }
        }
        let all = follow.iter().all(|f| f.back.is_some());
        data["wait"] = wait_json(timeout, &follow, all, started);
        if all {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            let missing: Vec<String> = follow
                .iter()
                .filter(|f| f.back.is_none())
                .map(|f| format!("{} ({})", f.name, f.seen))
                .collect();
            return Err(Error::with_exit(
                Exit::WaitReplicas,
                format!(
                    "restarted member(s) not back within {:.1} s: {}",
                    started.elapsed().as_secs_f64(),
                    missing.join(", ")
                ),
            ));
        }
        ctx.dcs()
            .await?
            .wait_for_change(cluster_name, group, deadline - now)
            .await?;
    }
}

fn wait_json(timeout: Duration, follow: &[Follow], all: bool, started: Instant) -> Value {
    let members: Vec<Value> = follow
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "back": f.back.is_some(),
                "elapsedSeconds": f.back.as_ref().map(|(s, _)| (s * 1000.0).round() / 1000.0),
                "noticedAt": f.back.as_ref().map(|(_, t)| t.clone()),
                "postmasterStartTimeBefore": f.before,
                "seen": f.seen,
            })
        })
        .collect();
    let last = follow
        .iter()
        .filter_map(|f| f.back.as_ref())
        .max_by(|a, b| a.0.total_cmp(&b.0));
    json!({
        "timeoutSeconds": timeout.as_secs_f64(),
        "completed": all,
        "stages": [{
            "name": "restarted",
            "reached": all,
            "elapsedSeconds": if all { last.map(|(s, _)| (s * 1000.0).round() / 1000.0).or(Some(0.0)) } else { None },
            "noticedAt": if all { last.map(|(_, t)| t.clone()).or_else(|| Some(now_rfc3339())) } else { None },
            "details": {"members": members, "sinceSeconds": started.elapsed().as_secs_f64()},
        }],
    })
}
