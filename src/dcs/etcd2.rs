//! etcd v2 back end over HTTP (`/v2/keys`), mirroring Patroni's `Etcd` DCS as patronictl uses it:
//! a quorum recursive read, `prevIndex` compare-and-swap (412 = lost), a recursive delete, and HTTP
//! basic auth. Endpoints are tried in order; a dead one is skipped within the timeout.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{unreachable, Dcs};
use crate::config::DcsSettings;
use crate::error::{Error, Result};
use crate::model::Node;

/// An etcd v2 client.
pub struct Etcd2 {
    http: reqwest::Client,
    endpoints: Vec<String>,
    auth: Option<(String, String)>,
    timeout: Duration,
}

impl Etcd2 {
    /// Build the client; no request is made until the first call.
    pub fn connect(settings: &DcsSettings) -> Result<Etcd2> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::usage(format!("cannot set up the etcd v2 HTTP client: {e}")))?;
        let auth = match (&settings.username, &settings.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            _ => None,
        };
        Ok(Etcd2 {
            http,
            endpoints: settings.endpoints.clone(),
            auth,
            timeout: settings.timeout,
        })
    }

    /// Send one request to the first endpoint that answers.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        form: Option<Vec<(&str, String)>>,
    ) -> Result<(StatusCode, Value)> {
        let mut errors = Vec::new();
        for ep in &self.endpoints {
            let mut req = self
                .http
                .request(method.clone(), format!("{ep}/v2/keys{path}"))
                .query(query);
            if let Some((u, p)) = &self.auth {
                req = req.basic_auth(u, Some(p));
            }
            if let Some(f) = &form {
                let body: String = f
                    .iter()
                    .map(|(k, v)| format!("{k}={}", urlencode(v)))
                    .collect::<Vec<_>>()
                    .join("&");
                req = req
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body);
            }
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp
                        .text()
                        .await
                        .map_err(|e| unreachable(&self.endpoints, &e.to_string()))?;
                    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if status == StatusCode::UNAUTHORIZED {
                        return Err(Error::failure(
                            "etcd refused the request: authentication failed".to_string(),
                        ));
                    }
                    return Ok((status, json));
                }
                Err(e) => errors.push(format!("{ep}: {}", short(&e))),
            }
        }
        Err(Error::unreachable(format!(
            "DCS unreachable: {}",
            errors.join("; ")
        )))
    }
}

fn short(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection refused or failed".to_string()
    } else {
        e.to_string()
    }
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
            version: node
                .get("modifiedIndex")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            session: node.get("ttl").and_then(Value::as_i64),
        });
    }
}

fn etcd_error(body: &Value, status: StatusCode) -> Error {
    let msg = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("unexpected answer");
    Error::failure(format!("etcd error {status}: {msg}"))
}

impl Dcs for Etcd2 {
    async fn read_prefix(&mut self, prefix: &str) -> Result<Vec<Node>> {
        let path = prefix.trim_end_matches('/');
        let q = [
            ("recursive", "true".to_string()),
            ("quorum", "true".to_string()),
        ];
        let (status, body) = self.send(Method::GET, path, &q, None).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !status.is_success() {
            return Err(etcd_error(&body, status));
        }
        let mut out = Vec::new();
        if let Some(node) = body.get("node") {
            walk(node, prefix, &mut out);
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn put(&mut self, key: &str, value: &str, version: Option<i64>) -> Result<bool> {
        let mut form = vec![("value", value.to_string())];
        match version {
            Some(0) => form.push(("prevExist", "false".to_string())),
            Some(v) => form.push(("prevIndex", v.to_string())),
            None => {}
        }
        let (status, body) = self.send(Method::PUT, key, &[], Some(form)).await?;
        match status {
            s if s.is_success() => Ok(true),
            StatusCode::PRECONDITION_FAILED => Ok(false),
            StatusCode::NOT_FOUND if version.is_some() => Ok(false),
            s => Err(etcd_error(&body, s)),
        }
    }

    async fn delete_prefix(&mut self, prefix: &str) -> Result<()> {
        let q = [
            ("recursive", "true".to_string()),
            ("dir", "true".to_string()),
        ];
        let (status, body) = self
            .send(Method::DELETE, prefix.trim_end_matches('/'), &q, None)
            .await?;
        if status.is_success() || status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(etcd_error(&body, status))
        }
    }

    async fn wait_for_change(&mut self, prefix: &str, timeout: Duration) -> Result<bool> {
        // etcd v2 long-polls; a bounded sleep keeps this simple and within the timeout.
        tokio::time::sleep(timeout.min(Duration::from_millis(500)).min(self.timeout)).await;
        let _ = prefix;
        Ok(true)
    }
}
