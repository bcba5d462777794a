//! What `rollout` shows: the plan (order, why each member is in or out, the gates; `--dry-run` and
//! before the confirmation), the final per-step table with times, and the `RolloutReport` machine
//! output, and the records of what ran ([`Step`], [`GateRec`]) they are made from. Pure renderers.

use serde_json::{json, Value};

use super::plan::Entry;
use super::{LeaderMode, RolloutArgs};
use crate::output::table::{render, Align};

/// A gate as it was met (or not).
#[derive(Debug, Clone)]
pub(super) struct GateRec {
    pub(super) met: bool,
    pub(super) seconds: f64,
    /// What blocked it last (empty when met at once).
    pub(super) blocking: Vec<String>,
}

/// One step as it ran.
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub(super) member: String,
    pub(super) role: &'static str,
    pub(super) action: String,
    /// `done`, `stopped` or `not started`.
    pub(super) result: &'static str,
    pub(super) gate_before: Option<GateRec>,
    pub(super) restart_seconds: Option<f64>,
    pub(super) switchover_seconds: Option<f64>,
    pub(super) switchover: Option<Value>,
    pub(super) postmaster_before: Option<String>,
    pub(super) postmaster_after: Option<String>,
    pub(super) gate_after: Option<GateRec>,
    pub(super) seconds: f64,
    pub(super) note: String,
}

/// The plan as text: one line per member in order (skipped members last), then the gates.
pub(super) fn plan_text(
    name: &str,
    entries: &[Entry],
    leader: LeaderMode,
    gates: &[String],
) -> String {
    let mut out = format!(
        "Rollout plan for cluster {name} (leader: {}):\n",
        leader.as_str()
    );
    let mut n = 0;
    for e in entries.iter().filter(|e| e.selected) {
        n += 1;
        let action = match (e.leader, leader) {
            (false, _) => "restart",
            (true, LeaderMode::Switchover) => {
                "switchover, then restart it as a replica unless the switchover did"
            }
            (true, LeaderMode::Restart) => "restart in place",
            (true, LeaderMode::Skip) => "skipped (--leader skip)",
        };
        let role = if e.leader { "leader" } else { "replica" };
        out.push_str(&format!(
            "  {n}. {} ({role}): {action} [{}]\n",
            e.name, e.why
        ));
    }
    for e in entries.iter().filter(|e| !e.selected) {
        out.push_str(&format!("  -  {}: skipped [{}]\n", e.name, e.why));
    }
    out.push_str("Gates, before and after each step: ");
    out.push_str(&gates.join("; "));
    out.push_str(";\n  after a restart also: a new postmaster start time and no pending restart\n");
    out
}

fn entries_json(entries: &[Entry]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| {
            json!({
                "name": e.name,
                "role": if e.leader { "leader" } else { "replica" },
                "selected": e.selected,
                "why": e.why,
            })
        })
        .collect()
}

fn common(
    name: &str,
    args: &RolloutArgs,
    max_lag: u64,
    gates: &[String],
    entries: &[Entry],
) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("cluster".into(), json!(name));
    m.insert("leaderMode".into(), json!(args.leader.as_str()));
    m.insert("candidate".into(), json!(args.candidate));
    m.insert("maxLagBytes".into(), json!(max_lag));
    m.insert(
        "waitTimeoutSeconds".into(),
        json!(args.wait_timeout.as_secs_f64()),
    );
    m.insert("gates".into(), json!(gates));
    m.insert("members".into(), Value::Array(entries_json(entries)));
    m
}

/// `--dry-run -o json`: the plan, no steps run.
pub(super) fn plan_json(
    name: &str,
    entries: &[Entry],
    args: &RolloutArgs,
    max_lag: u64,
    gates: &[String],
) -> Value {
    let mut m = common(name, args, max_lag, gates, entries);
    m.insert("dryRun".into(), json!(true));
    m.insert("completed".into(), json!(false));
    m.insert("stoppedAt".into(), Value::Null);
    m.insert("steps".into(), json!([]));
    m.insert("totalSeconds".into(), json!(0.0));
    Value::Object(m)
}

fn gate_json(g: &Option<GateRec>) -> Value {
    match g {
        None => Value::Null,
        Some(g) => json!({"met": g.met, "seconds": g.seconds, "blocking": g.blocking}),
    }
}

/// The `RolloutReport` of a run: every step with its gates, restart, switchover and durations.
#[allow(clippy::too_many_arguments)]
pub(super) fn report_json(
    name: &str,
    args: &RolloutArgs,
    max_lag: u64,
    gates: &[String],
    entries: &[Entry],
    steps: &[Step],
    stopped: &Option<(usize, String)>,
    total: f64,
) -> Value {
    let mut m = common(name, args, max_lag, gates, entries);
    m.insert("dryRun".into(), json!(false));
    m.insert("completed".into(), json!(stopped.is_none()));
    m.insert(
        "stoppedAt".into(),
        match stopped {
            None => Value::Null,
            Some((i, why)) => json!({"step": i + 1, "member": steps[*i].member, "reason": why}),
        },
    );
    let list: Vec<Value> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "step": i + 1,
                "member": s.member,
                "role": s.role,
                "action": s.action,
                "result": s.result,
                "gateBefore": gate_json(&s.gate_before),
                "restartSeconds": s.restart_seconds,
                "switchoverSeconds": s.switchover_seconds,
                "switchover": s.switchover,
                "postmasterStartBefore": s.postmaster_before,
                "postmasterStartAfter": s.postmaster_after,
                "gateAfter": gate_json(&s.gate_after),
                "seconds": s.seconds,
                "note": s.note,
            })
        })
        .collect();
    m.insert("steps".into(), Value::Array(list));
    m.insert("totalSeconds".into(), json!(total));
    Value::Object(m)
}

fn opt(v: Option<f64>) -> String {
    v.map(|s| format!("{s:.1}")).unwrap_or_else(|| "-".into())
}

/// The final table: one row per step with its result and times (seconds).
pub(super) fn steps_table(name: &str, steps: &[Step]) -> String {
    let columns: Vec<String> = [
        "Step",
        "Member",
        "Role",
        "Action",
        "Result",
        "Gate before",
        "Restart",
        "Switchover",
        "Gate after",
        "Total",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut align = vec![Align::Left; 5];
    align.extend([Align::Right; 5]);
    let rows: Vec<Vec<String>> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            vec![
                (i + 1).to_string(),
                s.member.clone(),
                s.role.to_string(),
                s.action.clone(),
                s.result.to_string(),
                opt(s.gate_before.as_ref().map(|g| g.seconds)),
                opt(s.restart_seconds),
                opt(s.switchover_seconds),
                opt(s.gate_after.as_ref().map(|g| g.seconds)),
                if s.result == "not started" {
                    "-".into()
                } else {
                    format!("{:.1}", s.seconds)
                },
            ]
        })
        .collect();
    format!(
        "{}\n",
        render(&format!(" Rollout: {name} "), &columns, &align, &rows)
    )
}
