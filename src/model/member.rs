//! A member key (`members/<name>`) as Patroni's `Member.from_node` reads it: the JSON value or the
//! legacy `postgres://…?application_name=<api_url>` form, and the accessors patronictl uses (API
//! URL, host and port, tags, lag); plus Patroni's lenient `parse_int`/`parse_bool`.

use serde_json::{Map, Value};

use super::{Member, Version};
use crate::py::truth::truthy;

impl Member {
    /// Parse a member value: JSON object, or the legacy `postgres://…?application_name=<api_url>` form.
    pub fn from_node(
        name: &str,
        version: Option<Version>,
        session: Option<i64>,
        value: &str,
    ) -> Member {
        let data = if value.starts_with("postgres") {
            let mut m = Map::new();
            let (conn, api) = match value.split_once('?') {
                Some((c, q)) => (
                    c.to_string(),
                    q.split('&')
                        .find_map(|kv| kv.strip_prefix("application_name="))
                        .map(percent_decode),
                ),
                None => (value.to_string(), None),
            };
            m.insert("conn_url".into(), Value::String(conn));
            if let Some(a) = api {
                m.insert("api_url".into(), Value::String(a));
            }
            m
        } else {
            match serde_json::from_str::<Value>(value) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            }
        };
        Member {
            name: name.to_string(),
            version,
            session,
            data,
        }
    }

    /// A string field of the member data.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }

    /// `api_url`, if any.
    pub fn api_url(&self) -> Option<&str> {
        self.str_field("api_url").filter(|s| !s.is_empty())
    }

    /// `state`, `unknown` when absent.
    pub fn state(&self) -> &str {
        self.str_field("state").unwrap_or("unknown")
    }

    /// The member's tags (`{}` when none).
    pub fn tags(&self) -> Option<&Map<String, Value>> {
        self.data.get("tags").and_then(Value::as_object)
    }

    /// Patroni's `Tags.nofailover`: the `nofailover` tag wins; otherwise `failover_priority` ≤ 0.
    pub fn nofailover(&self) -> bool {
        let Some(tags) = self.tags() else {
            return false;
        };
        if let Some(v) = tags.get("nofailover") {
            return truthy(v);
        }
        match tags.get("failover_priority").and_then(parse_int) {
            Some(p) => p <= 0,
            None => false,
        }
    }

    /// An integer LSN field (`xlog_location`, `receive_lsn`, `replay_lsn`), Patroni's `parse_int`.
    pub fn lsn_field(&self, key: &str) -> Option<i64> {
        self.data.get(key).and_then(parse_int)
    }

    /// Host and port of the member's PostgreSQL, from `conn_kwargs` or `conn_url`.
    pub fn host_port(&self) -> Option<(String, Option<u16>)> {
        if let Some(Value::Object(kw)) = self.data.get("conn_kwargs") {
            if !kw.is_empty() {
                let host = kw.get("host").and_then(Value::as_str)?.to_string();
                let port = kw
                    .get("port")
                    .and_then(parse_int)
                    .and_then(|p| u16::try_from(p).ok());
                return (!host.is_empty()).then_some((host, port));
            }
        }
        let url = self.str_field("conn_url").filter(|s| !s.is_empty())?;
        let (host, port) = parse_url_host_port(url)?;
        Some((host, Some(port.unwrap_or(5432))))
    }

    /// The database name of `conn_url`'s path.
    pub fn dbname(&self) -> Option<String> {
        if let Some(Value::Object(kw)) = self.data.get("conn_kwargs") {
            if let Some(d) = kw.get("dbname").and_then(Value::as_str) {
                return Some(d.to_string());
            }
        }
        let url = self.str_field("conn_url")?;
        let after = url.split_once("://")?.1;
        let path = after.split_once('/').map(|(_, p)| p).unwrap_or("");
        Some(path.split('?').next().unwrap_or("").to_string())
    }
}

/// Host and optional port of a URL like `scheme://[user@]host[:port][/path]`.
pub fn parse_url_host_port(url: &str) -> Option<(String, Option<u16>)> {
    let after = url.split_once("://")?.1;
    let authority = after.split(['/', '?']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if let Some(rest) = authority.strip_prefix('[') {
        let (h, tail) = rest.split_once(']')?;
        let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((h.to_lowercase(), port));
    }
    let (h, p) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()),
        None => (authority, None),
    };
    if h.is_empty() {
        return None;
    }
    Some((h.to_lowercase(), p))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Patroni's `parse_int`: ints, and strings holding an int (a float string is truncated).
pub fn parse_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            })
        }
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// Patroni's `parse_bool` on a JSON value.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => crate::config::parse_bool_str(s),
        Value::Number(n) => crate::config::parse_bool_str(&n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{node, OLD3};
    use crate::model::Cluster;

    #[test]
    fn lenient_and_legacy_forms() {
        let c = Cluster::from_nodes(&[
            node("config", "{not json", 3),
            node("members/old", OLD3, 1),
            node("members/legacy", "postgres://u:p@10.0.0.9:5433/postgres?application_name=http://10.0.0.9:8008/patroni", 2),
            node("members/broken", "[1,2", 3),
            node("members/a/b", "{}", 4),
            node("optime/leader", "1234", 5),
            node("failover", "node1:node2", 6),
            node("status", "garbage", 7),
        ]);
        assert!(c.valid_config().is_none() && !c.is_paused());
        assert_eq!(c.members.len(), 3);
        assert_eq!(c.members[1].api_url(), Some("http://10.0.0.9:8008/patroni"));
        assert_eq!(
            c.members[1].host_port(),
            Some(("10.0.0.9".into(), Some(5433)))
        );
        assert!(c.members[2].data.is_empty());
        assert_eq!(c.members[2].host_port(), None);
        assert_eq!(
            c.optime, 0,
            "an unparsable status key wins over optime/leader, as in Patroni"
        );
        let f = c.failover.unwrap();
        assert_eq!(
            (f.leader.as_deref(), f.candidate.as_deref()),
            (Some("node1"), Some("node2"))
        );
    }

    #[test]
    fn nofailover_rules() {
        let m = |tags: &str| Member::from_node("x", None, None, &format!(r#"{{"tags":{tags}}}"#));
        assert!(m(r#"{"nofailover":true}"#).nofailover());
        assert!(!m(r#"{"nofailover":false,"failover_priority":0}"#).nofailover());
        assert!(m(r#"{"failover_priority":0}"#).nofailover());
        assert!(!m(r#"{"failover_priority":"2"}"#).nofailover());
    }
}
