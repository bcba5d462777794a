//! etcd v2 back end over HTTP (`/v2/keys`), mirroring Patroni's `Etcd` DCS (python-etcd) as patronictl
//! uses it: `/v2/machines` discovery, a quorum recursive read, `prevIndex` compare-and-swap (412 = lost),
//! a recursive delete, HTTP basic auth, and TLS with a CA and a client certificate.
//!
//! Unlike patronictl (which retries forever), every call is bounded by the one rule of `dcs/retry.rs`:
//! endpoints are tried one at a time, each with a share of the timeout, so a dead or hung member is
//! skipped, a write that may have been sent is never repeated (exit 5), and when none answers the error
//! names each endpoint and why it failed.

use std::time::Duration;

use serde_json::Value;

use async_trait::async_trait;

use super::retry::{self, fail_over_order, tidy_reason, Attempts, Call, Miss, Why};
use super::{Expect, KeyChange, KeyValue, KvChanges, Version};
use crate::config::DcsSettings;
use crate::error::{Error, Result};
use crate::http_client::{HttpClient, HttpError, Method, StatusCode};
use crate::model::Node;

/// An etcd v2 client.
pub struct Etcd2 {
    http: HttpClient,
    /// Endpoints in fail-over order; the first one is the one in use.
    order: Vec<String>,
    auth: Option<(String, String)>,
    timeout: Duration,
    /// `X-Etcd-Index` of the last read, so a wait sees every change made after it.
    last_index: Option<u64>,
    /// The settings connected with, for the per-endpoint statuses.
    settings: DcsSettings,
}

/// One HTTP answer from etcd.
struct Answer {
    status: StatusCode,
    body: Value,
    index: Option<u64>,
}

/// The HTTP client: TLS verified against `cacert` only (when given), with the client certificate.
/// As python-etcd's urllib3 pool in Patroni, the key cannot be encrypted (Patroni has no password
/// setting for it).
fn http_client(settings: &DcsSettings) -> Result<HttpClient> {
    HttpClient::new(super::etcd_tls(settings)?)
}

/// Sort a transport error: refused or failed before the request left is safe to try elsewhere.
fn miss_of(e: HttpError, budget: Duration) -> Miss {
    match e {
        HttpError::Timeout => Miss::MaybeSent(Attempts::no_answer(budget).into()),
        HttpError::Connect(why) => Miss::NotSent(tidy_reason(&why).into()),
        HttpError::Other(why) => Miss::MaybeSent(tidy_reason(&why).into()),
    }
}

impl Etcd2 {
    /// Find a member that answers `GET /v2/machines` (each configured endpoint in turn, each within its
    /// share of the timeout) and learn the cluster's client URLs from it, as python-etcd does. With
    /// `use_proxies` the configured endpoints are used as they are, without asking.
    pub async fn connect(settings: &DcsSettings) -> Result<Etcd2> {
        let mut me = Etcd2 {
            http: http_client(settings)?,
            order: settings.endpoints.clone(),
            auth: match (&settings.username, &settings.password) {
                (Some(u), Some(p)) => Some((u.clone(), p.clone())),
                _ => None,
            },
            timeout: settings.timeout,
            last_index: None,
            settings: settings.clone(),
        };
        if settings.use_proxies {
            return Ok(me);
        }
        let configured = &settings.endpoints;
        let this = &me;
        let (advertised, at) =
            retry::first_answering(configured, settings.timeout, |ep, budget| async move {
                // Asking is a read: whatever failed, try the next one.
                this.machines(ep, budget).await.map_err(|miss| match miss {
                    Miss::MaybeSent(why) => Miss::NotSent(why),
                    other => other,
                })
            })
            .await?;
        me.order = fail_over_order(&configured[at], &advertised, configured, false);
        Ok(me)
    }

