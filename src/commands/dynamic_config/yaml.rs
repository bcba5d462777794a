//! Reading YAML the way patronictl's `yaml.safe_load` does (YAML 1.1), and the Python semantics its
//! config editing relies on: `apply_config_changes`' dotted paths, `utils.patch_config`, `str()`
//! comparison and `==` between values.
//!
//! serde_yaml parses the text (YAML 1.2 resolution). A plain scalar it leaves as a string is then
//! resolved with PyYAML's YAML 1.1 rules (`on`/`yes` → true, `017` → 15, `1_000` → 1000, `1:30` → 90),
//! while a quoted one stays a string: serde_yaml hands plain and single-line quoted scalars out as
//! slices of the input, so the byte before the slice tells a quote from plain text. Known gaps, all
//! rare in a Patroni config: inside documents `0o17` and `1e3` become numbers (PyYAML: strings);
//! timestamps stay strings (PyYAML makes dates that patronictl then fails to serialise).

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::output::pyjson::float_repr;
use crate::output::pyyaml;

/// Parse a YAML document as PyYAML's `safe_load` would; an empty document is `null`.
pub fn load(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    let de = serde_yaml::Deserializer::from_str(text);
    let v = Seed { src: text }
        .deserialize(de)
        .map_err(|e| e.to_string())?;
    Ok(v)
}

/// Parse the value of a `-s KEY=VALUE` pair: a whole YAML document, where a lone plain scalar is
/// resolved entirely by PyYAML's rules (so `0o17` and `1e3` stay strings, as in patronictl).
pub fn load_value(text: &str) -> Result<Value, String> {
    let v = load(text)?;
    let t = text.trim();
    let simple = !t.is_empty() && !t.contains(['#', ':', '\'', '"', '!', '&', '*', '\n', ',']);
    if simple && matches!(v, Value::Number(_)) {
        return resolve_plain(t);
    }
    Ok(v)
}

/// Resolve a plain scalar with PyYAML's implicit resolvers and constructors (YAML 1.1).
pub fn resolve_plain(s: &str) -> Result<Value, String> {
    if pyyaml::is_yaml11_null(s) {
        return Ok(Value::Null);
    }
    if pyyaml::is_yaml11_bool(s) {
        return Ok(Value::Bool(
            matches!(s.as_bytes()[0], b'y' | b'Y' | b't' | b'T') || s.eq_ignore_ascii_case("on"),
        ));
    }
    if pyyaml::is_yaml11_float(s) {
        return float_value(s);
    }
    if pyyaml::is_yaml11_int(s) {
        return Ok(int_value(s));
    }
    Ok(Value::String(s.to_string()))
}

/// PyYAML's `construct_yaml_int`.
fn int_value(s: &str) -> Value {
    let v = s.replace('_', "");
    let (neg, u) = match v.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, v.strip_prefix('+').unwrap_or(&v)),
    };
    let parsed: Option<i128> = if u == "0" {
        Some(0)
    } else if let Some(b) = u.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()
    } else if let Some(x) = u.strip_prefix("0x") {
        i128::from_str_radix(x, 16).ok()
    } else if u.starts_with('0') {
        i128::from_str_radix(u, 8).ok()
    } else if u.contains(':') {
        u.split(':').try_fold(0i128, |acc, p| {
            p.parse::<i128>()
                .ok()
                .and_then(|d| acc.checked_mul(60)?.checked_add(d))
        })
    } else {
        u.parse().ok()
    };
    let n = parsed.map(|n| if neg { -n } else { n });
    match n {
        Some(n) => i64::try_from(n)
            .map(Value::from)
            .or_else(|_| u64::try_from(n).map(Value::from))
            .unwrap_or_else(|_| Value::String(s.to_string())),
        None => Value::String(s.to_string()),
    }
}

/// PyYAML's `construct_yaml_float`; infinities and NaN have no JSON form, so they are refused.
fn float_value(s: &str) -> Result<Value, String> {
    let v = s.replace('_', "").to_lowercase();
    let (neg, u) = match v.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, v.strip_prefix('+').unwrap_or(&v)),
    };
    let f = if u.contains(':') {
        let mut acc = 0.0f64;
        for p in u.split(':') {
            acc = acc * 60.0 + p.parse::<f64>().unwrap_or(0.0);
        }
        acc
    } else {
        u.parse::<f64>().unwrap_or(f64::NAN)
    };
    let f = if neg { -f } else { f };
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("'{s}' (infinity or NaN) cannot be stored as JSON"))
}

/// The string a JSON object key gets from a YAML key, as `json.dumps` converts dict keys.
fn key_string(k: Value) -> String {
    match k {
        Value::String(s) => s,
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_f64() => float_repr(n.as_f64().unwrap_or(0.0)),
        other => other.to_string(),
    }
}

#[derive(Clone, Copy)]
struct Seed<'a> {
    src: &'a str,
}

impl<'de> DeserializeSeed<'de> for Seed<'de> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Seed<'_> {
    /// Whether a slice of the input is the inside of a quoted scalar.
    fn quoted(&self, s: &str) -> bool {
        let base = self.src.as_ptr() as usize;
        let start = s.as_ptr() as usize;
        if start <= base || start + s.len() > base + self.src.len() {
            return false;
        }
        matches!(self.src.as_bytes()[start - base - 1], b'\'' | b'"')
    }
}

