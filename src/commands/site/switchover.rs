//! `site switchover`: the planned move of the primary role from the primary site to its standby
//! cluster, each step gated and bounded by `--wait-timeout`:
//!
//! 1. pre-flight ([`super::status::assess`]): both sites healthy, the standby leader streaming from
//!    the primary site (its leader, or one of its members: cascading) within `--max-lag`, same
//!    timeline, no pause, nothing scheduled;
//! 2. demote the primary site as `demote-cluster` does, pointing it at the standby site's leader;
//! 3. read the demoted site's final LSN (the highest replayed LSN of its members);
//! 4. wait until the standby site's leader has received *and* replayed it: the proof that nothing
//!    written on the old primary is lost (never skipped, `--force` included);
//! 5. promote the standby site as `promote-cluster` does;
//! 6. wait until its leader is a primary on a new timeline;
//! 7. wait until the old site's standby leader streams from it on that timeline.
//!
//! A failed step stops the switch: the report says where both sites stand and which command goes
//! back or forward, and the exit code says how far it got (README "Exit codes").

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::probe::{lsn_json, member_positions, SiteView};
use super::status::{assess, render};
use super::{Site, SwitchoverArgs};
use crate::commands::cluster_role::change_role;
use crate::error::{Error, Exit, Result};
use crate::model::format_lsn;
use crate::output::Ui;

/// The steps, with what each proves (also the README's runbook).
const STEPS: [(&str, &str); 7] = [
    ("preflight", "both sites healthy, the standby site streaming from the primary site (its leader, or a member of it) within --max-lag, same timeline, no pause, nothing scheduled"),
    ("demote-primary", "the primary site's leader runs as a standby leader of the standby site's leader: no more writes on the primary site"),
    ("final-lsn", "the last WAL position written on the primary site (highest replayed LSN of its members)"),
    ("lsn-proof", "the standby site's leader has received and replayed that LSN: nothing written on the old primary is lost"),
    ("promote-standby", "the standby site's leader runs as primary"),
    ("new-timeline", "the new primary is on a new timeline, so the old site can follow it"),
    ("old-site-streams", "the old primary site's standby leader streams from the new primary on that timeline"),
];

/// The switch as it went, for the report.
struct Run<'r> {
    ui: &'r Ui,
    started: Instant,
    steps: Vec<Value>,
    lsns: serde_json::Map<String, Value>,
}

impl Run<'_> {
    fn begin(&self, i: usize) -> Instant {
        let (name, proves) = STEPS[i];
        self.ui.err_line(&format!(
            "{} [{}/{}] {name}: {proves}",
            crate::time::timestamp(0),
            i + 1,
            STEPS.len()
        ));
        Instant::now()
    }

    fn done(&mut self, i: usize, at: Instant, ok: bool, detail: String) {
        let (name, proves) = STEPS[i];
        let word = if ok { "ok" } else { "FAILED" };
        self.ui.err_line(&format!("      {name}: {word}: {detail}"));
        self.steps.push(json!({
            "step": name,
            "proves": proves,
            "status": if ok { "ok" } else { "failed" },
            "startedAfterSeconds": at.duration_since(self.started).as_secs_f64(),
            "seconds": at.elapsed().as_secs_f64(),
            "detail": detail,
        }));
    }
}

