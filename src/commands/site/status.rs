//! `site status`: both sites side by side (leaders, roles, states, timelines, LSNs), where the
//! standby site replicates from and whether that is the primary site's leader, the lag in bytes and
//! seconds, and the verdict of the switchover pre-flight ([`assess`]) with its reasons.

use serde_json::{json, Value};

use super::probe::SiteView;
use super::{Site, StatusArgs};
use crate::error::Result;
use crate::output::Ui;

/// Why a switchover from `p` to `s` is not possible now (empty: ready).
pub fn assess(p: &SiteView, s: &SiteView, max_lag: u64) -> Vec<String> {
    let mut why = Vec::new();
    for (label, v) in [("primary", p), ("standby", s)] {
        if let Some(e) = &v.dcs_error {
            why.push(format!("{label} site {}: DCS unreachable: {e}", v.scope));
            continue;
        }
        for problem in &v.problems {
            why.push(format!("{label} site {}: {problem}", v.scope));
        }
        if v.paused {
            why.push(format!("{label} site {}: paused", v.scope));
        }
        if v.scheduled {
            why.push(format!(
                "{label} site {}: a scheduled switchover or restart is pending",
                v.scope
            ));
        }
        if let Some(e) = &v.pg_error {
            why.push(format!(
                "{label} site {}: cannot read the leader's LSN: {e}",
                v.scope
            ));
        }
    }
    if p.dcs_error.is_some() || s.dcs_error.is_some() {
        return why;
    }
    if p.leader.is_some() && !p.is_primary() {
        why.push(format!(
            "primary site {}: its leader is {} (not a primary)",
            p.scope,
            p.role.as_deref().unwrap_or("unknown")
        ));
    }
    if s.leader.is_some() && !s.is_standby() {
        why.push(format!(
            "standby site {}: its leader is {} (not a standby leader)",
            s.scope,
            s.role.as_deref().unwrap_or("unknown")
        ));
    }
    match (&s.source, &p.host_port) {
        (None, _) => why.push(format!(
            "standby site {}: no standby_cluster host/port in its configuration",
            s.scope
        )),
        // A replica of the primary site will do (cascading): the LSN proof covers what it passes on.
        (Some(src), Some(lead)) if src != lead && p.member_at(src).is_none() => why.push(format!(
            "standby site {} replicates from {}:{}, which is not a member of the primary site (its leader is {}:{})",
            s.scope, src.0, src.1, lead.0, lead.1
        )),
        _ => {}
    }
    if s.pg_error.is_none() && s.receiver.as_deref() != Some("streaming") {
        why.push(format!(
            "standby site {}: the standby leader's WAL receiver is {}",
            s.scope,
            s.receiver.as_deref().unwrap_or("not running")
        ));
    }
    if let Some(lag) = s.lag_behind(p) {
        if lag > max_lag {
            why.push(format!(
                "standby site {} lags {lag} bytes behind the primary (more than --max-lag {max_lag})",
                s.scope
            ));
        }
    }
    if let (Some(pt), Some(st)) = (p.timeline, s.timeline) {
        if pt != st {
            why.push(format!(
                "timelines differ: primary site on TL {pt}, standby site on TL {st}"
            ));
        }
    }
    why
}

/// The document of both sites: `sites`, `sourceIsPrimaryLeader`, lag, verdict.
pub fn document(p: &Site<'_>, pv: &SiteView, s: &Site<'_>, sv: &SiteView, why: &[String]) -> Value {
    let mut primary = pv.to_json();
    primary["context"] = json!(p.source);
    let mut standby = sv.to_json();
    standby["context"] = json!(s.source);
    json!({
        "primary": primary,
        "standby": standby,
        "sourceIsPrimaryLeader": sv.source.is_some() && sv.source == pv.host_port,
        "sourceMember": sv.source.as_ref().and_then(|a| pv.member_at(a)),
        "lagBytes": sv.lag_behind(pv),
        "lagSeconds": sv.lag_seconds(pv),
        "ready": why.is_empty(),
        "reasons": why,
    })
}

