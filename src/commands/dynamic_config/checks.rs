//! Checks `edit-config` makes beyond patronictl: which changed PostgreSQL parameters need a restart
//! and which a reload, and values Patroni would reject or silently ignore: Patroni settings here,
//! PostgreSQL parameters by type, unit and range for the cluster's major (see [`pg_params`]).
//!
//! Patroni reads `ttl`, `loop_wait` and `retry_timeout` with `int()`: a value that is not an integer
//! makes it discard the whole new dynamic configuration (`Config.set_dynamic_configuration` logs an
//! exception). Values below its minimums (loop_wait 1, retry_timeout 3, ttl 20) and breaking
//! `loop_wait + 2*retry_timeout <= ttl` are adjusted by Patroni with a log warning: patctl warns too.
//! Lag and timeout settings that do not parse as numbers silently fall back to their defaults.

use serde_json::{Map, Value};

use super::pg_params;
use crate::py::truth::py_eq;

/// A numeric reading of a config value the way Patroni's `int()`/`parse_int` would accept it.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>()
                .ok()
                .map(|i| i as f64)
                .or_else(|| t.parse::<f64>().ok().filter(|f| f.is_finite()))
        }
        _ => None,
    }
}

fn show(v: &Value) -> String {
    crate::py::json::dumps(v)
}

/// Settings whose value must be a number, with the smallest acceptable value (`None`: any).
const NUMERIC: &[(&str, Option<f64>, bool)] = &[
    // (key, minimum, must be an integer)
    ("ttl", Some(1.0), true),
    ("loop_wait", Some(1.0), true),
    ("retry_timeout", Some(1.0), true),
    ("maximum_lag_on_failover", Some(0.0), false),
    ("maximum_lag_on_syncnode", None, false),
    ("synchronous_node_count", Some(1.0), true),
    ("primary_start_timeout", Some(0.0), false),
    ("primary_stop_timeout", Some(0.0), false),
    ("master_start_timeout", Some(0.0), false),
    ("master_stop_timeout", Some(0.0), false),
    ("max_timelines_history", Some(0.0), true),
    ("member_slots_ttl", Some(0.0), false),
];

/// Refusals for obviously invalid values among the keys that `changed` sets differently from
/// `current`. Each message names the key and the value.
pub fn invalid_values(current: &Map<String, Value>, changed: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (key, min, integer) in NUMERIC {
        let Some(v) = changed.get(*key) else { continue };
        if current.get(*key).is_some_and(|c| py_eq(c, v)) {
            continue;
        }
        let ok = match number(v) {
            Some(n) => (!integer || n.fract() == 0.0) && min.is_none_or(|m| n >= m),
            None => false,
        };
        if !ok {
            let what = match (integer, min) {
                (true, Some(m)) if *m >= 1.0 => "a positive integer".to_string(),
                (true, _) => "an integer".to_string(),
                (false, Some(m)) => format!("a number >= {m}"),
                (false, None) => "a number".to_string(),
            };
            out.push(format!("{key} must be {what}, not {}", show(v)));
        }
    }
    if let Some(v) = changed.get("synchronous_mode") {
        let ok = matches!(v, Value::Bool(_))
            || v.as_str().is_some_and(|s| {
                [
                    "quorum", "on", "off", "true", "false", "yes", "no", "1", "0",
                ]
                .contains(&s.to_lowercase().as_str())
            });
        if !ok && !current.get("synchronous_mode").is_some_and(|c| py_eq(c, v)) {
            out.push(format!(
                "synchronous_mode must be true, false or quorum, not {}",
                show(v)
            ));
        }
    }
    out
}

