//! YAML exactly as PyYAML's `yaml.safe_dump(data, default_flow_style=…, allow_unicode=True, width=200)`
//! writes it, which is what patronictl prints for `show-config`, `-f yaml`, the edit-config buffer and
//! member tags (`format_config_for_editing`).
//!
//! A port of the parts of PyYAML's `Emitter` that `safe_dump` of JSON-like data reaches: the same
//! column, indentation and whitespace bookkeeping, so that keys are sorted, block sequences inside
//! mappings are not indented, strings are quoted exactly when PyYAML quotes them, long plain and
//! quoted scalars are folded at 200 columns where PyYAML folds them, and long flow collections break
//! their lines where PyYAML breaks them. The scalar analysis and writers are in [`scalar`].

mod scalar;

use serde_json::{Map, Value};

use super::repr::float_repr;
use super::resolve::resolves_to_non_string;
use scalar::{analyze, Analysis};

/// The `width=200` patronictl passes to `yaml.safe_dump`.
const BEST_WIDTH: usize = 200;
/// PyYAML's default indent.
const BEST_INDENT: usize = 2;

/// `yaml.safe_dump(v, default_flow_style=False)`: block style.
pub fn dump(v: &Value) -> String {
    Emitter::new(false).document(v)
}

/// `yaml.safe_dump(v, default_flow_style=True)`: flow style (one line unless longer than 200 columns).
pub fn dump_flow(v: &Value) -> String {
    Emitter::new(true).document(v)
}

/// Where a node stands, as PyYAML's `expect_node` flags record it.
#[derive(Clone, Copy, Default)]
struct Ctx {
    root: bool,
    mapping: bool,
    simple_key: bool,
}

/// PyYAML's `Emitter` state that shapes the output.
struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    indent: Option<usize>,
    indents: Vec<Option<usize>>,
    flow_level: usize,
    flow_style: bool,
}

impl Emitter {
    fn new(flow_style: bool) -> Self {
        Emitter {
            out: String::new(),
            column: 0,
            whitespace: true,
            indention: true,
            open_ended: false,
            indent: None,
            indents: Vec::new(),
            flow_level: 0,
            flow_style,
        }
    }

    /// One implicit document: the root node, the document end (a line break), and `...` when the
    /// document ended open (a plain root scalar).
    fn document(mut self, v: &Value) -> String {
        let ctx = Ctx {
            root: true,
            ..Ctx::default()
        };
        self.node(v, ctx);
        self.write_indent();
        if self.open_ended {
            self.write_indicator("...", true, false, false);
            self.write_indent();
        }
        self.out
    }

    fn node(&mut self, v: &Value, ctx: Ctx) {
        match v {
            Value::Array(a) => {
                if self.flow_level > 0 || self.flow_style || a.is_empty() {
                    self.flow_sequence(a);
                } else {
                    self.block_sequence(a, ctx);
                }
            }
            Value::Object(m) => {
                if self.flow_level > 0 || self.flow_style || m.is_empty() {
                    self.flow_mapping(m);
                } else {
                    self.block_mapping(m);
                }
            }
            Value::String(s) => self.scalar(s, true, ctx),
            other => self.scalar(&non_string(other), false, ctx),
        }
    }

    /// `expect_scalar` + `process_scalar`: `implicit` is false for a string that would resolve to
    /// another type when plain (so it must be quoted).
    fn scalar(&mut self, s: &str, is_str: bool, ctx: Ctx) {
        self.increase_indent(true, false);
        let a = analyze(s);
        let implicit = !is_str || !resolves_to_non_string(s);
        let split = !ctx.simple_key;
        match self.choose_style(&a, implicit, ctx) {
            Style::Plain => self.write_plain(s, split, ctx.root),
            Style::Single => self.write_single_quoted(s, split),
            Style::Double => self.write_double_quoted(s, split),
        }
        self.indent = self.indents.pop().flatten();
    }

    fn choose_style(&self, a: &Analysis, implicit: bool, ctx: Ctx) -> Style {
        if implicit
            && !(ctx.simple_key && (a.empty || a.multiline))
            && ((self.flow_level > 0 && a.allow_flow_plain)
                || (self.flow_level == 0 && a.allow_block_plain))
        {
            return Style::Plain;
        }
        if a.allow_single_quoted && !(ctx.simple_key && a.multiline) {
            return Style::Single;
        }
        Style::Double
    }

