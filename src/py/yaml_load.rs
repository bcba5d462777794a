//! YAML loading as PyYAML's `yaml.safe_load` does it, for the configuration file (patroni.yml,
//! `PATRONI_CONFIGURATION`, list-valued `PATRONI_*` variables) and for edit-config (the edited
//! buffer, `--apply` files, `-s KEY=VALUE` values).
//!
//! libyaml ([`super::libyaml`]) parses and says how each scalar was written; this module composes
//! the events into a JSON value tree with PyYAML's rules: a plain scalar is typed by the YAML 1.1
//! implicit resolvers ([`super::resolve`]), a quoted or block one stays a string; explicit core tags
//! (`!!str`, `!!int`, …) are honoured, other tags refused as `SafeLoader` does; anchors, aliases and
//! `<<` merge keys follow `SafeConstructor.flatten_mapping`; a repeated key keeps its first place and
//! its last value (with Python's key equality: `1`, `1.0` and `true` are one key); more than one
//! document and a repeated anchor are errors. Dict keys become strings as `json.dumps` converts them
//! (`true`, `null`, `1.5`).
//!
//! Where libyaml's scanner is more lenient than PyYAML's pure-Python one (which `safe_load` uses),
//! PyYAML's refusals are added: a tab inside a plain scalar, a `?` inside a plain scalar in a flow
//! collection.
//!
//! Where patctl differs (the value must fit JSON): timestamps stay strings (PyYAML builds `date`s that
//! patronictl then fails to serialise), integers beyond 64 bits stay strings, `.inf`/`.nan` and
//! collection keys are errors, and an alias may not refer to the node that contains it.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

use super::libyaml::{Event, Parser, SyntaxError};
use super::repr::float_repr;
use super::resolve::{self, resolve_plain};

/// Why a document could not be loaded; `line`/`column` (1-based) for syntax errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The message (libyaml's wording for syntax errors).
    pub message: String,
    /// Where a syntax error is: line and column.
    pub location: Option<(usize, usize)>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

impl From<SyntaxError> for LoadError {
    fn from(e: SyntaxError) -> Self {
        LoadError {
            message: e.message,
            location: Some((e.line, e.column)),
        }
    }
}

fn fail(message: impl Into<String>) -> LoadError {
    LoadError {
        message: message.into(),
        location: None,
    }
}

const CORE: &str = "tag:yaml.org,2002:";
/// Deeper nesting is refused (PyYAML stops at Python's recursion limit).
const MAX_DEPTH: usize = 256;
/// Bound on the nodes aliases may copy, so a "billion laughs" document cannot exhaust memory.
const MAX_ALIASED_NODES: usize = 1_000_000;

/// `yaml.safe_load(text)`: the one document in `text` (`null` when there is none).
pub fn load(text: &str) -> Result<Value, LoadError> {
    let mut text = std::borrow::Cow::Borrowed(text);
    for _ in 0..64 {
        match load_once(&text) {
            Err(e) if e.message.starts_with("found unexpected ':'") => {
                // PyYAML reads `[a :, b]` as `[{a: null}, b]`; libyaml wants a blank after that
                // `:`, so one is added and the text read again.
                let Some(at) = e.location.and_then(|(l, c)| value_colon(&text, l, c)) else {
                    return Err(e);
                };
                text.to_mut().insert(at + 1, ' ');
            }
            other => return other,
        }
    }
    load_once(&text)
}

/// The byte offset of a `:` at (1-based) line and column that a flow indicator follows.
fn value_colon(text: &str, line: usize, column: usize) -> Option<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let (at, _) = text[start..].char_indices().nth(column - 1)?;
    let at = start + at;
    let rest = &text.as_bytes()[at..];
    (rest.first() == Some(&b':') && matches!(rest.get(1), Some(b',' | b']' | b'}'))).then_some(at)
}

fn load_once(text: &str) -> Result<Value, LoadError> {
    let mut c = Composer {
        parser: Parser::new(text)?,
        anchors: HashMap::new(),
        aliased: 0,
        flow: 0,
    };
    let first = c.parser.next_event()?;
    if matches!(first, Event::StreamEnd) {
        return Ok(Value::Null);
    }
    let event = c.parser.next_event()?;
    let v = c.node(event, 0)?;
    c.parser.next_event()?; // the document end
    match c.parser.next_event()? {
        Event::StreamEnd => {
            stray_tab(text, &c.parser.quoted_spans)?;
            Ok(v)
        }
        _ => Err(fail(
            "expected a single document in the stream, but found another document",
        )),
    }
}

/// PyYAML's scanner skips only spaces between tokens and ends a plain scalar at a tab, so a tab
/// outside quotes, block scalars and comments is "found character '\t' that cannot start any
/// token" (libyaml lets tabs separate tokens).
fn stray_tab(text: &str, quoted: &[super::libyaml::Span]) -> Result<(), LoadError> {
    for (line_no, line) in text.split('\n').enumerate() {
        let inside = |col: usize| {
            quoted
                .iter()
                .any(|&(start, end)| start <= (line_no, col) && (line_no, col) < end)
        };
        let mut prev_blank = true;
        for (col, ch) in line.chars().enumerate() {
            if ch == '#' && prev_blank && !inside(col) {
                break; // a comment
            }
            if ch == '\t' && !inside(col) {
                return Err(LoadError {
                    message: "found character '\\t' that cannot start any token".into(),
                    location: Some((line_no + 1, col + 1)),
                });
            }
            prev_blank = ch == ' ' || ch == '\t';
        }
    }
    Ok(())
}

