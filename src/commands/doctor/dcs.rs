//! The DCS checks of `doctor`: every configured endpoint asked for its status through
//! [`crate::dcs::endpoint_statuses`] and, for `https://` endpoints, its certificate read with
//! [`crate::peer_cert`], all at once; then the findings, made by pure functions.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Area, Finding, Status};
use crate::config::DcsSettings;
use crate::dcs::{Auth, EndpointStatus};
use crate::peer_cert::{self, CertFacts};

/// Days before expiry from which a certificate is a WARN.
pub const CERT_WARN_DAYS: i64 = 30;

/// Probe every endpoint (status and certificate at once), each within `budget`, and judge.
pub async fn check(settings: &DcsSettings, probe_key: &str, budget: Duration) -> Vec<Finding> {
    let certs = futures_util::future::join_all(settings.endpoints.iter().map(|ep| async move {
        match https_host_port(ep) {
            Some((host, port)) => Some((host.clone(), peer_cert::fetch(&host, port, budget).await)),
            None => None,
        }
    }));
    let (statuses, certs) = tokio::join!(
        crate::dcs::endpoint_statuses(settings, probe_key, budget),
        certs
    );
    let now = Utc::now();
    let certs: Vec<Option<CertOutcome>> = certs
        .into_iter()
        .map(|c| {
            c.map(|(host, r)| match r {
                Ok(cert) => Ok(peer_cert::facts(&cert, &host, now)),
                Err(why) => Err(why),
            })
        })
        .collect();
    findings(&statuses, &certs, now)
}

/// A certificate read from an endpoint, or why it could not be.
pub type CertOutcome = std::result::Result<CertFacts, String>;

/// `(host, port)` of an `https://` URL; `None` for anything else.
pub fn https_host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse() {
            Ok(p) => (h, p),
            Err(_) => (authority, 443),
        },
        _ => (authority, 443),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// The findings for the endpoints' statuses and (per endpoint, for `https://` ones) certificates.
pub fn findings(
    statuses: &[EndpointStatus],
    certs: &[Option<CertOutcome>],
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let versions: Vec<&str> = statuses
        .iter()
        .filter_map(|s| s.version.as_deref())
        .collect();
    let mixed = versions.iter().any(|v| *v != versions[0]);
    let leaders: Vec<&str> = statuses
        .iter()
        .filter_map(|s| s.leader.as_deref())
        .collect();
    let split = leaders.iter().any(|l| *l != leaders[0]);
    for (i, s) in statuses.iter().enumerate() {
        let ep = s.endpoint.as_str();
        let f = |st, check: &str, msg: String| Finding::new(st, Area::Dcs, ep, check, msg);
        // A certificate is read even from an endpoint that does not answer as a DCS; when neither
        // answered, the reachable line says it all.
        let cert = match certs.get(i) {
            Some(Some(cert)) if cert.is_ok() || s.reachable.is_ok() => {
                cert_findings(Area::Dcs, ep, cert, now, false)
            }
            _ => Vec::new(),
        };
        if let Err(why) = &s.reachable {
            out.push(f(Status::Fail, "reachable", why.clone()));
            out.extend(cert);
            continue;
        }
        let ms = s.elapsed.as_secs_f64() * 1000.0;
        let named = s
            .name
            .as_ref()
            .map(|n| format!(" as member {n}"))
            .unwrap_or_default();
        out.push(f(
            Status::Pass,
            "reachable",
            format!("answered{named} in {ms:.0} ms"),
        ));
        out.push(match &s.version {
            Some(v) if mixed => f(
                Status::Warn,
                "version",
                format!(
                    "{v}: the endpoints run different versions ({})",
                    versions.join(", ")
                ),
            ),
            Some(v) => f(Status::Pass, "version", v.clone()),
            None => f(Status::Skip, "version", "not reported".into()),
        });
        let members = if s.members.is_empty() {
            String::new()
        } else {
            let n = s.members.len();
            let word = if n == 1 { "member" } else { "members" };
            format!(", {n} {word}: {}", s.members.join(", "))
        };
        out.push(match s.quorum {
            Some(true) => f(
                Status::Pass,
                "quorum",
                format!("part of a quorum ({}{members})", s.quorum_note),
            ),
            Some(false) => f(
                Status::Fail,
                "quorum",
                format!(
                    "not part of a working quorum ({}): no leader",
                    s.quorum_note
                ),
            ),
            None => f(
                Status::Skip,
                "quorum",
                format!("cannot tell{}", note(&s.quorum_note)),
            ),
        });
        out.push(match (&s.leader, s.is_leader) {
            (Some(l), _) if split => f(
                Status::Warn,
                "leader",
                format!("{l}, but the endpoints disagree ({})", leaders.join(", ")),
            ),
            (Some(l), Some(true)) => f(Status::Pass, "leader", format!("{l} (this endpoint)")),
            (Some(l), _) => f(Status::Pass, "leader", l.clone()),
            (None, _) if s.quorum == Some(false) => f(Status::Fail, "leader", "none".into()),
            (None, _) => f(
                Status::Skip,
                "leader",
                format!("not reported{}", note(&s.quorum_note)),
            ),
        });
        for e in &s.errors {
            out.push(f(Status::Fail, "alarm", e.clone()));
        }
        out.push(match &s.auth {
            Auth::Accepted(u) => f(Status::Pass, "auth", format!("user '{u}' accepted")),
            Auth::Anonymous => f(
                Status::Pass,
                "auth",
                "no user configured; anonymous reads allowed".into(),
            ),
            Auth::Refused(why) => f(Status::Fail, "auth", why.clone()),
            Auth::Unchecked(why) => f(Status::Skip, "auth", why.clone()),
        });
        out.extend(cert);
    }
    out.extend(cluster_finding(statuses));
    out
}