impl<'de> Visitor<'de> for Seed<'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("infinity or NaN cannot be stored as JSON"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value, E> {
        if self.quoted(v) {
            Ok(Value::String(v.to_string()))
        } else {
            resolve_plain(v).map_err(E::custom)
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        // Not a slice of the input: an escaped quoted scalar, a block scalar or a folded plain one.
        Ok(Value::String(v.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut merged: Vec<Value> = Vec::new();
        while let Some(k) = map.next_key_seed(self)? {
            let v = map.next_value_seed(self)?;
            match (&k, v) {
                (Value::String(s), v) if s == "<<" => merged.push(v),
                (_, v) => {
                    out.insert(key_string(k), v);
                }
            }
        }
        // YAML 1.1 merge keys (`<<: *defaults`), as PyYAML's SafeLoader applies them.
        for m in merged {
            let maps = match m {
                Value::Array(a) => a,
                other => vec![other],
            };
            for m in maps {
                let Value::Object(m) = m else {
                    return Err(de::Error::custom("a merge key (<<) needs a mapping"));
                };
                for (k, v) in m {
                    out.entry(k).or_insert(v);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Python's `str()` of a JSON-like value (patch_config compares values this way).
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) if n.is_f64() => float_repr(n.as_f64().unwrap_or(0.0)),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let q = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(q);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c if c == q => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(q);
            out
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(py_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// Python's `==` on JSON-like values: numbers compare by value, `True == 1`, dicts ignore order.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        (Value::Number(x), Value::Number(y)) if !x.is_f64() && !y.is_f64() => x == y,
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// patronictl's `utils.patch_config`: null deletes, dicts merge recursively, other values are
/// replaced when their `str()` differs, new keys are appended.
pub fn patch_config(config: &mut Map<String, Value>, data: &Map<String, Value>) {
    for (name, value) in data {
        match value {
            Value::Null => {
                config.shift_remove(name);
            }
            Value::Object(sub) => match config.get_mut(name) {
                Some(Value::Object(cur)) => patch_config(cur, sub),
                _ => {
                    config.insert(name.clone(), value.clone());
                }
            },
            _ => match config.get(name) {
                Some(cur) if py_str(cur) == py_str(value) => {}
                _ => {
                    config.insert(name.clone(), value.clone());
                }
            },
        }
    }
}

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
    fn plain_scalars_follow_yaml_1_1() {
        // Expected values from PyYAML 6 `yaml.safe_load` (the patroni venv).
        for (s, want) in [
            ("on", json!(true)),
            ("Off", json!(false)),
            ("yes", json!(true)),
            ("NO", json!(false)),
            ("y", json!("y")),
            ("~", Value::Null),
            ("", Value::Null),
            ("0o17", json!("0o17")),
            ("017", json!(15)),
            ("08", json!("08")),
            ("0_7", json!(7)),
            ("1_000", json!(1000)),
            ("0x1F", json!(31)),
            ("0b11", json!(3)),
            ("1:30", json!(90)),
            ("1e3", json!("1e3")),
            ("1.0e+3", json!(1000.0)),
            (".5", json!(0.5)),
            ("+1", json!(1)),
            ("-0", json!(0)),
            ("1.", json!(1.0)),
            ("0.1_5", json!(0.15)),
            ("100", json!(100)),
            ("8MB", json!("8MB")),
            ("'on'", json!("on")),
            ("\"yes\"", json!("yes")),
            ("null", Value::Null),
        ] {
            assert_eq!(load_value(s).unwrap(), want, "{s:?}");
        }
        assert!(load_value(".inf").is_err());
    }

    #[test]
    fn documents_keep_quoted_strings() {
        let v = load("a: 'on'\nb: on\nc: \"off\"\nd: yes\ne: [on, 'no', 1_0]\nf: |\n  on\n1: x\n")
            .unwrap();
        assert_eq!(
            v,
            json!({"a": "on", "b": true, "c": "off", "d": true, "e": [true, "no", 10], "f": "on\n", "1": "x"})
        );
        assert_eq!(load("").unwrap(), Value::Null);
        assert!(load("a: [1,").is_err());
        assert_eq!(
            load("a: 1\na: 2\n").unwrap(),
            json!({"a": 2}),
            "last wins, as in PyYAML"
        );
        let m = load("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n").unwrap();
        assert_eq!(m["d"], json!({"y": 3, "x": 1}));
    }

    #[test]
    fn python_semantics() {
        assert!(py_eq(
            &json!({"a": 1, "b": true}),
            &json!({"b": 1, "a": 1.0})
        ));
        assert!(!py_eq(&json!({"a": "1"}), &json!({"a": 1})));
        assert_eq!(py_str(&json!(true)), "True");
        assert_eq!(py_str(&json!([1, "a", null])), "[1, 'a', None]");
        let mut c = json!({"ttl": 30, "postgresql": {"parameters": {"a": 1}}, "x": 1})
            .as_object()
            .cloned()
            .unwrap();
        patch_config(
            &mut c,
            json!({"ttl": "30", "postgresql": {"parameters": {"b": 2}}, "x": null, "new": 1})
                .as_object()
                .unwrap(),
        );
        assert_eq!(
            Value::Object(c),
            json!({"ttl": 30, "postgresql": {"parameters": {"a": 1, "b": 2}}, "new": 1})
        );
    }

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