struct Composer<'a> {
    parser: Parser<'a>,
    anchors: HashMap<String, (Value, usize)>,
    aliased: usize,
    /// How many flow collections (`[…]`, `{…}`) enclose the current node.
    flow: usize,
}

/// What a mapping key is: PyYAML's merge key (`<<`, tag `merge`) or an ordinary key, with the
/// identity Python's dict compares (`1 == 1.0 == True`).
enum Key {
    Merge,
    Plain(String, String),
}

impl Composer<'_> {
    fn node(&mut self, event: Event, depth: usize) -> Result<Value, LoadError> {
        if depth > MAX_DEPTH {
            return Err(fail("the document is nested too deeply"));
        }
        let (anchor, v) = match event {
            Event::Alias(name) => {
                let (v, size) = self
                    .anchors
                    .get(&name)
                    .ok_or_else(|| fail(format!("found undefined alias {name:?}")))?;
                self.aliased += size;
                if self.aliased > MAX_ALIASED_NODES {
                    return Err(fail("too many nodes copied through aliases"));
                }
                return Ok(v.clone());
            }
            Event::Scalar {
                anchor,
                tag,
                value,
                plain,
                mark,
            } => {
                if plain {
                    self.pyyaml_plain(&value, mark)?;
                }
                (anchor, scalar(tag.as_deref(), value, plain)?)
            }
            Event::SequenceStart(anchor, tag, flow) => {
                collection_tag(tag.as_deref(), "seq")?;
                self.flow += usize::from(flow);
                let mut items = Vec::new();
                loop {
                    match self.parser.next_event()? {
                        Event::SequenceEnd => break,
                        e => items.push(self.node(e, depth + 1)?),
                    }
                }
                self.flow -= usize::from(flow);
                (anchor, Value::Array(items))
            }
            Event::MappingStart(anchor, tag, flow) => {
                collection_tag(tag.as_deref(), "map")?;
                self.flow += usize::from(flow);
                let m = self.mapping(depth)?;
                self.flow -= usize::from(flow);
                (anchor, Value::Object(m))
            }
            _ => return Err(fail("unexpected YAML event")),
        };
        if let Some(name) = anchor {
            if self.anchors.contains_key(&name) {
                return Err(fail(format!("found duplicate anchor {name:?}")));
            }
            self.anchors.insert(name, (v.clone(), size(&v)));
        }
        Ok(v)
    }

    /// PyYAML's scanner ends a plain scalar at a tab (and then finds no token starting with one) and,
    /// in a flow collection, at a `?`; libyaml reads on.
    fn pyyaml_plain(&self, value: &str, (line, column): (usize, usize)) -> Result<(), LoadError> {
        let refused = if value.contains('\t') {
            "found character '\\t' that cannot start any token"
        } else if self.flow > 0 && value.contains('?') {
            "expected ',' or ']', but got '?'"
        } else {
            return Ok(());
        };
        Err(LoadError {
            message: format!("{refused} at line {line} column {column}"),
            location: Some((line, column)),
        })
    }

    /// A mapping's pairs, with merge keys flattened as PyYAML's `flatten_mapping`: the merged pairs
    /// come first, a key merged twice keeping its first value (PyYAML 6 tells repeated merged keys
    /// apart by object identity, which CPython shares for one-character and aliased keys), then the
    /// mapping's own, so its own keys win.
    fn mapping(&mut self, depth: usize) -> Result<Map<String, Value>, LoadError> {
        let mut merged: Vec<Map<String, Value>> = Vec::new();
        let mut own: Vec<(String, String, Value)> = Vec::new();
        loop {
            let key = match self.parser.next_event()? {
                Event::MappingEnd => break,
                Event::Scalar {
                    tag, value, plain, ..
                } if value == "<<"
                    && ((plain && tag.is_none())
                        || tag.as_deref() == Some("tag:yaml.org,2002:merge")) =>
                {
                    Key::Merge
                }
                // PyYAML turns the `=` value key into a plain string key.
                Event::Scalar {
                    tag: None,
                    value,
                    plain: true,
                    ..
                } if value == "=" => Key::Plain(format!("s{value}"), value),
                e => {
                    let k = self.node(e, depth + 1)?;
                    Key::Plain(key_identity(&k), key_string(k)?)
                }
            };
            let event = self.parser.next_event()?;
            let value = self.node(event, depth + 1)?;
            match key {
                Key::Plain(id, k) => own.push((id, k, value)),
                Key::Merge => match value {
                    Value::Object(m) => merged.push(m),
                    Value::Array(items) => {
                        let mut maps = Vec::new();
                        for item in items {
                            match item {
                                Value::Object(m) => maps.push(m),
                                _ => return Err(fail("expected a mapping for merging")),
                            }
                        }
                        merged.extend(maps);
                    }
                    _ => return Err(fail("expected a mapping or list of mappings for merging")),
                },
            }
        }
        // A dict keeps a key's first spelling and its last value.
        let mut out = Map::new();
        let mut spelling: HashMap<String, String> = HashMap::new();
        let mut first_merged = Map::new();
        for m in merged {
            for (k, v) in m {
                first_merged.entry(k).or_insert(v);
            }
        }
        let merged = first_merged
            .into_iter()
            .map(|(k, v)| (format!("s{k}"), k, v));
        for (id, k, v) in merged.chain(own) {
            let k = spelling.entry(id).or_insert(k).clone();
            out.insert(k, v);
        }
        Ok(out)
    }
}

