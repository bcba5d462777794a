//! How the pre-flight is shown: the `--dry-run` table and verdict on stdout, the same table on
//! stderr before the confirmation of a real switch (on a terminal), the reasons on stderr after
//! Patroni refused one, and the `SwitchoverPlan` document of `--dry-run -o json|yaml`.

use serde_json::{json, Value};

use super::{assess, Assessment, Query, Row};
use crate::commands::switchover::{Action, Plan};
use crate::context::Context;
use crate::output::sanitize;
use crate::output::table::{self, Align};

/// The PASS/FAIL table (pure).
fn render_table(rows: &[Row]) -> String {
    let columns: Vec<String> = ["Member", "Result", "Reason"].map(String::from).into();
    let cells: Vec<Vec<String>> = rows.iter().map(Row::cells).collect();
    table::render(
        "",
        &columns,
        &[Align::Left, Align::Left, Align::Left],
        &cells,
    )
}

/// The lines after the table: blocking problems, WARN items, the predicted candidate (pure).
fn render_notes(a: &Assessment) -> String {
    let mut out = String::new();
    for p in &a.problems {
        out.push_str(&format!("Blocked: {p}\n"));
    }
    for w in &a.warnings {
        out.push_str(&format!("WARN: {w}\n"));
    }
    for i in a.pg.info() {
        out.push_str(&format!("INFO: {i}\n"));
    }
    if let Some(p) = &a.predicted {
        let who = p.name.clone().unwrap_or_else(|| p.candidates.join(" or "));
        out.push_str(&format!("Patroni would promote {who}: {}\n", p.why));
    }
    out
}

/// `--dry-run`'s text on stdout (stderr in machine mode).
pub(super) fn print_dry_run(ctx: &Context, q: &Query, name: &str, a: &Assessment) {
    let ui = ctx.ui;
    let to = match q.wanted() {
        Some(c) => c.to_string(),
        None => "the healthiest member".to_string(),
    };
    let from = match (q.action, a.cluster.leader_name()) {
        (Action::Switchover, Some(l)) => format!(" from {l}"),
        _ => String::new(),
    };
    ui.line(&format!(
        "Dry run: {} of cluster {name}{from} to {to}",
        q.action.name()
    ));
    ui.line(&render_table(&a.rows));
    ui.out(&render_notes(a));
    let verdict = if a.go {
        "can go ahead"
    } else {
        "can not go ahead"
    };
    ui.line(&format!(
        "{} {verdict} (dry run: nothing was written)",
        q.action.title()
    ));
}

/// One member as data.
fn row_json(r: &Row) -> Value {
    json!({
        "name": r.name,
        "result": r.result(),
        "reasons": r.reasons,
        "notes": r.notes,
        "positionBytes": r.position,
        "lagBytes": r.lag,
        "failoverPriority": r.priority,
    })
}

/// The `SwitchoverPlan` document of `--dry-run -o json|yaml`.
pub(super) fn plan_json(q: &Query, name: &str, group: Option<i64>, a: &Assessment) -> Value {
    json!({
        "action": q.action.name(),
        "cluster": name,
        "group": group,
        "leader": a.cluster.leader_name(),
        "candidate": q.wanted(),
        "scheduled": q.scheduled,
        "maxLagBytes": a.max_lag,
        "canProceed": a.go,
        "blocked": a.problems,
        "warnings": a.warnings,
        "predicted": a.predicted.as_ref().map(|p| json!({"name": p.name, "candidates": p.candidates, "why": p.why})),
        "dcs": a.dcs.to_json(),
        "postgresql": a.pg.to_json(),
        "members": a.rows.iter().map(row_json).collect::<Vec<_>>(),
    })
}

/// Before the confirmation of a real switch, on a terminal: the pre-flight table on stderr, so the
/// prompts and stdout stay patronictl's. A pre-flight that cannot run is only a warning.
pub(in crate::commands::switchover) async fn show_before_confirm(
    ctx: &mut Context<'_>,
    plan: &Plan,
) {
    let q = Query::of_plan(plan);
    match assess(ctx, &q, &plan.name, plan.cluster.clone()).await {
        Ok(a) => {
            let verdict = if a.go { "PASS" } else { "FAIL" };
            // Member names and reasons come from the cluster: tidied for the terminal.
            ctx.ui.err_raw(&sanitize(&format!(
                "Pre-flight ({verdict}):\n{}\n{}",
                render_table(&a.rows),
                render_notes(&a)
            )));
        }
        Err(e) => ctx
            .ui
            .warning(&format!("pre-flight not shown: {}", e.message)),
    }
}

/// After Patroni refused the switch (412, 503): what the pre-flight finds now, on stderr, and as
/// `rejection` in the machine output.
pub(in crate::commands::switchover) async fn explain_rejection(ctx: &mut Context<'_>, plan: &Plan) {
    let q = Query::of_plan(plan);
    let cluster = match ctx.cluster(&plan.name, plan.group).await {
        Ok(c) => c,
        Err(e) => {
            ctx.ui.err_line(&format!(
                "Pre-flight: cannot read the cluster ({})",
                e.message
            ));
            return;
        }
    };
    let a = match assess(ctx, &q, &plan.name, cluster).await {
        Ok(a) => a,
        Err(e) => {
            ctx.ui.err_line(&format!("Pre-flight: {}", e.message));
            return;
        }
    };
    let mut lines = Vec::new();
    for p in &a.problems {
        lines.push(p.clone());
    }
    let focus: Vec<&Row> = match q.wanted() {
        Some(c) => a.rows.iter().filter(|r| r.name == c).collect(),
        None => a
            .rows
            .iter()
            .filter(|r| Some(r.name.as_str()) != a.cluster.leader_name())
            .collect(),
    };
    for r in &focus {
        if !r.pass() {
            lines.push(format!("{}: {}", r.name, r.reasons.join("; ")));
        }
    }
    let mut text = String::from("Pre-flight reasons:\n");
    if lines.is_empty() {
        text.push_str("  none found now (the cluster may have changed since Patroni answered)\n");
    }
    for l in &lines {
        text.push_str(&format!("  {l}\n"));
    }
    for w in &a.warnings {
        text.push_str(&format!("  WARN: {w}\n"));
    }
    ctx.ui.err_raw(&sanitize(&text));
    plan.record(
        "rejection",
        json!({
            "reasons": lines,
            "warnings": a.warnings,
            "members": a.rows.iter().map(row_json).collect::<Vec<_>>(),
        }),
    );
}