/// Run `site switchover`.
pub async fn cmd_switchover(
    ui: &Ui,
    mut a: Site<'_>,
    mut b: Site<'_>,
    args: &SwitchoverArgs,
) -> Result<()> {
    let user = args.sites.dbuser.as_deref();
    let wait = args.wait_timeout;
    let mut run = Run {
        ui,
        started: Instant::now(),
        steps: Vec::new(),
        lsns: serde_json::Map::new(),
    };
    ui.err_line(&format!(
        "Site switchover: primary role from {} ({}) to {} ({})",
        a.scope, a.source, b.scope, b.source
    ));
    // 1. pre-flight
    let at = run.begin(0);
    let (av, bv) = tokio::join!(SiteView::read(&mut a, user), SiteView::read(&mut b, user));
    let why = assess(&av, &bv, args.max_lag);
    ui.err_raw(&render(&a, &av, &b, &bv, &why));
    run.lsns
        .insert("primaryBefore".into(), lsn_json(av.current_lsn));
    let ok = why.is_empty();
    run.done(0, at, ok, if ok { "ready".into() } else { why.join("; ") });
    if !ok || args.dry_run {
        for (i, (name, _)) in STEPS.iter().enumerate().skip(1) {
            ui.err_line(&format!("  plan {}: {name}", i + 1));
        }
        let report = report(&run, &a, &b, &av, &bv, &why, args.dry_run, None, None);
        if ok {
            ui.emit(report);
            return Ok(());
        }
        ui.set_partial(report);
        return Err(Error::failure(format!(
            "site switchover refused by the pre-flight: {}",
            why.join("; ")
        )));
    }
    if !args.force
        && !ui.confirm(&format!(
            "Switch the primary role from {} to {}?",
            a.scope, b.scope
        ))?
    {
        return Err(Error::failure("Aborted site switchover"));
    }
    let b_old_tl = bv.timeline;
    let (b_host, b_port) = bv.host_port.clone().expect("assessed");
    // 2. demote the primary site
    let at = run.begin(1);
    let standby = json!({"host": b_host, "port": b_port});
    if let Err(e) = change_role(&mut a.ctx, &a.scope, true, standby, wait).await {
        run.done(1, at, false, e.message.clone());
        let back = a.command("promote-cluster");
        return stop(
            &mut run,
            &mut a,
            &mut b,
            user,
            e.exit,
            e.message,
            Some(back),
            None,
        )
        .await;
    }
    run.done(1, at, true, format!("standby_cluster -> {b_host}:{b_port}"));
    // 3. the final LSN
    let at = run.begin(2);
    let fin = match final_lsn(&mut a, user, av.current_lsn).await {
        Ok((fin, by_member)) => {
            run.lsns.insert("primaryFinal".into(), lsn_json(Some(fin)));
            run.lsns.insert("finalByMember".into(), by_member);
            run.done(2, at, true, format_lsn(fin as i64));
            fin
        }
        Err(e) => {
            run.done(2, at, false, e.clone());
            let back = a.command("promote-cluster");
            return stop(
                &mut run,
                &mut a,
                &mut b,
                user,
                Exit::SiteStopped,
                e,
                Some(back),
                None,
            )
            .await;
        }
    };
    // 4. the proof
    let at = run.begin(3);
    let proof = wait_until(&mut b, user, wait, |v| {
        let got = v.is_standby()
            && v.receive_lsn.is_some_and(|l| l >= fin)
            && v.replay_lsn.is_some_and(|l| l >= fin);
        (got, v.summary())
    })
    .await;
    run.lsns
        .insert("standbyReceived".into(), lsn_json(proof.1.receive_lsn));
    run.lsns
        .insert("standbyReplayed".into(), lsn_json(proof.1.replay_lsn));
    if !proof.0 {
        let why = format!(
            "the standby site did not receive and replay {} within {} s ({})",
            format_lsn(fin as i64),
            wait.as_secs_f64(),
            proof.1.summary()
        );
        run.done(3, at, false, why.clone());
        let back = a.command("promote-cluster");
        let fwd = format!(
            "only once {} has replayed {}: {}",
            b.scope,
            format_lsn(fin as i64),
            b.command("promote-cluster")
        );
        return stop(
            &mut run,
            &mut a,
            &mut b,
            user,
            Exit::SiteStopped,
            why,
            Some(back),
            Some(fwd),
        )
        .await;
    }
    run.done(
        3,
        at,
        true,
        format!(
            "received {} and replayed {} >= {}",
            format_lsn(proof.1.receive_lsn.unwrap_or(0) as i64),
            format_lsn(proof.1.replay_lsn.unwrap_or(0) as i64),
            format_lsn(fin as i64)
        ),
    );
    // 5. promote the standby site
    let at = run.begin(4);
    if let Err(e) = change_role(&mut b.ctx, &b.scope, false, Value::Null, wait).await {
        run.done(4, at, false, e.message.clone());
        let exit = if e.exit == Exit::Unknown {
            Exit::WaitLeader
        } else {
            Exit::SiteStopped
        };
        let back = a.command("promote-cluster");
        let fwd = b.command("promote-cluster");
        return stop(
            &mut run,
            &mut a,
            &mut b,
            user,
            exit,
            e.message,
            Some(back),
            Some(fwd),
        )
        .await;
    }
    run.done(4, at, true, "promoted".into());
    // 6. a new timeline
    let at = run.begin(5);
    let tl = wait_until(&mut b, user, wait, |v| {
        let got = v.is_primary() && v.timeline.zip(b_old_tl).is_some_and(|(n, o)| n > o);
        (got, v.summary())
    })
    .await;
    run.lsns.insert("newTimeline".into(), json!(tl.1.timeline));
    if !tl.0 {
        let why = format!(
            "no primary on a new timeline within {} s ({})",
            wait.as_secs_f64(),
            tl.1.summary()
        );
        run.done(5, at, false, why.clone());
        return stop(
            &mut run,
            &mut a,
            &mut b,
            user,
            Exit::WaitLeader,
            why,
            None,
            None,
        )
        .await;
    }
    run.done(
        5,
        at,
        true,
        format!("TL {} -> {}", fmt_tl(b_old_tl), fmt_tl(tl.1.timeline)),
    );
    // 7. the old site follows
    let at = run.begin(6);
    let new_tl = tl.1.timeline;
    let target = tl.1.host_port.clone();
    let follows = wait_until(&mut a, user, wait, |v| {
        let got = v.is_standby()
            && v.receiver.as_deref() == Some("streaming")
            && v.sender.is_some()
            && v.sender == target
            && v.timeline.is_some_and(|t| Some(t) >= new_tl);
        (got, v.summary())
    })
    .await;
    if !follows.0 {
        let why = format!(
            "the old primary site does not stream from the new primary on TL {} within {} s ({})",
            fmt_tl(new_tl),
            wait.as_secs_f64(),
            follows.1.summary()
        );
        run.done(6, at, false, why.clone());
        return stop(
            &mut run,
            &mut a,
            &mut b,
            user,
            Exit::WaitRejoin,
            why,
            None,
            None,
        )
        .await;
    }
    run.done(6, at, true, follows.1.summary());
    let (av, bv) = tokio::join!(SiteView::read(&mut a, user), SiteView::read(&mut b, user));
    ui.err_line(&format!(
        "Site switchover complete in {:.1} s: {} is the primary site, {} its standby",
        run.started.elapsed().as_secs_f64(),
        b.scope,
        a.scope
    ));
    ui.emit(report(&run, &a, &b, &av, &bv, &[], false, None, None));
    Ok(())
}