fn size(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(size).sum::<usize>(),
        Value::Object(m) => 1 + m.values().map(size).sum::<usize>(),
        _ => 1,
    }
}

fn undefined(tag: &str) -> LoadError {
    fail(format!(
        "could not determine a constructor for the tag {tag:?}"
    ))
}

fn collection_tag(tag: Option<&str>, kind: &str) -> Result<(), LoadError> {
    match tag {
        None | Some("!") => Ok(()),
        Some(t) if t.strip_prefix(CORE) == Some(kind) => Ok(()),
        Some(t) => Err(undefined(t)),
    }
}

/// A scalar as `SafeConstructor` builds it: plain ones by the implicit resolvers, others by their
/// explicit tag, untagged quoted and block ones as strings.
fn scalar(tag: Option<&str>, value: String, plain: bool) -> Result<Value, LoadError> {
    let tag = match tag {
        None if plain => {
            // The merge and value keys resolve to tags SafeConstructor cannot build outside a key.
            return match value.as_str() {
                "<<" => Err(undefined("tag:yaml.org,2002:merge")),
                "=" => Err(undefined("tag:yaml.org,2002:value")),
                _ => resolve_plain(&value).map_err(fail),
            };
        }
        // The non-specific tag `!` leaves a plain scalar to the resolvers, PyYAML's composer too.
        Some("!") if plain => return resolve_plain(&value).map_err(fail),
        None | Some("!") => return Ok(Value::String(value)),
        Some(t) => t,
    };
    let bad = || fail(format!("{value:?} is not a valid {tag}"));
    match tag.strip_prefix(CORE) {
        Some("str" | "timestamp") => Ok(Value::String(value)),
        Some("null") => Ok(Value::Null),
        Some("bool") if resolve::is_yaml11_bool(&value) => {
            Ok(Value::Bool(resolve::bool_value(&value)))
        }
        Some("int") if resolve::is_yaml11_int(&value) => Ok(resolve::int_value(&value)),
        Some("float") if resolve::is_yaml11_float(&value) || resolve::is_yaml11_int(&value) => {
            resolve::float_value(&value).map_err(fail)
        }
        Some("bool" | "int" | "float") => Err(bad()),
        _ => Err(undefined(tag)),
    }
}

/// What Python's dict compares a key by: numbers (and bools) by value, strings as themselves.
fn key_identity(k: &Value) -> String {
    match k {
        Value::Bool(b) => format!("n{}", u8::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => format!("n{i}"),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9e15 => format!("n{}", f as i64),
            _ => format!("n{n}"),
        },
        Value::String(s) => format!("s{s}"),
        other => format!("o{other}"),
    }
}

/// A dict key as `json.dumps` writes it: strings as they are, `true`/`false`/`null`, numbers in
/// Python's form; a list or dict cannot be a key.
fn key_string(k: Value) -> Result<String, LoadError> {
    match k {
        Value::String(s) => Ok(s),
        Value::Null => Ok("null".into()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) if n.is_f64() => Ok(float_repr(n.as_f64().unwrap_or(0.0))),
        Value::Number(n) => Ok(n.to_string()),
        Value::Array(_) | Value::Object(_) => Err(fail("found unhashable key")),
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
            assert_eq!(load(s).unwrap(), want, "{s:?}");
        }
        assert!(load(".inf").is_err());
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
    fn the_gaps_of_the_serde_yaml_loader_are_closed() {
        let v = load(
            "a: 0o17\nb: 1e3\nc: 1_000\nd: !!str 1\ne: !!int '7'\nf: 2024-01-01\ng: \"a\\tb\"\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"a": "0o17", "b": "1e3", "c": 1000, "d": "1", "e": 7, "f": "2024-01-01", "g": "a\tb"})
        );
        assert!(load("a: 1\n---\nb: 2\n").is_err());
        assert!(load("a: !!binary aGk=\n").is_err());
        assert!(load("[a, b]: 1\n").is_err());
        let e = load("scope: demo\netcd3:\n  hosts: [127.0.0.1:2379\n").unwrap_err();
        assert_eq!(e.location, Some((4, 1)));
        assert!(
            e.message.starts_with("did not find expected ',' or ']'"),
            "{e}"
        );
        let m = load("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc: {<<: [*a, *b], z: 3}\n").unwrap();
        assert_eq!(m["c"], json!({"x": 1, "y": 2, "z": 3}));
    }
}
