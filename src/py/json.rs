//! JSON exactly as Python's `json.dumps` writes it with default settings: `", "` and `": "`
//! separators, non-ASCII escaped as `\uXXXX`, floats in `repr` form. patronictl prints `-f json`
//! and sends REST bodies this way; the DCS values Patroni writes use the compact form instead.

use serde_json::Value;

// json.dumps writes floats with `float.__repr__`; psycopg2's casts reach it from here too.
pub use super::repr::float_repr;

/// `json.dumps(value)`.
pub fn dumps(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, ", ", ": ");
    out
}

/// `json.dumps(value, separators=(',', ':'))`, the form Patroni stores in the DCS.
pub fn dumps_compact(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, ",", ":");
    out
}

fn write(out: &mut String, v: &Value, item_sep: &str, key_sep: &str) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_f64() {
                out.push_str(&float_repr(n.as_f64().unwrap_or(0.0)));
            } else {
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                write(out, x, item_sep, key_sep);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                write_str(out, k);
                out.push_str(key_sep);
                write(out, x, item_sep, key_sep);
            }
            out.push('}');
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps() {
        let v = json!({"Cluster": "demo", "TL": 1, "Tags": {"nofailover": true}, "x": [1, "é"], "f": 0.5});
        assert_eq!(
            dumps(&v),
            r#"{"Cluster": "demo", "TL": 1, "Tags": {"nofailover": true}, "x": [1, "\u00e9"], "f": 0.5}"#
        );
        assert_eq!(
            dumps_compact(&json!({"a": [1, 2], "b": null})),
            r#"{"a":[1,2],"b":null}"#
        );
    }
}