    /// `GET <ep>/v2/machines`: the comma-separated client URLs of the cluster.
    async fn machines(&self, ep: &str, budget: Duration) -> std::result::Result<Vec<String>, Miss> {
        let resp = self
            .http
            .send(
                Method::GET,
                &format!("{ep}/v2/machines"),
                self.auth.as_ref(),
                &[],
                None,
                budget,
            )
            .await
            .map_err(|e| miss_of(e, budget))?;
        let status = resp.status;
        let text = resp.body;
        if status == StatusCode::UNAUTHORIZED {
            return Err(Miss::Fatal(self.auth_error()));
        }
        if !status.is_success() {
            return Err(Miss::NotSent(Why::from(format!(
                "GET /v2/machines answered {}: no etcd v2 API here? (etcd 3.4+ serves it only with --enable-v2)",
                status.as_u16()
            ))));
        }
        Ok(text
            .split(',')
            .map(|m| m.trim().to_string())
            .filter(|m| m.contains("://"))
            .collect())
    }

    fn auth_error(&self) -> Error {
        match &self.auth {
            Some((u, _)) => Error::failure(format!(
                "etcd authentication failed for user '{u}': wrong user name or password"
            )),
            None => Error::failure(
                "etcd requires authentication: set username and password in the etcd section",
            ),
        }
    }

    /// Send one request by the one retry rule ([`retry::run`]): to the endpoint in use, then to the
    /// next ones in fail-over order; the member that answered stays in use. A write (any method but
    /// `GET`) is never repeated once it may have been sent.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        form: Option<&[(&str, String)]>,
    ) -> Result<Answer> {
        let call = if method == Method::GET {
            Call::Read
        } else {
            Call::Write("write")
        };
        let order = self.order.clone();
        let (this, method) = (&*self, &method);
        let (answer, (), at) =
            retry::run(
                &order,
                self.timeout,
                call,
                |_, _| async { Ok(()) },
                |ep, (), budget| async move {
                    this.send_to(ep, method, path, query, form, budget).await
                },
            )
            .await?;
        retry::prefer(&mut self.order, at);
        Ok(answer)
    }

    /// One v2 long poll (`wait=true&recursive=true`) of `prefix` on the current endpoint, from
    /// `wait_index` when given (else from now on): the endpoint asked and its answer.
    async fn long_poll(
        &self,
        prefix: &str,
        wait_index: Option<String>,
        timeout: Duration,
    ) -> (String, std::result::Result<Answer, Miss>) {
        let mut q = vec![
            ("wait", "true".to_string()),
            ("recursive", "true".to_string()),
        ];
        if let Some(i) = wait_index {
            q.push(("waitIndex", i));
        }
        let ep = self.order.first().cloned().unwrap_or_default();
        let path = prefix.trim_end_matches('/');
        let answer = self
            .send_to(&ep, &Method::GET, path, &q, None, timeout)
            .await;
        (ep, answer)
    }

    async fn send_to(
        &self,
        ep: &str,
        method: &Method,
        path: &str,
        query: &[(&str, String)],
        form: Option<&[(&str, String)]>,
        budget: Duration,
    ) -> std::result::Result<Answer, Miss> {
        let encode = |pairs: &[(&str, String)]| {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", urlencode(v)))
                .collect::<Vec<_>>()
                .join("&")
        };
        let mut url = format!("{ep}/v2/keys{path}");
        if !query.is_empty() {
            url.push('?');
            url.push_str(&encode(query));
        }
        let (headers, body): (&[(&str, &str)], _) = match form {
            Some(f) => (
                &[("Content-Type", "application/x-www-form-urlencoded")],
                Some(encode(f)),
            ),
            None => (&[], None),
        };
        let resp = self
            .http
            .send(
                method.clone(),
                &url,
                self.auth.as_ref(),
                headers,
                body,
                budget,
            )
            .await
            .map_err(|e| miss_of(e, budget))?;
        let status = resp.status;
        let index = resp
            .headers
            .get("X-Etcd-Index")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let text = resp.body;
        if status == StatusCode::UNAUTHORIZED {
            return Err(Miss::Fatal(self.auth_error()));
        }
        if status.is_server_error() {
            // etcd could not serve it (no leader, request timed out inside the cluster).
            return Err(Miss::MaybeSent(Why::from(format!(
                "HTTP {}: {}",
                status.as_u16(),
                etcd_message(&serde_json::from_str(&text).unwrap_or(Value::Null), &text)
            ))));
        }
        Ok(Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            index,
        })
    }
}