    fn flow_sequence(&mut self, a: &[Value]) {
        self.write_indicator("[", true, true, false);
        self.flow_level += 1;
        self.increase_indent(true, false);
        for (i, item) in a.iter().enumerate() {
            if i > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > BEST_WIDTH {
                self.write_indent();
            }
            self.node(item, Ctx::default());
        }
        self.indent = self.indents.pop().flatten();
        self.flow_level -= 1;
        self.write_indicator("]", false, false, false);
    }

    fn flow_mapping(&mut self, m: &Map<String, Value>) {
        self.write_indicator("{", true, true, false);
        self.flow_level += 1;
        self.increase_indent(true, false);
        for (i, (k, v)) in sorted(m).into_iter().enumerate() {
            if i > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > BEST_WIDTH {
                self.write_indent();
            }
            let key = Ctx {
                mapping: true,
                ..Ctx::default()
            };
            if is_simple_key(k) {
                self.scalar(
                    k,
                    true,
                    Ctx {
                        simple_key: true,
                        ..key
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, false);
                self.scalar(k, true, key);
                if self.column > BEST_WIDTH {
                    self.write_indent();
                }
                self.write_indicator(":", true, false, false);
            }
            self.node(v, key);
        }
        self.indent = self.indents.pop().flatten();
        self.flow_level -= 1;
        self.write_indicator("}", false, false, false);
    }

    fn block_sequence(&mut self, a: &[Value], ctx: Ctx) {
        let indentless = ctx.mapping && !self.indention;
        self.increase_indent(false, indentless);
        for item in a {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, Ctx::default());
        }
        self.indent = self.indents.pop().flatten();
    }

    fn block_mapping(&mut self, m: &Map<String, Value>) {
        self.increase_indent(false, false);
        let value = Ctx {
            mapping: true,
            ..Ctx::default()
        };
        for (k, v) in sorted(m) {
            self.write_indent();
            if is_simple_key(k) {
                self.scalar(
                    k,
                    true,
                    Ctx {
                        simple_key: true,
                        ..value
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.scalar(k, true, value);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(v, value);
        }
        self.indent = self.indents.pop().flatten();
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        self.indent = match self.indent {
            None => Some(if flow { BEST_INDENT } else { 0 }),
            Some(i) if !indentless => Some(i + BEST_INDENT),
            same => same,
        };
    }

    fn write(&mut self, data: &str) {
        self.column += data.chars().count();
        self.out.push_str(data);
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        whitespace: bool,
        indention: bool,
    ) {
        if !self.whitespace && need_whitespace {
            self.write(" ");
        }
        self.write(indicator);
        self.whitespace = whitespace;
        self.indention = self.indention && indention;
        self.open_ended = false;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.write_line_break(None);
        }
        if self.column < indent {
            self.whitespace = true;
            let pad = " ".repeat(indent - self.column);
            self.write(&pad);
        }
    }

    /// A line break: `\n`, or one of NEL, LS, PS written as itself.
    fn write_line_break(&mut self, data: Option<char>) {
        self.out.push(data.unwrap_or('\n'));
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

/// The plain text SafeRepresenter gives a non-string scalar (`null`, `true`, `12`, `1.0e+20`, `.nan`).
fn non_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Number(n) if n.is_f64() => {
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
        }
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn sorted(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

/// PyYAML's `check_simple_key` for a string key: its length plus that of the `!!str` tag the check
/// counts is under 128, not empty, on one line.
fn is_simple_key(k: &str) -> bool {
    let a = analyze(k);
    k.chars().count() + "!!str".len() < 128 && !a.empty && !a.multiline
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

    #[test]
    fn long_scalars_fold_at_200_columns_and_quoted_breaks_close_indented() {
        // Expected texts: yaml.safe_dump(…, allow_unicode=True, width=200) of PyYAML 6.0.
        let cmd = "pgbackrest --stanza=main archive-push %p ".repeat(6);
        let d = json!({"archive_command": cmd.trim(), "q": "x: y ".repeat(45),
            "e": "ends with a break\n", "t": {"k": "v ".repeat(110)}});
        assert_eq!(
            dump(&d),
            format!(
                "archive_command: {}\n  archive-push %p pgbackrest --stanza=main archive-push %p\n\
                 e: 'ends with a break\n\n  '\nq: '{}x:\n  y x: y x: y x: y x: y x: y '\nt:\n  k: '{}v\n    {}'\n",
                "pgbackrest --stanza=main archive-push %p ".repeat(4) + "pgbackrest --stanza=main",
                "x: y ".repeat(39),
                "v ".repeat(97),
                "v ".repeat(12),
            )
        );
        assert_eq!(
            dump_flow(&d["t"]),
            format!("{{k: '{}v\n    {}'}}\n", "v ".repeat(98), "v ".repeat(11))
        );
    }
}