/// Warnings for timing values Patroni will adjust (only when one of them changed).
pub fn timing_warnings(current: &Map<String, Value>, changed: &Map<String, Value>) -> Vec<String> {
    let keys = ["ttl", "loop_wait", "retry_timeout"];
    if keys
        .iter()
        .all(|k| match (current.get(*k), changed.get(*k)) {
            (Some(a), Some(b)) => py_eq(a, b),
            (None, None) => true,
            _ => false,
        })
    {
        return Vec::new();
    }
    let get = |k: &str, default: f64| changed.get(k).and_then(number).unwrap_or(default);
    let (ttl, loop_wait, retry) = (
        get("ttl", 30.0),
        get("loop_wait", 10.0),
        get("retry_timeout", 10.0),
    );
    let mut out = Vec::new();
    for (k, v, min) in [
        ("loop_wait", loop_wait, 1.0),
        ("retry_timeout", retry, 3.0),
        ("ttl", ttl, 20.0),
    ] {
        if v < min {
            out.push(format!(
                "{k}={v} is below Patroni's minimum {min}: Patroni will use {min}"
            ));
        }
    }
    if loop_wait.max(1.0) + 2.0 * retry.max(3.0) > ttl.max(20.0) {
        out.push(format!(
            "loop_wait + 2*retry_timeout ({loop_wait} + 2*{retry}) is more than ttl ({ttl}): Patroni will lower loop_wait or retry_timeout"
        ));
    }
    out
}

