//! Running the plan: each step is its gate before (followed in the DCS watch until it holds), the
//! restart (`restart`'s request) or the switchover (`switchover --force --wait`), and its gate after
//! (the member runs again with a new postmaster start time, streams, has no pending restart, and the
//! cluster gate holds). The first gate or step not completed within `--wait-timeout` stops the
//! rollout where it is (exit 11) with what was done and what remains. Progress goes to stderr.

use std::time::{Duration, Instant};

use super::plan::Entry;
use super::report::{self, GateRec, Step};
use super::{gate, LeaderMode, RolloutArgs};
use crate::commands::members::{postmaster_start, restart_one};
use crate::commands::switchover::handoff;
use crate::commands::wait::follow;
use crate::context::Context;
use crate::error::{Error, Exit, Result};
use crate::http_client::Method;
use crate::py::truth::truthy;

/// What every step shares.
struct Runner<'r> {
    name: &'r str,
    args: &'r RolloutArgs,
    max_lag: u64,
    total: usize,
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Run the selected steps in order; the final table on stdout, the `RolloutReport` in machine mode.
pub(super) async fn run(
    ctx: &mut Context<'_>,
    name: &str,
    entries: &[Entry],
    args: &RolloutArgs,
    max_lag: u64,
    gates: &[String],
) -> Result<()> {
    let started = Instant::now();
    let todo: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.selected && !(e.leader && args.leader == LeaderMode::Skip))
        .collect();
    let mut steps: Vec<Step> = todo
        .iter()
        .map(|e| Step {
            member: e.name.clone(),
            role: if e.leader { "leader" } else { "replica" },
            action: match (e.leader, args.leader) {
                (true, LeaderMode::Switchover) => "switchover, restart".into(),
                (true, _) => "restart in place".into(),
                (false, _) => "restart".into(),
            },
            result: "not started",
            gate_before: None,
            restart_seconds: None,
            switchover_seconds: None,
            switchover: None,
            postmaster_before: None,
            postmaster_after: None,
            gate_after: None,
            seconds: 0.0,
            note: String::new(),
        })
        .collect();
    let r = Runner {
        name,
        args,
        max_lag,
        total: todo.len(),
    };
    let mut stopped: Option<(usize, String)> = None;
    for (i, e) in todo.iter().enumerate() {
        let t = Instant::now();
        ctx.ui.err_line(&format!(
            "[{}/{}] {} ({}): {}",
            i + 1,
            r.total,
            e.name,
            steps[i].role,
            steps[i].action
        ));
        let outcome = if e.leader && args.leader == LeaderMode::Switchover {
            switchover_step(ctx, &r, i, &mut steps[i]).await
        } else {
            restart_step(ctx, &r, i, &mut steps[i]).await
        };
        steps[i].seconds = secs(t.elapsed());
        match outcome {
            Ok(()) => {
                steps[i].result = "done";
                ctx.ui.err_line(&format!(
                    "[{}/{}] {} done in {:.1} s",
                    i + 1,
                    r.total,
                    e.name,
                    steps[i].seconds
                ));
            }
            Err(why) => {
                steps[i].result = "stopped";
                stopped = Some((i, why));
                break;
            }
        }
    }
    let total = secs(started.elapsed());
    ctx.ui.out(&report::steps_table(name, &steps));
    let data = report::report_json(name, args, max_lag, gates, entries, &steps, &stopped, total);
    match stopped {
        None => {
            ctx.ui.line(&format!(
                "Rollout of {name} completed in {total:.1} s: {} step(s)",
                steps.len()
            ));
            ctx.ui.emit(data);
            Ok(())
        }
        Some((i, why)) => {
            ctx.ui.set_partial(data);
            let done: Vec<&str> = steps[..i].iter().map(|s| s.member.as_str()).collect();
            let remaining: Vec<&str> = steps[i..].iter().map(|s| s.member.as_str()).collect();
            Err(Error::with_exit(
                Exit::NotReached,
                format!(
                    "rollout stopped at step {}/{} ({}): {why}",
                    i + 1,
                    steps.len(),
                    steps[i].member
                ),
            )
            .with_hint(format!(
                "done: {}; remaining: {}; the cluster was left as it is. Fix the cause and run the \
                 same rollout again (with --pending or --older-than, members already restarted are \
                 skipped)",
                if done.is_empty() { "nothing".to_string() } else { done.join(", ") },
                remaining.join(", ")
            )))
        }
    }
}

/// Wait (in the DCS watch) until the cluster gate holds, and `member`'s own when given.
async fn wait_gate(
    ctx: &mut Context<'_>,
    r: &Runner<'_>,
    member: Option<&str>,
    label: &str,
) -> std::result::Result<GateRec, String> {
    let ui = ctx.ui;
    let tty = ui.err_is_tty();
    let t0 = Instant::now();
    let deadline = t0 + r.args.wait_timeout;
    let mut last: Vec<String> = Vec::new();
    let max_lag = r.max_lag;
    let followed = follow(ctx, r.name, deadline, |c| {
        let mut b = gate::blockers(c, max_lag);
        if let Some(m) = member {
            for x in gate::member_blockers(c, m) {
                if !b.contains(&x) {
                    b.push(x);
                }
            }
        }
        if !b.is_empty() && b != last {
            let line = format!(
                "{:6.1} s  {label}: waiting for {}",
                t0.elapsed().as_secs_f64(),
                b.join(", ")
            );
            if tty {
                ui.status(&line);
            } else {
                ui.err_line(&line);
            }
        }
        let ok = b.is_empty();
        if !ok {
            last = b;
        }
        ok
    })
    .await;
    if tty && !last.is_empty() {
        ui.status_done();
    }
    let (_, met) = followed.map_err(|e| e.message)?;
    let g = GateRec {
        met,
        seconds: secs(t0.elapsed()),
        blocking: last,
    };
    if met {
        Ok(g)
    } else {
        Err(format!(
            "{label} not met within {:.1} s: {}",
            r.args.wait_timeout.as_secs_f64(),
            g.blocking.join(", ")
        ))
    }
}

