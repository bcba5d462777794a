//! `site failover`: promote the standby site when the primary site is gone. Refused while the
//! primary site answers (with `--primary`: its DCS or any member's REST API; without: the
//! standby site's replication source, the address it streams from) unless `--primary-is-lost`.
//! Shows the last known LSN gap (the primary's last LSN in its DCS when readable, what the standby
//! leader received and replayed), promotes as `promote-cluster` does, and reports what may be lost.

use std::time::Duration;

use serde_json::json;

use super::probe::{lsn_json, SiteView};
use super::{FailoverArgs, Site};
use crate::commands::cluster_role::change_role;
use crate::error::{Error, Result};
use crate::http_client::Method;
use crate::model::format_lsn;
use crate::output::Ui;

/// What still answers on the primary side (empty: nothing).
async fn primary_answers(
    p: Option<&mut Site<'_>>,
    standby: &SiteView,
) -> (Vec<String>, Option<u64>) {
    let mut answers = Vec::new();
    let mut last = None;
    match p {
        Some(p) => {
            if let Ok(c) = p.ctx.cluster(&p.scope, None).await {
                answers.push(format!("the primary site's DCS ({})", p.scope));
                last = (c.optime > 0).then_some(c.optime);
                if let Ok(api) = p.ctx.api() {
                    for m in &c.members {
                        if api
                            .request(m, Method::GET, "patroni", None, None)
                            .await
                            .is_ok()
                        {
                            answers.push(format!("member {}'s REST API", m.name));
                        }
                    }
                }
            }
        }
        None => {
            if let Some((h, port)) = &standby.source {
                let addr = format!("{h}:{port}");
                let probe = tokio::time::timeout(
                    Duration::from_secs(3),
                    tokio::net::TcpStream::connect(addr.clone()),
                )
                .await;
                if matches!(probe, Ok(Ok(_))) {
                    answers.push(format!("the replication source {addr}"));
                }
            }
        }
    }
    (answers, last)
}

/// Run `site failover`.
pub async fn cmd_failover(
    ui: &Ui,
    mut p: Option<Site<'_>>,
    mut s: Site<'_>,
    args: &FailoverArgs,
) -> Result<()> {
    let user = args.sites.dbuser.as_deref();
    let sv = SiteView::read(&mut s, user).await;
    if let Some(e) = &sv.dcs_error {
        return Err(Error::unreachable(format!(
            "standby site {}: DCS unreachable: {e}",
            s.scope
        )));
    }
    if !sv.is_standby() {
        return Err(Error::failure(format!(
            "standby site {}: its leader is {} (not a standby leader); nothing to fail over to",
            s.scope,
            sv.role.as_deref().unwrap_or("missing")
        )));
    }
    let (answers, last) = primary_answers(p.as_mut(), &sv).await;
    if !answers.is_empty() && !args.primary_is_lost {
        return Err(Error::failure(format!(
            "refusing to fail over: the primary site still answers ({}); use `site switchover`, or --primary-is-lost if it is really lost",
            answers.join(", ")
        )));
    }
    let received = sv.receive_lsn;
    let replayed = sv.replay_lsn;
    let gap = last.zip(received).map(|(l, r)| l.saturating_sub(r));
    let lsn = |l: Option<u64>| l.map_or("unknown".into(), |l| format_lsn(l as i64));
    ui.err_line(&format!("Standby site ({}): {}", s.source, sv.summary()));
    ui.err_line(&format!(
        "Last known LSN of the primary site: {}; received by the standby leader: {}; replayed: {}; gap: {}",
        lsn(last),
        lsn(received),
        lsn(replayed),
        gap.map_or("unknown".into(), |g| format!("{g} bytes"))
    ));
    if !args.force && !ui.confirm(&format!("Promote {} to be the primary site?", s.scope))? {
        return Err(Error::failure("Aborted site failover"));
    }
    let old_tl = sv.timeline;
    change_role(
        &mut s.ctx,
        &s.scope,
        false,
        serde_json::Value::Null,
        args.wait_timeout,
    )
    .await?;
    let after = SiteView::read(&mut s, user).await;
    let loss = match gap {
        Some(0) => "nothing known lost: the standby had received the primary site's last known LSN"
            .to_string(),
        Some(g) => format!(
            "up to {g} bytes of WAL written on the primary site after {} may be lost",
            lsn(received)
        ),
        None => format!(
            "anything the primary site wrote after {} may be lost (its last LSN is unknown)",
            lsn(received)
        ),
    };
    ui.err_line(&format!("Promoted: {}", after.summary()));
    ui.err_line(&format!("Possible loss: {loss}"));
    ui.emit(json!({
        "standby": {"context": s.source, "cluster": s.scope},
        "primaryAnswered": answers,
        "primaryIsLost": args.primary_is_lost,
        "lastKnownPrimaryLsn": lsn_json(last),
        "receivedLsn": lsn_json(received),
        "replayedLsn": lsn_json(replayed),
        "gapBytes": gap,
        "timelineBefore": old_tl,
        "site": after.to_json(),
        "possibleLoss": loss,
    }));
    Ok(())
}
