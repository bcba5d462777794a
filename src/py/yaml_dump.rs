//! YAML exactly as PyYAML's `yaml.safe_dump(data, default_flow_style=…, allow_unicode=True, width=200)`
//! writes it, which is what patronictl prints for `show-config`, `-f yaml`, the edit-config buffer and
//! member tags. Keys are sorted, block sequences inside mappings are not indented, and a string is
//! quoted exactly when PyYAML would (YAML 1.1 booleans such as `on`, numbers, timestamps, indicators).
//!
//! Not reproduced: PyYAML folds plain and quoted scalars longer than 200 columns.

use serde_json::{Map, Value};

use super::repr::float_repr;
use super::resolve::resolves_to_non_string;

/// `yaml.safe_dump(v, default_flow_style=False)`: block style.
pub fn dump(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => block_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => block_seq(&mut out, a, 0),
        Value::Object(_) | Value::Array(_) => out.push_str(&(flow(v, 0) + "\n")),
        scalar => out.push_str(&root_scalar(scalar)),
    }
    out
}

/// `yaml.safe_dump(v, default_flow_style=True)`: flow style, one line plus a newline.
pub fn dump_flow(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => flow(v, 0) + "\n",
        scalar => root_scalar(scalar),
    }
}

/// A scalar document: block context; a plain scalar is followed by the `...` document end marker.
fn root_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => match scalar_style(s, false, false) {
            Style::Plain => format!("{s}\n...\n"),
            _ => scalar(s, false, false, 2) + "\n",
        },
        other => flow(other, 0) + "\n...\n",
    }
}

