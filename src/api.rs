//! The Patroni REST API client, mirroring patronictl's `request_patroni` / `PatroniRequest`: the URL is
//! the member's `api_url` scheme and host plus `/<endpoint>`, the body is `json.dumps` of the data with
//! no Content-Type, basic auth comes from `ctl.authentication` (else `restapi.authentication`), and TLS
//! uses `ctl.cacert`/`restapi.cafile`, the `ctl` client certificate (its key decrypted with
//! `ctl.keyfile_password`) and `-k`, the certificates checked by OpenSSL as Python's `ssl` does (see
//! [`crate::http_client`]).
//!
//! Unlike patronictl, every request has a timeout, and failures are typed so commands can tell
//! "could not connect" (nothing happened) from "sent, no answer" (outcome unknown).
//! A failure keeps the error below it (the connection's, a TLS refusal) as its [`Cause`], and says
//! what to do next: a TLS refusal names the certificate and the setting to change
//! ([`tls_hint`]); a refused request's status gets [`StatusHints::hint`] (the credentials sent for
//! 401/403, Patroni's words for 412/503).

use std::time::Duration;

use serde_json::Value;

use crate::config::RestSettings;
use crate::error::{Cause, Error, Exit, Result};
use crate::http_client::{self, HttpClient, HttpError, TlsRefusal, TlsSettings, Verify};
use crate::model::Member;
use crate::py::json as pyjson;

pub use crate::http_client::Method;

/// An HTTP answer from a member.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
    /// The `Date` header (the member's clock, to the second), when sent.
    pub date: Option<String>,
}

impl Response {
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Why a request failed before an HTTP status came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The member has no `api_url`, or it is not a valid URL: nothing was sent.
    NoUrl,
    /// The connection could not be made: nothing was sent.
    Connect,
    /// The request may have been sent, but no answer came within the timeout.
    Timeout,
    /// Anything else (TLS, a broken connection mid-answer).
    Other,
}

/// A request that got no HTTP answer.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong.
    pub kind: FailureKind,
    /// One line naming the member and URL.
    pub message: String,
    /// The error below (the connection's, the TLS refusal), kept as the [`Error`]'s source.
    pub cause: Option<Cause>,
    /// What to do next (a TLS refusal names the certificate and the setting to change).
    pub hint: Option<String>,
}

impl Failure {
    /// A failure with nothing below it.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
            cause: None,
            hint: None,
        }
    }

    /// The exit code of a request that got no HTTP answer: nothing sent (3), outcome unknown (5),
    /// anything else (1). The one mapping, for single requests and per-member outcomes alike.
    pub fn exit(&self) -> Exit {
        match self.kind {
            FailureKind::Timeout => Exit::Unknown,
            FailureKind::Connect => Exit::Unreachable,
            FailureKind::NoUrl | FailureKind::Other => Exit::Failure,
        }
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        let mut e = Error::with_exit(f.exit(), f.message);
        if let Some(c) = f.cause {
            e = e.with_source(c);
        }
        match f.hint {
            Some(h) => e.with_hint(h),
            None => e,
        }
    }
}

/// The settings a TLS refusal's hint names for the REST API client.
const CA_SETTING: &str = "ctl.cacert (or restapi.cafile)";
const CLIENT_SETTING: &str = "ctl.certfile and ctl.keyfile";

/// The hint of a request to `url` whose TLS handshake was refused: which certificate, which name,
/// why. A refusal the server sends after the handshake (TLS 1.3 reports a missing client certificate
/// on the first read) is known by its alert.
pub fn tls_hint(cause: &Cause, url: &str) -> Option<String> {
    if let Some(refusal) = cause.below().and_then(|b| b.downcast_ref::<TlsRefusal>()) {
        return Some(refusal.hint(CA_SETTING, CLIENT_SETTING));
    }
    if !cause.contains("alert") {
        return None;
    }
    let host = url
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(|h| h.trim_matches(['[', ']']).to_string()))
        .unwrap_or_default();
    let refusal = TlsRefusal::new(
        &host,
        openssl::x509::X509VerifyResult::OK,
        None,
        cause.to_string(),
    );
    Some(refusal.hint(CA_SETTING, CLIENT_SETTING))
}

/// A REST client configured from `ctl:`/`restapi:`.
pub struct Api {
    http: HttpClient,
    auth: Option<(String, String)>,
    auth_key: Option<&'static str>,
    timeout: Duration,
}

impl Api {
    /// Build the client (reads the CA file, and the client certificate and key, decrypting the key with
    /// `ctl.keyfile_password`).
    ///
    /// As patronictl's urllib3 pool: the server certificate is always verified (`CERT_REQUIRED`) against
    /// the CA file when one is given (it replaces the default trust store) or the system's; `-k` with a
    /// client certificate only skips the host name check (`assert_hostname = False`), `-k` without one
    /// turns verification off (`CERT_NONE`).
    pub fn new(rest: &RestSettings) -> Result<Api> {
        let client = http_client::client_cert(
            rest.certfile.as_deref(),
            rest.keyfile.as_deref(),
            rest.keyfile_password.as_deref(),
            Some("ctl.keyfile_password"),
            "client",
        )?;
        let verify = match (rest.insecure, client.is_some()) {
            (false, _) => Verify::Full,
            (true, true) => Verify::ChainOnly,
            (true, false) => Verify::None,
        };
        let tls = TlsSettings {
            ca: None,
            client,
            verify,
        }
        .with_ca(rest.cacert.as_deref(), "CA file")?;
        Ok(Api {
            http: HttpClient::new(tls)?,
            auth: rest.auth.clone(),
            auth_key: rest.auth_key,
            timeout: rest.timeout,
        })
    }