fn fmt_tl(t: Option<i64>) -> String {
    t.map_or("?".into(), |t| t.to_string())
}

/// The demoted site's final LSN: the highest LSN replayed by its members (the leader must answer
/// and be in recovery); not below what the primary had written at the pre-flight.
async fn final_lsn(
    a: &mut Site<'_>,
    user: Option<&str>,
    before: Option<u64>,
) -> std::result::Result<(u64, Value), String> {
    let cluster = a.ctx.cluster(&a.scope, None).await.map_err(|e| e.message)?;
    let leader = cluster.leader_name().unwrap_or_default().to_string();
    let mut best: Option<u64> = None;
    let mut by = serde_json::Map::new();
    for m in &cluster.members {
        match member_positions(m, user).await {
            Ok((recovery, _receive, replay)) => {
                if m.name == leader && !recovery {
                    return Err(format!("the leader {} is not in recovery", m.name));
                }
                by.insert(m.name.clone(), lsn_json(replay));
                best = best.max(replay);
            }
            Err(e) if m.name == leader => return Err(e.message),
            Err(e) => {
                by.insert(m.name.clone(), json!(format!("unreadable: {}", e.message)));
            }
        }
    }
    let fin = best.ok_or("no member reports a replayed LSN")?;
    if let Some(b) = before.filter(|b| fin < *b) {
        return Err(format!(
            "the final LSN {} is below the primary's LSN {} at the pre-flight",
            format_lsn(fin as i64),
            format_lsn(b as i64)
        ));
    }
    Ok((fin, Value::Object(by)))
}