/// The postmaster start time `member` reports now (`GET /patroni`).
async fn postmaster(ctx: &mut Context<'_>, name: &str, member: &str) -> Option<String> {
    let cluster = ctx.cluster(name, None).await.ok()?;
    let m = cluster.member(member)?.clone();
    let r = ctx
        .api()
        .ok()?
        .request(&m, Method::GET, "patroni", None, None)
        .await
        .ok()?;
    postmaster_start(&r.body)
}

/// Restart `step.member` (`restart`'s request) and check it came back with a new postmaster.
async fn restart_member(
    ctx: &mut Context<'_>,
    r: &Runner<'_>,
    step: &mut Step,
) -> std::result::Result<(), String> {
    let cluster = ctx.cluster(r.name, None).await.map_err(|e| e.message)?;
    let m = cluster
        .member(&step.member)
        .cloned()
        .ok_or_else(|| format!("{} has no member key", step.member))?;
    let t = Instant::now();
    let api = ctx.api().map_err(|e| e.message)?;
    let (exit, lines, before) = restart_one(api, &m, r.args.wait_timeout).await;
    step.restart_seconds = Some(secs(t.elapsed()));
    for l in &lines {
        ctx.ui.err_line(&format!("  {l}"));
    }
    if exit != Exit::Success {
        return Err(format!(
            "restart of {} failed: {}",
            step.member,
            lines.join("; ")
        ));
    }
    step.postmaster_before = before.clone();
    let after = postmaster(ctx, r.name, &step.member).await;
    step.postmaster_after = after.clone();
    if after.is_none() || after == before {
        return Err(format!(
            "{} answered the restart but reports no new postmaster start time",
            step.member
        ));
    }
    Ok(())
}

/// A replica's step, or the leader's with `--leader restart`.
async fn restart_step(
    ctx: &mut Context<'_>,
    r: &Runner<'_>,
    i: usize,
    step: &mut Step,
) -> std::result::Result<(), String> {
    let label = format!("[{}/{}] {}", i + 1, r.total, step.member);
    step.gate_before = Some(wait_gate(ctx, r, None, &format!("{label} gate before")).await?);
    restart_member(ctx, r, step).await?;
    step.gate_after = Some(
        wait_gate(
            ctx,
            r,
            Some(&step.member.clone()),
            &format!("{label} gate after"),
        )
        .await?,
    );
    Ok(())
}

/// The leader's step: switchover to the best candidate (or `--candidate`), then the former leader
/// restarted as a replica unless the switchover already restarted it, then the gate.
async fn switchover_step(
    ctx: &mut Context<'_>,
    r: &Runner<'_>,
    i: usize,
    step: &mut Step,
) -> std::result::Result<(), String> {
    let label = format!("[{}/{}] {}", i + 1, r.total, step.member);
    step.gate_before = Some(wait_gate(ctx, r, None, &format!("{label} gate before")).await?);
    let choice = handoff::choose(
        ctx,
        r.name,
        r.args.candidate.as_deref(),
        r.args.max_lag,
        &r.args.pg,
    )
    .await
    .map_err(|e| e.message)?;
    let Some(candidate) = choice.candidate.filter(|_| choice.go) else {
        return Err(format!("switchover not possible: {}", choice.why));
    };
    ctx.ui.err_line(&format!(
        "  switchover from {} to {candidate} ({})",
        step.member, choice.why
    ));
    step.action = format!("switchover to {candidate}");
    let before = postmaster(ctx, r.name, &step.member).await;
    step.postmaster_before = before.clone();
    let t = Instant::now();
    let (result, data) =
        handoff::switch_and_wait(ctx, r.name, &candidate, r.args.max_lag, r.args.wait_timeout)
            .await;
    step.switchover_seconds = Some(secs(t.elapsed()));
    step.switchover = Some(data);
    result.map_err(|e| format!("switchover to {candidate}: {}", e.message))?;
    let after = postmaster(ctx, r.name, &step.member).await;
    let cluster = ctx.cluster(r.name, None).await.map_err(|e| e.message)?;
    let pending = cluster
        .member(&step.member)
        .is_some_and(|m| m.data.get("pending_restart").is_some_and(truthy));
    if after.is_some() && after != before && !pending {
        step.postmaster_after = after;
        step.note = "restarted by the switchover (demoted, started as a replica)".into();
        ctx.ui
            .err_line(&format!("  {}: {}", step.member, step.note));
    } else {
        step.action = format!("switchover to {candidate}, restart");
        wait_gate(ctx, r, None, &format!("{label} gate before restart")).await?;
        restart_member(ctx, r, step).await?;
        step.postmaster_before = before;
    }
    step.gate_after = Some(
        wait_gate(
            ctx,
            r,
            Some(&step.member.clone()),
            &format!("{label} gate after"),
        )
        .await?,
    );
    Ok(())
}
