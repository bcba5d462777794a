//! The machine output of `edit-config` (`-o json|yaml`, kind `ConfigEdit`, schema
//! `schemas/ConfigEdit.schema.json`): every changed setting with its old and new value, the
//! PostgreSQL parameters that need a restart or a reload, and whether the change was written.

use serde_json::{json, Map, Value};

use super::checks::ParamEffects;
use crate::py::truth::py_eq;

/// One changed setting: its dotted path (a PostgreSQL parameter keeps its own dots after
/// `postgresql.parameters.`), the value before and after (`None`: absent).
#[derive(Debug, PartialEq)]
pub struct Change {
    /// The dotted path.
    pub key: String,
    /// The value before.
    pub old: Option<Value>,
    /// The value after.
    pub new: Option<Value>,
}

/// Every leaf setting that differs between the two configs, in the order of the keys (current ones
/// first, then added ones).
pub fn changes(current: &Map<String, Value>, changed: &Map<String, Value>) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", Some(current), Some(changed), &mut out);
    out
}

fn walk(
    prefix: &str,
    a: Option<&Map<String, Value>>,
    b: Option<&Map<String, Value>>,
    out: &mut Vec<Change>,
) {
    let empty = Map::new();
    let (a, b) = (a.unwrap_or(&empty), b.unwrap_or(&empty));
    let mut keys: Vec<&String> = a.keys().collect();
    keys.extend(b.keys().filter(|k| !a.contains_key(*k)));
    for k in keys {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) if py_eq(x, y) => {}
            (x, y) if [x, y].into_iter().all(|v| v.is_none_or(Value::is_object)) => walk(
                &path,
                x.and_then(Value::as_object),
                y.and_then(Value::as_object),
                out,
            ),
            (x, y) => out.push(Change {
                key: path,
                old: x.cloned(),
                new: y.cloned(),
            }),
        }
    }
}

/// The `data` of the `ConfigEdit` envelope.
pub fn data(
    cluster: &str,
    changes: &[Change],
    effects: Option<&ParamEffects>,
    written: bool,
) -> Value {
    let list = |f: fn(&ParamEffects) -> &Vec<String>| effects.map(f).cloned().unwrap_or_default();
    json!({
        "cluster": cluster,
        "changes": changes
            .iter()
            .map(|c| json!({"key": c.key, "old": c.old, "new": c.new}))
            .collect::<Vec<_>>(),
        "postgresMajor": effects.map(|e| e.major),
        "needsRestart": list(|e| &e.restart),
        "appliedOnReload": list(|e| &e.reload),
        "written": written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn leaf_changes_with_old_and_new() {
        let cur = map(
            json!({"ttl": 30, "loop_wait": 10, "postgresql": {"parameters": {"work_mem": "4MB"}}}),
        );
        let new = map(
            json!({"ttl": 30, "loop_wait": 5, "postgresql": {"parameters": {"work_mem": "8MB", "pg_stat_statements.track": "all"}, "use_slots": true}}),
        );
        let c = changes(&cur, &new);
        let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "loop_wait",
                "postgresql.parameters.work_mem",
                "postgresql.parameters.pg_stat_statements.track",
                "postgresql.use_slots"
            ]
        );
        assert_eq!(c[0].old, Some(json!(10)));
        assert_eq!(c[2].old, None);
        let gone = changes(&new, &map(json!({"ttl": 30})));
        assert_eq!(gone.iter().filter(|c| c.new.is_none()).count(), gone.len());
        let d = data("demo", &c, None, false);
        assert_eq!(
            d["changes"][0],
            json!({"key": "loop_wait", "old": 10, "new": 5})
        );
        assert_eq!(d["postgresMajor"], Value::Null);
        assert_eq!(d["needsRestart"], json!([]));
    }
}
