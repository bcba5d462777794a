//! patronictl's `apply_config_changes` for `-s KEY=VALUE` and `-p NAME=VALUE`: setting or deleting
//! the value at a dotted path of the dynamic configuration.

use serde_json::{Map, Value};

/// patronictl's `set_path_value`: set (or with null, delete) the value at a dotted path. Missing or
/// non-mapping intermediate values become `{}`, mappings left empty by a deletion are removed, and
/// everything after `postgresql.parameters.` is one key (GUC names may contain dots).
pub fn set_path(config: &mut Map<String, Value>, key_path: &str, value: &Value) {
    let path: Vec<&str> = key_path.trim().split('.').collect();
    set_at(config, &path, value, &[]);
}

fn set_at(config: &mut Map<String, Value>, path: &[&str], value: &Value, prefix: &[&str]) {
    let joined = [path.join(".")];
    let path: Vec<&str> = if prefix == ["postgresql", "parameters"] {
        joined.iter().map(String::as_str).collect()
    } else {
        path.to_vec()
    };
    let key = path[0];
    if path.len() == 1 {
        if value.is_null() {
            config.shift_remove(key);
        } else {
            config.insert(key.to_string(), value.clone());
        }
        return;
    }
    if !matches!(config.get(key), Some(Value::Object(_))) {
        config.insert(key.to_string(), Value::Object(Map::new()));
    }
    if let Some(Value::Object(sub)) = config.get_mut(key) {
        let mut deeper = prefix.to_vec();
        deeper.push(key);
        set_at(sub, &path[1..], value, &deeper);
        if sub.is_empty() {
            config.shift_remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_paths() {
        let mut c = json!({"postgresql": {"parameters": {"x": 1}}, "s": 5})
            .as_object()
            .cloned()
            .unwrap();
        set_path(
            &mut c,
            "postgresql.parameters.pg_stat_statements.track",
            &json!("all"),
        );
        set_path(&mut c, "s.t", &json!(1));
        set_path(&mut c, "postgresql.parameters.x", &Value::Null);
        assert_eq!(
            Value::Object(c.clone()),
            json!({"postgresql": {"parameters": {"pg_stat_statements.track": "all"}}, "s": {"t": 1}})
        );
        set_path(
            &mut c,
            "postgresql.parameters.pg_stat_statements.track",
            &Value::Null,
        );
        assert_eq!(Value::Object(c.clone()), json!({"s": {"t": 1}}));
        // Only keys under postgresql.parameters keep their dots.
        set_path(&mut c, " a.b.c ", &json!(1));
        assert_eq!(c["a"], json!({"b": {"c": 1}}));
    }
}