/// The `postgresql.parameters` section of a config (empty when absent).
fn parameters(config: &Map<String, Value>) -> Map<String, Value> {
    config
        .get("postgresql")
        .and_then(|p| p.get("parameters"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The text Patroni writes to postgresql.conf for a value (booleans become `on`/`off`).
fn guc_text(v: &Value) -> String {
    match v {
        Value::Bool(true) => "on".into(),
        Value::Bool(false) => "off".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The names of the parameters whose value differs between the two configs (added and removed too),
/// sorted.
pub fn changed_params(current: &Map<String, Value>, changed: &Map<String, Value>) -> Vec<String> {
    let (before, after) = (parameters(current), parameters(changed));
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| match (before.get(*name), after.get(*name)) {
            (Some(a), Some(b)) => !(py_eq(a, b) || guc_text(a) == guc_text(b)),
            _ => true,
        })
        .cloned()
        .collect()
}

/// When changed PostgreSQL parameters take effect, grouped for the note under the diff.
#[derive(Debug, Default, PartialEq)]
pub struct ParamEffects {
    /// The PostgreSQL major the parameters were looked up for.
    pub major: u32,
    /// Whether that is the cluster's own major (else a fallback: unknown names are not refused).
    pub exact: bool,
    /// postmaster-context parameters: the members need a restart.
    pub restart: Vec<String>,
    /// Every other settable context: applied when Patroni reloads PostgreSQL.
    pub reload: Vec<String>,
    /// internal-context parameters: PostgreSQL does not allow setting them.
    pub read_only: Vec<String>,
    /// Recovery parameters: Patroni manages them and drops them from `postgresql.parameters`.
    pub recovery: Vec<String>,
    /// Not a parameter of this major (an extension's, or a typo).
    pub unknown: Vec<String>,
}

/// Classify the parameters whose value differs between the two configs (added and removed too)
/// by their context in PostgreSQL `major`.
pub fn param_effects(
    current: &Map<String, Value>,
    changed: &Map<String, Value>,
    major: u32,
    exact: bool,
) -> ParamEffects {
    let mut fx = ParamEffects {
        major,
        exact,
        ..ParamEffects::default()
    };
    for name in changed_params(current, changed) {
        let list = match pg_params::lookup(major, &name) {
            Some(p) if p.kind == "recovery" => &mut fx.recovery,
            Some(p) if p.kind == "internal" => &mut fx.read_only,
            Some(p) if p.needs_restart() => &mut fx.restart,
            Some(_) => &mut fx.reload,
            None => &mut fx.unknown,
        };
        list.push(name);
    }
    fx
}

/// Refusals for the PostgreSQL parameters that `changed` sets differently from `current`, checked
/// against PostgreSQL `major` as Patroni checks them before writing `postgresql.conf`: the type,
/// unit and range of the value, names PostgreSQL does not know (a name with a dot belongs to an
/// extension and is not checked; unknown names are refused only when `exact`, `major` being the
/// cluster's own), read-only and recovery parameters.
pub fn invalid_params(
    current: &Map<String, Value>,
    changed: &Map<String, Value>,
    major: u32,
    exact: bool,
) -> Vec<String> {
    let after = parameters(changed);
    let mut out = Vec::new();
    for name in changed_params(current, changed) {
        let Some(value) = after.get(&name).filter(|v| !v.is_null()) else {
            continue;
        };
        match pg_params::lookup(major, &name) {
            Some(p) => out.extend(pg_params::check(p, &name, value, major)),
            None if name.contains('.') || !exact => {}
            None => out.push(format!(
                "{name} is not a PostgreSQL {major} parameter (Patroni would drop it)"
            )),
        }
    }
    out
}

impl ParamEffects {
    /// The note's lines (none when no parameter changed).
    pub fn lines(&self) -> Vec<String> {
        let unknown = format!(
            "Not a PostgreSQL {} parameter (extension or typo?)",
            self.major
        );
        [
            ("Needs a restart", &self.restart),
            ("Applied on reload", &self.reload),
            ("Read-only in PostgreSQL (ignored)", &self.read_only),
            (
                "Recovery parameter, managed by Patroni (dropped)",
                &self.recovery,
            ),
            (unknown.as_str(), &self.unknown),
        ]
        .iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(label, names)| format!("{label}: {}", names.join(", ")))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn effects_by_context() {
        let cur = map(
            json!({"postgresql": {"parameters": {"max_connections": 100, "work_mem": "4MB", "x.y": 1, "hot_standby": "on"}}}),
        );
        let new = map(
            json!({"postgresql": {"parameters": {"max_connections": "200", "work_mem": "8MB", "x.y": 1, "hot_standby": true, "Shared_Buffers": "1GB", "block_size": 1, "nosuch": 1}}}),
        );
        let fx = param_effects(&cur, &new, 15, true);
        assert_eq!(fx.restart, vec!["Shared_Buffers", "max_connections"]);
        assert_eq!(fx.reload, vec!["work_mem"]);
        assert_eq!(fx.read_only, vec!["block_size"]);
        assert_eq!(fx.unknown, vec!["nosuch"]);
        assert_eq!(fx.lines()[1], "Applied on reload: work_mem");
        assert!(param_effects(&cur, &cur, 15, true).lines().is_empty());
        assert_eq!(
            invalid_params(&cur, &new, 15, true),
            vec![
                "block_size is read-only in PostgreSQL (fixed when it was built or initialised)",
                "nosuch is not a PostgreSQL 15 parameter (Patroni would drop it)"
            ]
        );
        // Per major: reserved_connections exists from 16 on.
        let rc = map(json!({"postgresql": {"parameters": {"reserved_connections": 3}}}));
        let none = Map::new();
        assert_eq!(invalid_params(&none, &rc, 16, true), Vec::<String>::new());
        assert_eq!(
            param_effects(&none, &rc, 16, true).restart,
            vec!["reserved_connections"]
        );
        assert_eq!(invalid_params(&none, &rc, 15, true).len(), 1);
        assert_eq!(invalid_params(&none, &rc, 15, false), Vec::<String>::new());
        // Unchanged values are not re-checked; removed ones are not checked.
        let bad = map(
            json!({"postgresql": {"parameters": {"work_mem": "lots", "max_connections": 100}}}),
        );
        assert_eq!(invalid_params(&bad, &bad, 15, true), Vec::<String>::new());
        assert_eq!(invalid_params(&bad, &cur, 15, true), Vec::<String>::new());
        assert_eq!(invalid_params(&cur, &bad, 15, true).len(), 1);
    }

    #[test]
    fn refuses_obviously_invalid_values() {
        let cur = map(json!({"ttl": 30, "loop_wait": 10, "maximum_lag_on_failover": "x"}));
        assert!(
            invalid_values(&cur, &cur).is_empty(),
            "unchanged values are not re-checked"
        );
        let bad = map(
            json!({"ttl": -1, "loop_wait": 0, "retry_timeout": "ten", "maximum_lag_on_failover": "1MB", "synchronous_mode": "maybe", "synchronous_node_count": 1.5}),
        );
        let errs = invalid_values(&cur, &bad);
        assert_eq!(errs.len(), 6, "{errs:?}");
        assert_eq!(errs[0], "ttl must be a positive integer, not -1");
        let good = map(
            json!({"ttl": "40", "loop_wait": 5, "retry_timeout": 10, "maximum_lag_on_failover": 0, "maximum_lag_on_syncnode": -1, "synchronous_mode": "quorum"}),
        );
        assert!(invalid_values(&cur, &good).is_empty());
        assert!(timing_warnings(&cur, &good).is_empty());
        let tight = map(json!({"ttl": 20, "loop_wait": 10, "retry_timeout": 10}));
        assert_eq!(timing_warnings(&cur, &tight).len(), 1);
    }
}