    /// The URL patronictl would use: `api_url`'s scheme and authority plus `/<endpoint>`; with no
    /// endpoint, `api_url` as stored.
    pub fn url(member: &Member, endpoint: &str) -> Option<String> {
        let api = member.api_url()?;
        if endpoint.is_empty() {
            return Some(api.to_string());
        }
        let (scheme, rest) = api.split_once("://")?;
        let authority = rest
            .split(['/', '?', '#'])
            .next()
            .filter(|a| !a.is_empty())?;
        Some(format!("{scheme}://{authority}/{endpoint}"))
    }

    /// Send one request to a member, bounded by the timeout (or `timeout` when given).
    pub async fn request(
        &self,
        member: &Member,
        method: Method,
        endpoint: &str,
        body: Option<&Value>,
        timeout: Option<Duration>,
    ) -> std::result::Result<Response, Failure> {
        let Some(url) = Self::url(member, endpoint) else {
            return Err(Failure::new(
                FailureKind::NoUrl,
                format!("member {} has no usable api_url", member.name),
            ));
        };
        let fail = |kind: FailureKind, why: String| {
            Failure::new(kind, format!("member {} at {url}: {why}", member.name))
        };
        let body = body.map(pyjson::dumps);
        let timeout = timeout.unwrap_or(self.timeout);
        match self
            .http
            .send(method, &url, self.auth.as_ref(), &[], body, timeout)
            .await
        {
            Ok(r) => Ok(Response {
                status: r.status.as_u16(),
                date: r
                    .headers
                    .get(http::header::DATE)
                    .and_then(|v| v.to_str().ok())
                    .map(String::from),
                body: r.body,
            }),
            Err(HttpError::Timeout) => Err(fail(
                FailureKind::Timeout,
                "no answer within the timeout".into(),
            )),
            Err(HttpError::Connect(why)) => Err(Failure {
                hint: tls_hint(&why, &url),
                cause: Some(why.clone()),
                ..fail(FailureKind::Connect, format!("cannot connect: {why}"))
            }),
            Err(HttpError::Other(why)) => Err(Failure {
                hint: tls_hint(&why, &url),
                cause: Some(why.clone()),
                ..fail(FailureKind::Other, why.to_string())
            }),
        }
    }

    /// The hint for a status Patroni answered with that needs one (see [`StatusHints::hint`]).
    pub fn status_hint(&self, status: u16, body: &str) -> Option<String> {
        self.hints().hint(status, body)
    }

    /// What the hints of refused requests need to know of this client (the credentials it sends).
    pub fn hints(&self) -> StatusHints {
        StatusHints {
            user: self.auth.as_ref().map(|(u, _)| u.clone()),
            key: self.auth_key,
        }
    }
}

/// The hints for statuses Patroni refuses a request with: which credentials were sent (401, 403),
/// what Patroni said and what to check (412, 503).
#[derive(Debug, Clone, Default)]
pub struct StatusHints {
    user: Option<String>,
    key: Option<&'static str>,
}

impl StatusHints {
    /// The hint for `status` (with Patroni's answer `body`), `None` for a status that needs none.
    pub fn hint(&self, status: u16, body: &str) -> Option<String> {
        let said = said(body);
        let sent = match &self.user {
            Some(user) => format!(
                "username '{user}' from {}",
                self.key.unwrap_or("the configuration")
            ),
            None => {
                "no credentials (none of ctl.authentication, ctl.auth, restapi.authentication is set)"
                    .to_string()
            }
        };
        match status {
            401 => Some(format!(
                "Patroni refused the request as unauthenticated{said}; sent: {sent}. They must match the member's restapi.authentication"
            )),
            403 => Some(format!(
                "Patroni denied access{said}; sent: {sent}. Check that the member's restapi.allowlist (and allowlist_include_members) admits this host, and, with restapi.verify_client, that ctl.certfile and ctl.keyfile name a client certificate it trusts"
            )),
            412 => Some(format!(
                "Patroni found a precondition unmet{said}: check the names given and the cluster's state (`patctl list`: the leader, a streaming candidate without nofailover, pause)"
            )),
            503 => Some(format!(
                "Patroni could not do it now{said}: check that the member runs PostgreSQL and reaches the DCS (`patctl list`, the member's Patroni log), then try again"
            )),
            _ => None,
        }
    }
}

/// What Patroni said, for a hint: ` ("<first line of the body>")`, cut to 200 characters, or nothing
/// for an empty body.
fn said(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return String::new();
    }
    let cut: String = line.chars().take(200).collect();
    let more = if cut.len() < line.len() { "…" } else { "" };
    format!(" (\"{cut}{more}\")")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_replaces_path() {
        let m = Member::from_node(
            "n",
            None,
            None,
            r#"{"api_url":"https://10.0.0.1:8008/patroni?x=1"}"#,
        );
        assert_eq!(
            Api::url(&m, "switchover").unwrap(),
            "https://10.0.0.1:8008/switchover"
        );
        assert_eq!(
            Api::url(&m, "").unwrap(),
            "https://10.0.0.1:8008/patroni?x=1"
        );
        let none = Member::from_node("n", None, None, "{}");
        assert!(Api::url(&none, "x").is_none());
    }
}