fn note(n: &str) -> String {
    if n.is_empty() {
        String::new()
    } else {
        format!(" ({n})")
    }
}

/// How many of the DCS cluster's members answered, when every member is configured.
fn cluster_finding(statuses: &[EndpointStatus]) -> Option<Finding> {
    let (answered, total, need) = crate::dcs::quorum_count(statuses)?;
    let (status, msg) = if answered == total {
        (Status::Pass, format!("all {total} members answered"))
    } else if answered >= need {
        (
            Status::Warn,
            format!("{answered} of {total} members answered; the quorum ({need}) holds"),
        )
    } else {
        (
            Status::Fail,
            format!("{answered} of {total} members answered; a quorum needs {need}"),
        )
    };
    Some(Finding::new(status, Area::Dcs, "cluster", "members", msg))
}

/// The `certificate` and `hostname` findings of one TLS endpoint. `lenient`: a host name mismatch
/// is only a WARN (the REST client was told not to check it, `-k`).
pub fn cert_findings(
    area: Area,
    target: &str,
    cert: &CertOutcome,
    now: DateTime<Utc>,
    lenient: bool,
) -> Vec<Finding> {
    let f = |st, check: &str, msg: String| Finding::new(st, area, target, check, msg);
    let c = match cert {
        Ok(c) => c,
        Err(why) => return vec![f(Status::Fail, "certificate", why.clone())],
    };
    let day = |n: i64| if n.abs() == 1 { "day" } else { "days" };
    let when = c.not_after.format("%Y-%m-%d %H:%M UTC");
    let expiry = if c.not_after <= now {
        let ago = (now - c.not_after).num_days();
        f(
            Status::Fail,
            "certificate",
            format!("expired on {when} ({ago} {} ago; {})", day(ago), c.subject),
        )
    } else if c.not_yet_valid {
        f(
            Status::Fail,
            "certificate",
            format!("not valid yet ({})", c.subject),
        )
    } else {
        let st = if c.days_left < CERT_WARN_DAYS {
            Status::Warn
        } else {
            Status::Pass
        };
        f(
            st,
            "certificate",
            format!(
                "expires {when} ({} {} left; {})",
                c.days_left,
                day(c.days_left),
                c.subject
            ),
        )
    };
    let names = c.names.join(", ");
    let host = if c.host_matches {
        f(Status::Pass, "hostname", format!("matches ({names})"))
    } else {
        let st = if lenient { Status::Warn } else { Status::Fail };
        f(
            st,
            "hostname",
            format!("the certificate does not name this host (it names: {names})"),
        )
    };
    vec![expiry, host]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(ep: &str, leader: &str, members: &[&str]) -> EndpointStatus {
        let mut s = EndpointStatus::new(ep);
        s.version = Some("etcd 3.4.23".into());
        s.leader = Some(leader.into());
        s.quorum = Some(true);
        s.quorum_note = "raft term 2".into();
        s.members = members.iter().map(|m| m.to_string()).collect();
        s.auth = Auth::Anonymous;
        s
    }

    #[test]
    fn one_member_down_fails_its_endpoint_and_warns_for_the_cluster() {
        let ms = ["etcd1", "etcd2", "etcd3"];
        let statuses = vec![
            up("http://a:1", "etcd1", &ms),
            EndpointStatus::unreachable("http://b:2", "connection refused", Duration::ZERO),
            up("http://c:3", "etcd1", &ms),
        ];
        let out = findings(&statuses, &[None, None, None], Utc::now());
        let fail: Vec<_> = out.iter().filter(|f| f.status == Status::Fail).collect();
        assert_eq!(fail.len(), 1);
        assert_eq!(
            (
                fail[0].target.as_str(),
                fail[0].check.as_str(),
                fail[0].message.as_str()
            ),
            ("http://b:2", "reachable", "connection refused")
        );
        let last = out.last().unwrap();
        assert_eq!(last.status, Status::Warn);
        assert_eq!(
            last.message,
            "2 of 3 members answered; the quorum (2) holds"
        );
        assert!(out
            .iter()
            .any(|f| f.check == "quorum" && f.message.contains("3 members: etcd1, etcd2, etcd3")));
    }

    #[test]
    fn no_quorum_and_disagreeing_leaders() {
        let mut lost = up("http://a:1", "x", &[]);
        lost.quorum = Some(false);
        lost.leader = None;
        let out = findings(
            &[lost, up("http://b:2", "y", &[]), up("http://c:3", "z", &[])],
            &[],
            Utc::now(),
        );
        assert!(out
            .iter()
            .any(|f| f.target == "http://a:1" && f.check == "quorum" && f.status == Status::Fail));
        assert!(out.iter().any(|f| f.check == "leader"
            && f.status == Status::Warn
            && f.message.contains("disagree")));
    }

    #[test]
    fn https_urls() {
        assert_eq!(
            https_host_port("https://127.0.0.1:2379"),
            Some(("127.0.0.1".into(), 2379))
        );
        assert_eq!(
            https_host_port("https://[::1]:8008/x"),
            Some(("::1".into(), 8008))
        );
        assert_eq!(https_host_port("https://db"), Some(("db".into(), 443)));
        assert_eq!(https_host_port("http://db:1"), None);
    }
}