/// The "DCS unreachable" error of a long poll that could not reach `ep`.
fn unreachable(ep: &str, why: Why, timeout: Duration) -> Error {
    let mut a = Attempts::new(timeout);
    a.fail(ep, why);
    a.into_error(&[])
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn walk(node: &Value, prefix: &str, out: &mut Vec<Node>) {
    if let Some(children) = node.get("nodes").and_then(Value::as_array) {
        for c in children {
            walk(c, prefix, out);
        }
        return;
    }
    if node.get("dir").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let (Some(key), Some(value)) = (
        node.get("key").and_then(Value::as_str),
        node.get("value").and_then(Value::as_str),
    ) else {
        return;
    };
    if let Some(rel) = key.strip_prefix(prefix) {
        out.push(Node {
            key: rel.to_string(),
            value: value.to_string(),
            version: Version::new(
                node.get("modifiedIndex")
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
            ),
            session: node.get("ttl").and_then(Value::as_i64),
        });
    }
}

fn etcd_message(body: &Value, text: &str) -> String {
    body.get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| tidy_reason(text))
}

fn etcd_error(answer: &Answer) -> Error {
    let msg = etcd_message(&answer.body, "unexpected answer");
    match answer.status {
        StatusCode::FORBIDDEN => Error::failure(format!("etcd refused the request: {msg}")),
        s => Error::failure(format!("etcd error {}: {msg}", s.as_u16())),
    }
}