fn sorted(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

fn block_map(out: &mut String, m: &Map<String, Value>, indent: usize) {
    for (i, (k, v)) in sorted(m).into_iter().enumerate() {
        if i > 0 {
            push_indent(out, indent);
        }
        if !is_simple_key(k) {
            // PyYAML's complex key: `? key` then `: value` with the value laid out like a sequence item.
            out.push_str("? ");
            out.push_str(&scalar(k, false, false, indent + 2));
            out.push('\n');
            push_indent(out, indent);
            out.push_str(": ");
            inline_node(out, v, indent + 2);
            continue;
        }
        out.push_str(&scalar(k, false, true, indent));
        out.push(':');
        match v {
            Value::Object(sub) if !sub.is_empty() => {
                out.push('\n');
                push_indent(out, indent + 2);
                block_map(out, sub, indent + 2);
            }
            Value::Array(seq) if !seq.is_empty() => {
                out.push('\n');
                push_indent(out, indent);
                block_seq(out, seq, indent);
            }
            other => {
                out.push(' ');
                out.push_str(&block_scalar(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn block_seq(out: &mut String, a: &[Value], indent: usize) {
    for (i, v) in a.iter().enumerate() {
        if i > 0 {
            push_indent(out, indent);
        }
        out.push_str("- ");
        inline_node(out, v, indent + 2);
    }
}

/// A node that starts on the line of an indicator (`- ` or a complex key's `: `): a collection
/// continues at `indent`, a scalar ends the line.
fn inline_node(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(sub) if !sub.is_empty() => block_map(out, sub, indent),
        Value::Array(seq) if !seq.is_empty() => block_seq(out, seq, indent),
        other => {
            out.push_str(&block_scalar(other, indent));
            out.push('\n');
        }
    }
}

/// PyYAML's `check_simple_key`: shorter than 128 characters, not empty, on one line.
fn is_simple_key(k: &str) -> bool {
    let a = analyze(k);
    k.chars().count() < 128 && !a.empty && !a.multiline
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A scalar (or empty collection) in block context.
fn block_scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::String(s) => scalar(s, false, false, indent),
        other => flow(other, 0),
    }
}

/// Flow style; `depth` is the number of enclosing flow collections (for continuation indents).
fn flow(v: &Value, depth: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(0.0);
                if f.is_nan() {
                    ".nan".into()
                } else if f.is_infinite() {
                    if f > 0.0 { ".inf" } else { "-.inf" }.into()
                } else {
                    let r = float_repr(f).to_lowercase();
                    if !r.contains('.') && r.contains('e') {
                        r.replacen('e', ".0e", 1)
                    } else {
                        r
                    }
                }
            } else {
                n.to_string()
            }
        }
        Value::String(s) => scalar(s, true, false, 2 * depth + 2),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(|x| flow(x, depth + 1)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(m) => {
            let items: Vec<String> = sorted(m)
                .into_iter()
                .map(|(k, v)| {
                    if is_simple_key(k) {
                        format!(
                            "{}: {}",
                            scalar(k, true, true, 2 * depth + 2),
                            flow(v, depth + 1)
                        )
                    } else {
                        format!(
                            "? {} : {}",
                            scalar(k, true, false, 2 * depth + 4),
                            flow(v, depth + 1)
                        )
                    }
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

/// A string scalar as PyYAML writes it in the given context.
fn scalar(s: &str, flow_context: bool, simple_key: bool, indent: usize) -> String {
    match scalar_style(s, flow_context, simple_key) {
        Style::Plain => s.to_string(),
        Style::Single => single_quoted(s, indent),
        Style::Double => double_quoted(s),
    }
}

fn scalar_style(s: &str, flow_context: bool, simple_key: bool) -> Style {
    let a = analyze(s);
    let implicit_str = !resolves_to_non_string(s);
    if implicit_str
        && !(simple_key && (a.empty || a.multiline))
        && ((flow_context && a.allow_flow_plain) || (!flow_context && a.allow_block_plain))
    {
        return Style::Plain;
    }
    if a.allow_single_quoted && !(simple_key && a.multiline) {
        return Style::Single;
    }
    Style::Double
}

struct Analysis {
    empty: bool,
    multiline: bool,
    allow_flow_plain: bool,
    allow_block_plain: bool,
    allow_single_quoted: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_ws(c: Option<char>) -> bool {
    matches!(
        c,
        None | Some('\0' | ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
    )
}

// PyYAML's Emitter.analyze_scalar, reduced to the flags the style choice reads.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            empty: true,
            multiline: false,
            allow_flow_plain: false,
            allow_block_plain: true,
            allow_single_quoted: true,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let (mut block_ind, mut flow_ind) = (false, false);
    if s.starts_with("---") || s.starts_with("...") {
        block_ind = true;
        flow_ind = true;
    }
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_ws = true;
    let mut followed_ws = n == 1 || is_ws(chars.get(1).copied());
    for (i, &ch) in chars.iter().enumerate() {
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                flow_ind = true;
                block_ind = true;
            }
            if ch == '?' || ch == ':' {
                flow_ind = true;
                if followed_ws {
                    block_ind = true;
                }
            }
            if ch == '-' && followed_ws {
                flow_ind = true;
                block_ind = true;
            }
        } else {
            if ",?[]{}".contains(ch) {
                flow_ind = true;
            }
            if ch == ':' {
                flow_ind = true;
                if followed_ws {
                    block_ind = true;
                }
            }
            if ch == '#' && preceded_ws {
                flow_ind = true;
                block_ind = true;
            }
        }
        if is_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || ('\x20'..='\x7e').contains(&ch)) {
            let printable_unicode = (ch == '\u{85}'
                || ('\u{a0}'..='\u{d7ff}').contains(&ch)
                || ('\u{e000}'..='\u{fffd}').contains(&ch)
                || ('\u{10000}'..'\u{10ffff}').contains(&ch))
                && ch != '\u{feff}';
            if !printable_unicode {
                special = true;
            }
        }
        if ch == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == n - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(ch) {
            if i == 0 {
                leading_break = true;
            }
            if i == n - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_ws = is_ws(Some(ch));
        followed_ws = i + 2 >= n || is_ws(chars.get(i + 2).copied());
    }
    let mut a = Analysis {
        empty: false,
        multiline: line_breaks,
        allow_flow_plain: true,
        allow_block_plain: true,
        allow_single_quoted: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
    }
    if break_space {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
        a.allow_single_quoted = false;
    }
    if space_break || special {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
        a.allow_single_quoted = false;
    }
    if line_breaks {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
    }
    if flow_ind {
        a.allow_flow_plain = false;
    }
    if block_ind {
        a.allow_block_plain = false;
    }
    a
}

fn single_quoted(s: &str, indent: usize) -> String {
    let mut out = String::from("'");
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_break(c) {
            // PyYAML writes one extra line break before a run of breaks, then re-indents.
            let start = i;
            while i < chars.len() && is_break(chars[i]) {
                i += 1;
            }
            if chars[start] == '\n' {
                out.push('\n');
            }
            // `\n` is written as a line break; NEL, LS and PS are written as themselves.
            out.extend(&chars[start..i]);
            if i < chars.len() {
                push_indent(&mut out, indent);
            }
            continue;
        }
        if c == '\'' {
            out.push_str("''");
        } else {
            out.push(c);
        }
        i += 1;
    }
    out.push('\'');
    out
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        let printable = ('\x20'..='\x7e').contains(&c)
            || ('\u{a0}'..='\u{d7ff}').contains(&c)
            || ('\u{e000}'..='\u{fffd}').contains(&c);
        let must_escape = matches!(
            c,
            '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
        ) || !printable;
        if !must_escape {
            out.push(c);
            continue;
        }
        let esc = match c {
            '\0' => Some("0"),
            '\x07' => Some("a"),
            '\x08' => Some("b"),
            '\t' => Some("t"),
            '\n' => Some("n"),
            '\x0b' => Some("v"),
            '\x0c' => Some("f"),
            '\r' => Some("r"),
            '\x1b' => Some("e"),
            '"' => Some("\""),
            '\\' => Some("\\"),
            '\u{85}' => Some("N"),
            '\u{a0}' => Some("_"),
            '\u{2028}' => Some("L"),
            '\u{2029}' => Some("P"),
            _ => None,
        };
        if let Some(e) = esc {
            out.push('\\');
            out.push_str(e);
        } else if (c as u32) <= 0xff {
            out.push_str(&format!("\\x{:02X}", c as u32));
        } else if (c as u32) <= 0xffff {
            out.push_str(&format!("\\u{:04X}", c as u32));
        } else {
            out.push_str(&format!("\\U{:08X}", c as u32));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn show_config_of_the_real_cluster() {
        // reference/real-cluster.md, A.1 show-config
        let cfg = json!({"ttl":30,"loop_wait":10,"retry_timeout":10,"maximum_lag_on_failover":1048576,
            "postgresql":{"use_pg_rewind":true,"use_slots":true,"parameters":{"wal_level":"replica",
            "hot_standby":"on","wal_log_hints":"on","max_wal_senders":10,"max_replication_slots":10,
            "max_connections":100}}});
        assert_eq!(
            dump(&cfg),
            "loop_wait: 10\nmaximum_lag_on_failover: 1048576\npostgresql:\n  parameters:\n    hot_standby: 'on'\n    max_connections: 100\n    max_replication_slots: 10\n    max_wal_senders: 10\n    wal_level: replica\n    wal_log_hints: 'on'\n  use_pg_rewind: true\n  use_slots: true\nretry_timeout: 10\nttl: 30\n"
        );
    }

    #[test]
    fn list_of_members() {
        let v = json!([{"Cluster":"demo","Member":"node2","Host":"127.0.0.1:5434","Receive LSN":"0/4000060","Receive Lag":0,"TL":1,
            "Tags":{"nofailover":true,"replicatefrom":"node2"},"Scheduled restart":"2030-01-01T12:00:00+00:00"}]);
        assert_eq!(
            dump(&v),
            "- Cluster: demo\n  Host: 127.0.0.1:5434\n  Member: node2\n  Receive LSN: 0/4000060\n  Receive Lag: 0\n  Scheduled restart: '2030-01-01T12:00:00+00:00'\n  TL: 1\n  Tags:\n    nofailover: true\n    replicatefrom: node2\n"
        );
        assert_eq!(dump(&json!([])), "[]\n");
    }

    #[test]
    fn flow_and_quoting() {
        assert_eq!(
            dump_flow(&json!({"replicatefrom":"node2","nofailover":true})),
            "{nofailover: true, replicatefrom: node2}\n"
        );
        assert_eq!(dump(&json!({"a": "", "b": "1.5", "c": "0o7", "d": "- x", "e": "a: b", "f": "x #y", "g": "it's", "h": "tab\there", "i": [], "j": {}, "k": 1e20, "l": "12:30", "m": "012", "n": "0x1F"})),
            "a: ''\nb: '1.5'\nc: 0o7\nd: '- x'\ne: 'a: b'\nf: 'x #y'\ng: it's\nh: \"tab\\there\"\ni: []\nj: {}\nk: 1.0e+20\nl: '12:30'\nm: '012'\nn: '0x1F'\n");
        assert_eq!(dump_flow(&json!({"a": "x,y"})), "{a: 'x,y'}\n");
    }
}
