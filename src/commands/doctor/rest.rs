//! The REST API checks of `doctor`: every member asked at once, each with three requests at once —
//! `GET /patroni` through the configured client (reachable, TLS as configured, versions, and the HTTP
//! `Date` header for the clock), `POST /citus` with `{}` (Patroni checks the credentials and the
//! client certificate first and then answers 400 to an empty event, so it changes nothing), and, on
//! `https://`, the certificate read without trusting it. Then the findings, by pure functions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::dcs::{cert_findings, https_host_port, CertOutcome};
use super::{Area, Finding, Status};
use crate::api::{Api, Failure, Method, Response};
use crate::model::Member;
use crate::peer_cert;

/// Clock differences above this many seconds are a WARN.
pub const CLOCK_WARN_SECONDS: f64 = 1.0;

/// What one member's probes brought back.
pub struct Probe {
    /// The member's name.
    pub name: String,
    /// Its `api_url`, when it has one.
    pub url: Option<String>,
    /// `GET /patroni`.
    pub status: std::result::Result<Response, Failure>,
    /// This machine's clock just before and just after `GET /patroni`.
    pub sent: DateTime<Utc>,
    /// See `sent`.
    pub received: DateTime<Utc>,
    /// How long `GET /patroni` took.
    pub elapsed: Duration,
    /// `POST /citus {}`.
    pub auth: std::result::Result<Response, Failure>,
    /// The certificate, for `https://`.
    pub cert: Option<CertOutcome>,
}

/// What the REST client is configured with, for the wording of the findings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientSetup {
    /// `-k` / `ctl.insecure`: the certificate is not (fully) verified.
    pub insecure: bool,
    /// Basic-auth credentials are configured.
    pub credentials: bool,
    /// A client certificate is configured.
    pub client_cert: bool,
}

/// Probe every member at once, each request within `budget`, and judge.
pub async fn check(
    api: &Api,
    members: &[&Member],
    budget: Duration,
    setup: ClientSetup,
) -> Vec<Finding> {
    let probes =
        futures_util::future::join_all(members.iter().map(|m| probe(api, m, budget))).await;
    let now = Utc::now();
    findings(&probes, now, setup)
}

async fn probe(api: &Api, m: &Member, budget: Duration) -> Probe {
    let url = Api::url(m, "patroni");
    let cert = async {
        let (host, port) = https_host_port(url.as_deref()?)?;
        let r = peer_cert::fetch(&host, port, budget).await;
        Some(r.map(|c| peer_cert::facts(&c, &host, Utc::now())))
    };
    let status = async {
        let sent = Utc::now();
        let t0 = tokio::time::Instant::now();
        let r = api
            .request(m, Method::GET, "patroni", None, Some(budget))
            .await;
        (r, sent, Utc::now(), t0.elapsed())
    };
    let empty = serde_json::json!({});
    let auth = api.request(m, Method::POST, "citus", Some(&empty), Some(budget));
    let ((status, sent, received, elapsed), auth, cert) = tokio::join!(status, auth, cert);
    Probe {
        name: m.name.clone(),
        url: Api::url(m, ""),
        status,
        sent,
        received,
        elapsed,
        auth,
        cert,
    }
}

/// Whether a failure was the TLS layer's (certificate refused, handshake).
fn is_tls_failure(f: &Failure) -> bool {
    let m = f.message.to_lowercase();
    ["certificate", "tls", "handshake", "ssl", "alert"]
        .iter()
        .any(|w| m.contains(w))
}

/// The findings of every member's probes.
pub fn findings(probes: &[Probe], now: DateTime<Utc>, setup: ClientSetup) -> Vec<Finding> {
    let insecure = setup.insecure;
    let mut out = Vec::new();
    let versions: Vec<String> = probes
        .iter()
        .filter_map(|p| p.status.as_ref().ok())
        .filter_map(|r| patroni_version(&r.json()))
        .collect();
    let mixed = versions.iter().any(|v| *v != versions[0]);
    for p in probes {
        let name = p.name.as_str();
        let f = |st, check: &str, msg: String| Finding::new(st, Area::Rest, name, check, msg);
        let Some(url) = &p.url else {
            out.push(f(
                Status::Fail,
                "reachable",
                "the member has no api_url".into(),
            ));
            continue;
        };
        let https = url.starts_with("https://");
        match &p.status {
            Ok(r) => {
                let ms = p.elapsed.as_secs_f64() * 1000.0;
                let st = if r.status == 200 {
                    Status::Pass
                } else {
                    Status::Warn
                };
                out.push(f(
                    st,
                    "reachable",
                    format!("{url} answered HTTP {} in {ms:.0} ms", r.status),
                ));
                if https {
                    out.push(if insecure {
                        f(
                            Status::Warn,
                            "tls",
                            "connected, certificate not fully verified (-k / ctl.insecure)".into(),
                        )
                    } else {
                        f(
                            Status::Pass,
                            "tls",
                            "certificate verified and accepted by the member".into(),
                        )
                    });
                }
            }
            Err(e) if https && is_tls_failure(e) => {
                out.push(f(Status::Fail, "tls", e.message.clone()));
            }
            Err(e) => out.push(f(Status::Fail, "reachable", e.message.clone())),
        }
        if !https {
            out.push(f(Status::Skip, "tls", format!("plain HTTP ({url})")));
        }
        out.push(auth_finding(&p.auth, setup, https, f));
        match &p.cert {
            // When neither answered, the reachable line says it all.
            Some(Err(_)) if p.status.is_err() => {}
            Some(cert) => out.extend(cert_findings(Area::Rest, name, cert, now, insecure)),
            None => {}
        }
        let Ok(r) = &p.status else { continue };
        let body = r.json();
        out.push(match patroni_version(&body) {
            Some(v) => {
                let pg = body
                    .get("server_version")
                    .and_then(Value::as_i64)
                    .filter(|v| *v > 0)
                    .map(|v| {
                        format!(
                            ", PostgreSQL {}",
                            super::super::version::format_pg_version(v)
                        )
                    })
                    .unwrap_or_else(|| ", PostgreSQL version unknown (not running?)".into());
                if mixed {
                    f(
                        Status::Warn,
                        "versions",
                        format!("Patroni {v}{pg}: the members run different Patroni versions"),
                    )
                } else {
                    f(Status::Pass, "versions", format!("Patroni {v}{pg}"))
                }
            }
            None => f(
                Status::Warn,
                "versions",
                "no Patroni version in the answer".into(),
            ),
        });
        out.push(clock_finding(r.date.as_deref(), p.sent, p.received, f));
    }
    out
}