/// Read `site` until `cond` holds or `wait` passes; woken by the site's DCS watch (else every half
/// second, for LSNs). Returns whether it held and the last view; progress on stderr when it changes.
async fn wait_until(
    site: &mut Site<'_>,
    user: Option<&str>,
    wait: Duration,
    cond: impl Fn(&SiteView) -> (bool, String),
) -> (bool, SiteView) {
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let v = SiteView::read(site, user).await;
        let (ok, text) = cond(&v);
        if ok {
            return (true, v);
        }
        if text != last {
            site.ctx.ui.err_line(&format!(
                "      {} waiting: {text}",
                crate::time::timestamp(0)
            ));
            last = text;
        }
        let Some(left) = wait.checked_sub(started.elapsed()) else {
            return (false, v);
        };
        let nap = left.min(Duration::from_millis(500));
        let t = Instant::now();
        let scope = site.scope.clone();
        let woke = match site.ctx.dcs().await {
            Ok(dcs) => dcs.wait_for_change(&scope, None, nap).await.is_ok(),
            Err(_) => false,
        };
        let min = Duration::from_millis(200);
        if !woke || t.elapsed() < min {
            tokio::time::sleep(min.max(nap.saturating_sub(t.elapsed())).min(left)).await;
        }
    }
}

/// Stop the switch at a failed step: read both sites, say where they stand and what goes back or
/// forward, report, and return the error with `exit`.
#[allow(clippy::too_many_arguments)]
async fn stop(
    run: &mut Run<'_>,
    a: &mut Site<'_>,
    b: &mut Site<'_>,
    user: Option<&str>,
    exit: Exit,
    why: String,
    back: Option<String>,
    forward: Option<String>,
) -> Result<()> {
    let (av, bv) = tokio::join!(SiteView::read(a, user), SiteView::read(b, user));
    let ui = run.ui;
    ui.err_line("Site switchover stopped. Where the sites stand now:");
    ui.err_line(&format!("  {} ({}): {}", a.label, a.source, av.summary()));
    ui.err_line(&format!("  {} ({}): {}", b.label, b.source, bv.summary()));
    if let Some(c) = &back {
        ui.err_line(&format!("  to go back: {c}"));
    }
    if let Some(c) = &forward {
        ui.err_line(&format!("  to go forward: {c}"));
    }
    let step = run
        .steps
        .last()
        .and_then(|s| s["step"].as_str())
        .unwrap_or_default()
        .to_string();
    ui.set_partial(report(
        run,
        a,
        b,
        &av,
        &bv,
        &[],
        false,
        back.clone(),
        forward,
    ));
    let mut e = Error::with_exit(exit, format!("site switchover stopped at {step}: {why}"));
    if let Some(c) = back {
        e = e.with_hint(format!("to go back: {c}"));
    }
    Err(e)
}

/// The `SiteSwitchoverReport` document.
#[allow(clippy::too_many_arguments)]
fn report(
    run: &Run<'_>,
    a: &Site<'_>,
    b: &Site<'_>,
    av: &SiteView,
    bv: &SiteView,
    why: &[String],
    dry_run: bool,
    back: Option<String>,
    forward: Option<String>,
) -> Value {
    let failed = run
        .steps
        .iter()
        .find(|s| s["status"] == "failed")
        .and_then(|s| s["step"].as_str());
    let mut primary = av.to_json();
    primary["context"] = json!(a.source);
    let mut standby = bv.to_json();
    standby["context"] = json!(b.source);
    json!({
        "primary": {"context": a.source, "cluster": a.scope},
        "standby": {"context": b.source, "cluster": b.scope},
        "dryRun": dry_run,
        "completed": !dry_run && failed.is_none() && run.steps.len() == STEPS.len(),
        "failedStep": failed,
        "reasons": why,
        "plan": STEPS.iter().map(|(n, p)| json!({"step": n, "proves": p})).collect::<Vec<_>>(),
        "steps": run.steps,
        "lsns": run.lsns,
        "sites": {"primary": primary, "standby": standby},
        "next": {"back": back, "forward": forward},
        "elapsedSeconds": run.started.elapsed().as_secs_f64(),
    })
}