#[async_trait]
impl KeyValue for Etcd2 {
    async fn read_prefix(&mut self, prefix: &str) -> Result<Vec<Node>> {
        let path = prefix.trim_end_matches('/');
        let q = [
            ("recursive", "true".to_string()),
            ("quorum", "true".to_string()),
        ];
        let answer = self.send(Method::GET, path, &q, None).await?;
        self.last_index = answer.index.or(self.last_index);
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !answer.status.is_success() {
            return Err(etcd_error(&answer));
        }
        let mut out = Vec::new();
        if let Some(node) = answer.body.get("node") {
            walk(node, prefix, &mut out);
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn put(&mut self, key: &str, value: &str, expect: Expect) -> Result<bool> {
        let mut form = vec![("value", value.to_string())];
        match expect {
            Expect::Absent => form.push(("prevExist", "false".to_string())),
            Expect::At(v) => form.push(("prevIndex", v.raw().to_string())),
            Expect::Any => {}
        }
        let answer = self.send(Method::PUT, key, &[], Some(&form)).await?;
        let won = match answer.status {
            s if s.is_success() => true,
            StatusCode::PRECONDITION_FAILED => false,
            StatusCode::NOT_FOUND if expect != Expect::Any => false,
            _ => return Err(etcd_error(&answer)),
        };
        Ok(won)
    }

    async fn delete_prefix(&mut self, prefix: &str) -> Result<()> {
        let q = [
            ("recursive", "true".to_string()),
            ("dir", "true".to_string()),
        ];
        let answer = self
            .send(Method::DELETE, prefix.trim_end_matches('/'), &q, None)
            .await?;
        if answer.status.is_success() || answer.status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(etcd_error(&answer))
        }
    }

    /// A v2 long poll (`wait=true&recursive=true`) from just after the last read, so no change in between
    /// is missed; without a read before it, from now on.
    async fn wait_for_change(&mut self, prefix: &str, timeout: Duration) -> Result<bool> {
        let wait_index = self.last_index.map(|i| (i + 1).to_string());
        let (ep, answer) = self.long_poll(prefix, wait_index, timeout).await;
        match answer {
            Ok(answer) if answer.status.is_success() => {
                if let Some(i) = answer
                    .body
                    .get("node")
                    .and_then(|n| n.get("modifiedIndex"))
                    .and_then(Value::as_u64)
                {
                    self.last_index = Some(i);
                }
                Ok(true)
            }
            // 400 "event index cleared": too much changed since; the caller re-reads anyway.
            Ok(answer) if answer.status == StatusCode::BAD_REQUEST => Ok(true),
            Ok(answer) => Err(etcd_error(&answer)),
            Err(Miss::Fatal(e)) => Err(e),
            Err(Miss::MaybeSent(_)) => Ok(false),
            Err(Miss::NotSent(why)) => Err(unreachable(&ep, why, timeout)),
        }
    }

    fn describe(&self) -> String {
        format!(
            "etcd v2 at {}",
            self.order.first().map_or("", String::as_str)
        )
    }

    async fn read_prefix_at(
        &mut self,
        prefix: &str,
        at: Option<i64>,
    ) -> Result<(Vec<Node>, Option<i64>)> {
        if at.is_some() {
            return Err(Error::usage(
                "etcd v2 cannot read the keys as they were at a past index: --since-revision needs etcd v3",
            ));
        }
        let nodes = self.read_prefix(prefix).await?;
        Ok((nodes, self.last_index.and_then(|i| i64::try_from(i).ok())))
    }

    /// One v2 long poll from `after + 1`: one change per answer (etcd v2 keeps the last 1000).
    async fn changes(
        &mut self,
        prefix: &str,
        after: Option<i64>,
        timeout: Duration,
    ) -> Result<KvChanges> {
        let wait_index = after.map(|i| (i + 1).to_string());
        let (ep, answer) = self.long_poll(prefix, wait_index, timeout).await;
        match answer {
            Ok(answer) if answer.status.is_success() => Ok(change_of(&answer.body)),
            // 400 "event index cleared": the change asked for is out of etcd's history.
            Ok(answer) if answer.status == StatusCode::BAD_REQUEST => Ok(KvChanges::Compacted),
            Ok(answer) => Err(etcd_error(&answer)),
            Err(Miss::Fatal(e)) => Err(e),
            // The long poll ran out (or the answer was cut): ask again from the same index.
            Err(Miss::MaybeSent(_)) => Ok(KvChanges::Idle),
            Err(Miss::NotSent(why)) => {
                if self.order.len() > 1 {
                    // The next call polls the next endpoint; it answers or fails the same way.
                    self.order.rotate_left(1);
                    return Ok(KvChanges::Reconnected(self.order[0].clone()));
                }
                Err(unreachable(&ep, why, timeout))
            }
        }
    }

    /// The session of an etcd v2 key is its remaining `ttl` as read: nothing to ask.
    async fn time_to_live(&mut self, sessions: &[i64]) -> Result<Vec<Option<super::KeyTtl>>> {
        Ok(sessions
            .iter()
            .map(|ttl| {
                (*ttl >= 0).then_some(super::KeyTtl {
                    granted: None,
                    remaining: *ttl as f64,
                })
            })
            .collect())
    }

    async fn endpoint_statuses(
        &mut self,
        probe_key: &str,
        budget: Duration,
    ) -> Vec<super::EndpointStatus> {
        statuses(&self.settings, probe_key, budget).await
    }
}

/// The change a v2 watch answer reports; a directory change (a recursive delete, a TTL on a
/// directory) cannot be applied key by key, so the keys are read again.
fn change_of(body: &Value) -> KvChanges {
    let Some(node) = body.get("node") else {
        return KvChanges::Reread;
    };
    let action = body.get("action").and_then(Value::as_str).unwrap_or("");
    let (Some(key), Some(index)) = (
        node.get("key").and_then(Value::as_str),
        node.get("modifiedIndex").and_then(Value::as_i64),
    ) else {
        return KvChanges::Reread;
    };
    if node.get("dir").and_then(Value::as_bool) == Some(true) {
        return KvChanges::Reread;
    }
    let deleted = matches!(action, "delete" | "expire" | "compareAndDelete");
    let value = node.get("value").and_then(Value::as_str);
    KvChanges::Batch(vec![KeyChange {
        revision: index,
        key: key.to_string(),
        value: if deleted {
            None
        } else {
            value.map(String::from)
        },
        session: node.get("ttl").and_then(Value::as_i64),
    }])
}

mod status;
pub(super) use status::statuses;