fn patroni_version(body: &Value) -> Option<String> {
    body.pointer("/patroni/version")
        .and_then(Value::as_str)
        .map(String::from)
}

fn auth_finding(
    auth: &std::result::Result<Response, Failure>,
    setup: ClientSetup,
    https: bool,
    f: impl Fn(Status, &str, String) -> Finding,
) -> Finding {
    match auth {
        Ok(r) if r.status == 400 => {
            let what = match (setup.credentials, setup.client_cert && https) {
                (true, true) => "credentials and client certificate accepted",
                (true, false) => "credentials accepted",
                (false, true) => "client certificate accepted; no credentials needed",
                (false, false) => "no credentials needed",
            };
            f(
                Status::Pass,
                "auth",
                format!("{what} (checked with an empty POST /citus)"),
            )
        }
        Ok(r) if r.status == 401 => f(
            Status::Fail,
            "auth",
            format!(
                "credentials refused (HTTP 401{}): check ctl.authentication / restapi.authentication",
                detail(r)
            ),
        ),
        Ok(r) if r.status == 403 => f(
            Status::Fail,
            "auth",
            format!("access denied (HTTP 403{})", detail(r)),
        ),
        Ok(r) => f(
            Status::Skip,
            "auth",
            format!("cannot be checked on this member (POST /citus answered HTTP {})", r.status),
        ),
        Err(e) => f(Status::Skip, "auth", format!("not checked: {}", e.message)),
    }
}

fn detail(r: &Response) -> String {
    let text = r.body.trim();
    if text.is_empty() || text.starts_with('<') {
        String::new()
    } else {
        format!(": {}", text.lines().next().unwrap_or(text))
    }
}

/// The clock difference from the `Date` header (whole seconds): the member's clock was somewhere in
/// `[date, date + 1s)` while this one went from `sent` to `received`; the difference reported is the
/// smallest that fits both.
pub fn clock_offset(date: &str, sent: DateTime<Utc>, received: DateTime<Utc>) -> Option<f64> {
    let theirs = DateTime::parse_from_rfc2822(date).ok()?.with_timezone(&Utc);
    let secs = |d: chrono::TimeDelta| d.num_milliseconds() as f64 / 1000.0;
    let low = secs(theirs - received);
    let high = secs(theirs - sent) + 1.0;
    Some(if low > 0.0 {
        low
    } else if high < 0.0 {
        high
    } else {
        0.0
    })
}

fn clock_finding(
    date: Option<&str>,
    sent: DateTime<Utc>,
    received: DateTime<Utc>,
    f: impl Fn(Status, &str, String) -> Finding,
) -> Finding {
    let Some(date) = date else {
        return f(
            Status::Skip,
            "clock",
            "the answer has no Date header".into(),
        );
    };
    match clock_offset(date, sent, received) {
        None => f(
            Status::Skip,
            "clock",
            format!("unreadable Date header: {date}"),
        ),
        Some(d) if d.abs() > CLOCK_WARN_SECONDS => f(
            Status::Warn,
            "clock",
            format!(
                "{:.1} s {} this machine's",
                d.abs(),
                if d > 0.0 { "ahead of" } else { "behind" }
            ),
        ),
        Some(_) => f(
            Status::Pass,
            "clock",
            format!("within {CLOCK_WARN_SECONDS:.0} s of this machine's"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_offsets_allow_for_the_whole_second_and_the_round_trip() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let sent = at("2026-12-01T10:00:00.400Z");
        let received = at("2026-12-01T10:00:00.600Z");
        let same = clock_offset("Tue, 01 Dec 2026 10:00:00 GMT", sent, received);
        assert_eq!(same, Some(0.0));
        let ahead = clock_offset("Tue, 01 Dec 2026 10:00:05 GMT", sent, received).unwrap();
        assert!((ahead - 4.4).abs() < 1e-9, "{ahead}");
        let behind = clock_offset("Tue, 01 Dec 2026 09:59:50 GMT", sent, received).unwrap();
        assert!((behind + 9.4).abs() < 1e-9, "{behind}");
        assert_eq!(clock_offset("yesterday", sent, received), None);
    }
}