/// The human text of `site status`.
pub fn render(p: &Site<'_>, pv: &SiteView, s: &Site<'_>, sv: &SiteView, why: &[String]) -> String {
    let mut out = String::new();
    out.push_str(&format!("Primary site ({}): {}\n", p.source, pv.summary()));
    out.push_str(&format!("Standby site ({}): {}\n", s.source, sv.summary()));
    match (&sv.source, &pv.host_port) {
        (Some((h, port)), Some(lead)) if (h, port) == (&lead.0, &lead.1) => out.push_str(&format!(
            "Replication source: {h}:{port}, the primary site's leader {}\n",
            pv.leader.as_deref().unwrap_or("?")
        )),
        (Some(src), _) => match pv.member_at(src) {
            Some(m) => out.push_str(&format!(
                "Replication source: {}:{}, member {m} of the primary site (not its leader)\n",
                src.0, src.1
            )),
            None => out.push_str(&format!(
                "Replication source: {}:{}, NOT a member of the primary site\n",
                src.0, src.1
            )),
        },
        (None, _) => out.push_str("Replication source: none (no standby_cluster host/port)\n"),
    }
    let bytes = sv
        .lag_behind(pv)
        .map_or("unknown".into(), |b| format!("{b} bytes"));
    let secs = sv
        .lag_seconds(pv)
        .map_or("unknown".into(), |s| format!("{s:.1} s"));
    out.push_str(&format!("Lag: {bytes}, {secs}\n"));
    if why.is_empty() {
        out.push_str("Verdict: ready to switch over\n");
    } else {
        out.push_str("Verdict: NOT ready to switch over\n");
        for w in why {
            out.push_str(&format!("  - {w}\n"));
        }
    }
    out
}

/// Run `site status`.
pub async fn cmd_status(
    ui: &Ui,
    mut p: Site<'_>,
    mut s: Site<'_>,
    args: &StatusArgs,
) -> Result<()> {
    let user = args.sites.dbuser.as_deref();
    let (pv, sv) = tokio::join!(SiteView::read(&mut p, user), SiteView::read(&mut s, user));
    let why = assess(&pv, &sv, args.max_lag);
    ui.out(&render(&p, &pv, &s, &sv, &why));
    ui.emit(document(&p, &pv, &s, &sv, &why));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sites() -> (SiteView, SiteView) {
        let addr = |p: u16| ("127.0.0.1".to_string(), p);
        let p = SiteView {
            scope: "demo".into(),
            leader: Some("node1".into()),
            role: Some("primary".into()),
            host_port: Some(addr(5433)),
            members: vec![("node1".into(), addr(5433)), ("node2".into(), addr(5434))],
            timeline: Some(1),
            in_recovery: Some(false),
            current_lsn: Some(10_000),
            ..SiteView::default()
        };
        let s = SiteView {
            scope: "demo-dr".into(),
            leader: Some("node1".into()),
            role: Some("standby_leader".into()),
            source: Some(addr(5433)),
            timeline: Some(1),
            in_recovery: Some(true),
            receive_lsn: Some(9_000),
            replay_lsn: Some(9_000),
            receiver: Some("streaming".into()),
            ..SiteView::default()
        };
        (p, s)
    }

    #[test]
    fn ready_when_streaming_from_the_primary_site_within_the_lag() {
        let (p, s) = sites();
        assert!(assess(&p, &s, 1000).is_empty());
        let mut s2 = s.clone();
        s2.source = Some(("127.0.0.1".into(), 5434));
        assert!(
            assess(&p, &s2, 1000).is_empty(),
            "a replica of the primary site will do"
        );
    }

    #[test]
    fn each_blocker_is_a_reason() {
        let (p, s) = sites();
        let why = assess(&p, &s, 999);
        assert_eq!(
            why,
            ["standby site demo-dr lags 1000 bytes behind the primary (more than --max-lag 999)"]
        );
        let mut s2 = s.clone();
        s2.source = Some(("10.0.0.9".into(), 5432));
        s2.receiver = None;
        s2.timeline = Some(2);
        s2.paused = true;
        let why = assess(&p, &s2, 1000).join("\n");
        for part in [
            "demo-dr: paused",
            "not a member of the primary site",
            "WAL receiver is not running",
            "timelines differ",
        ] {
            assert!(why.contains(part), "{part}: {why}");
        }
        let mut p2 = p.clone();
        p2.role = Some("standby_leader".into());
        assert!(assess(&p2, &s, 1000)[0].contains("not a primary"));
    }
}
