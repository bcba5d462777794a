//! Differential tests of `patctl::py` against Python itself (the Python of the Patroni venv is the
//! oracle): random documents rendered by `py::yaml_dump` and `py::json` must be byte-identical to
//! what PyYAML's `safe_dump` and `json.dumps` print for the same data, and random YAML texts loaded
//! by `py::yaml_load` must give what `yaml.safe_load` gives (compared as JSON; both refusing counts
//! as agreeing). Deterministic: a fixed-seed generator, 1,500 cases a property
//! (`PATCTL_PROPERTY_CASES=N` for N).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::installed;
use crate::rng::{cases, Rng};
use serde_json::{Map, Value};

const TOKENS: &[&str] = &[
    "on",
    "Off",
    "yes",
    "NO",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "",
    "0",
    "1",
    "-1",
    "+1",
    "1_000",
    "0x1F",
    "0o17",
    "017",
    "08",
    "0b101",
    "1.5",
    ".5",
    "1.",
    "1e5",
    "1.0e+5",
    "12:30",
    "1:60",
    "190:20:30",
    ".inf",
    "-.inf",
    ".NaN",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "2024-1-1 10:00:00",
    "2030-01-01T12:00:00+00:00",
    "<<",
    "=",
    "---",
    "...",
    "-",
    "- x",
    "-x",
    "?",
    "? x",
    "?x",
    ":",
    ": x",
    "a: b",
    "a:b",
    "x #y",
    "x#y",
    "#c",
    "@x",
    "`x",
    "!x",
    "&x",
    "*x",
    "%x",
    "|x",
    ">x",
    "[x",
    "]x",
    "{x",
    "}x",
    "x,y",
    "x]",
    "'q'",
    "\"q\"",
    "it's",
    "a\\b",
    " lead",
    "trail ",
    "in side",
    "tab\there",
    "new\nline",
    "two\n\nbreaks",
    "ünï",
    "naïve café",
    "emoji😀",
    "bom\u{feff}",
    "nel\u{85}x",
    "ctl\u{1}x",
    "0/4000060",
    "127.0.0.1:5433",
    "node1",
    "replica",
    "postgresql.parameters",
    "max_connections",
    "pg_stat_statements.track",
    "hot_standby",
    "replica",
];

fn string(r: &mut Rng) -> String {
    // One string in four comes from the generative test's generator: long texts with spaces,
    // quotes, breaks, tabs, unicode and control characters.
    if r.below(4) == 0 {
        return crate::generator::text_with(r, true);
    }
    let n = 1 + r.below(3);
    (0..n)
        .map(|_| TOKENS[r.below(TOKENS.len())])
        .collect::<Vec<_>>()
        .join(if r.below(2) == 0 { "" } else { " " })
}

fn scalar(r: &mut Rng) -> Value {
    match r.below(8) {
        0 => Value::Null,
        1 => Value::Bool(r.below(2) == 0),
        2 => Value::from(r.next() as i64 >> r.below(60)),
        3 => Value::from([0.1, 1e20, -2.5, 1e-7, 3.0, 0.9, 1048576.0, 1.5e16, -0.0][r.below(9)]),
        _ => Value::String(string(r)),
    }
}

fn value(r: &mut Rng, depth: usize) -> Value {
    if depth == 0 || r.below(3) == 0 {
        return scalar(r);
    }
    if r.below(2) == 0 {
        Value::Array((0..r.below(4)).map(|_| value(r, depth - 1)).collect())
    } else {
        let mut m = Map::new();
        for _ in 0..r.below(5) {
            m.insert(string(r), value(r, depth - 1));
        }
        Value::Object(m)
    }
}

const ORACLE: &str = r#"
import json, sys, yaml
for line in sys.stdin:
    v = json.loads(line)
    for text in (yaml.safe_dump(v, default_flow_style=False, allow_unicode=True, width=200),
                 yaml.safe_dump(v, default_flow_style=True, allow_unicode=True, width=200),
                 json.dumps(v)):
        sys.stdout.write(json.dumps(text) + "\n")
"#;

#[test]
fn pyyaml_and_json_match_python_for_random_documents() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let docs: Vec<Value> = (0..cases(1500)).map(|i| value(&mut r, 1 + i % 4)).collect();
    let python =
        std::env::var("PATCTL_PYTHON").unwrap_or_else(|_| "/opt/patroni-venv/bin/python".into());
    if !installed(&python) {
        return;
    }
    let expected: Vec<String> = run_oracle(&python, ORACLE, &docs)
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    assert_eq!(expected.len(), docs.len() * 3);
    let mut failures = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let ours = [
            patctl::py::yaml_dump::dump(d),
            patctl::py::yaml_dump::dump_flow(d),
            patctl::py::json::dumps(d),
        ];
        for (k, (o, e)) in ours.iter().zip(&expected[i * 3..i * 3 + 3]).enumerate() {
            if o != e && failures.len() < 40 {
                failures.push(format!("doc {d}\n kind {k}\n ours: {o:?}\n python: {e:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Run `script` over `inputs` (one JSON value a line in, JSON values a line out).
fn run_oracle(python: &str, script: &str, inputs: &[Value]) -> Vec<Value> {
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} (the Patroni venv, with PyYAML) is needed: {e}"));
    let input: String = inputs
        .iter()
        .map(|d| serde_json::to_string(d).unwrap() + "\n")
        .collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `yaml.safe_load` of each text as JSON, or null when PyYAML refuses it or the result has no JSON
/// form (infinity, NaN). Dates become a marker (patctl keeps timestamps as strings).
const LOAD_ORACLE: &str = r#"
import datetime, json, sys, yaml
def norm(v):
    if isinstance(v, (datetime.date, datetime.datetime)):
        return "<timestamp>"
    if isinstance(v, dict):
        return {norm(k): norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v
for line in sys.stdin:
    try:
        out = json.dumps(norm(yaml.safe_load(json.loads(line))), allow_nan=False)
    except Exception:
        out = None
    sys.stdout.write(json.dumps(out) + "\n")
"#;

/// The cases the serde_yaml-based loader got wrong or that PyYAML treats specially, written out.
const LOAD_CASES: &[&str] = &[
    "a: 0o17\nb: 1e3\nc: 1E3\nd: 1.0e3\ne: 1.0e+3\n",
    "x: [0x1F, 0b101, 017, 08, 0_7, 1_000, 12:30, 1:60, 190:20:30.15, +1, -0, .5, 1., 0.1_5]\n",
    "x: [on, Off, YES, no, y, n, True, FALSE, tRUE, ~, null, NULL, Null, nULL]\n",
    "x: [.inf]\n",
    "x: -.Inf\n",
    "x: .NaN\n",
    "x: [2024-01-01, 2024-1-1, '2024-01-01', 2024-01-01T10:00:00Z, 2024-01-01 10:00:00.5 +02:00]\n",
    "a: 'on'\nb: \"off\"\nc: !!str 1\nd: !!int '7'\ne: !!float '1'\nf: !!bool 'yes'\ng: !!null x\nh: ! 12\n",
    "a: !!binary aGk=\n",
    "a: !custom x\n",
    "a: !!int abc\n",
    "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n",
    "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc: {<<: [*a, *b], z: 3}\n",
    "a: &a {x: 1}\nb: &b {x: 2}\nc:\n  <<: *a\n  <<: *b\n",
    "a: &a [1, 2]\nb: {<<: *a}\n",
    "a: <<\n",
    "=: 1\n",
    "a: =\n",
    "a: &x 1\nb: *x\nc: *y\n",
    "a: 1\na: 2\nb: 3\n",
    "1: a\n1.5: b\ntrue: c\n~: d\n0x10: e\n",
    "[1, 2]: a\n",
    "{a: 1}: b\n",
    "a: 1\n---\nb: 2\n",
    "--- 1\n...\n",
    "",
    "# only a comment\n",
    "- |\n  on\n- >\n  folded\n  text\n- \"tab\\there\"\n- 'it''s'\n",
    "a: [1,\n",
    "a: b: c\n",
    "a:\n  - 1\n - 2\n",
    "\"\\x01\": 1\n",
    "ctl\u{1}: 1\n",
    "a: \"\\u00e9\\U0001F600\\N\\_\"\n",
    "? [complex]\n: 1\n",
    "a: 9223372036854775807\nb: -9223372036854775808\nc: 18446744073709551615\n",
];

fn yaml_scalar(r: &mut Rng, v: &Value) -> String {
    match v {
        Value::Null => r.pick(&["~", "null", "Null", ""]).to_string(),
        Value::Bool(b) => {
            let forms: &[&str] = if *b {
                &["true", "yes", "On"]
            } else {
                &["false", "NO", "off"]
            };
            r.pick(forms).to_string()
        }
        Value::Number(n) => n.to_string(),
        Value::String(s) => match r.below(4) {
            0 => format!("'{}'", s.replace('\'', "''")),
            1 => serde_json::to_string(s).unwrap(),
            _ => s.clone(),
        },
        _ => unreachable!(),
    }
}

fn flow_text(r: &mut Rng, v: &Value) -> String {
    match v {
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|x| flow_text(r, x))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, x)| format!(
                    "{}: {}",
                    yaml_scalar(r, &Value::String(k.clone())),
                    flow_text(r, x)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        scalar => yaml_scalar(r, scalar),
    }
}

/// A YAML text for `v`, block or flow at random, scalars plain or quoted at random; plain tokens
/// may well make it something else or invalid, which both loaders must then agree on.
fn yaml_text(r: &mut Rng, v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() && r.below(4) > 0 => {
            for (k, x) in m {
                out.push_str(&format!(
                    "{pad}{}:",
                    yaml_scalar(r, &Value::String(k.clone()))
                ));
                if matches!(x, Value::Object(_) | Value::Array(_)) && r.below(2) == 0 {
                    out.push('\n');
                    yaml_text(r, x, indent + 2, out);
                } else {
                    out.push_str(&format!(" {}\n", flow_text(r, x)));
                }
            }
        }
        Value::Array(a) if !a.is_empty() && r.below(4) > 0 => {
            for x in a {
                out.push_str(&format!("{pad}- {}\n", flow_text(r, x)));
            }
        }
        other => out.push_str(&format!("{pad}{}\n", flow_text(r, other))),
    }
}

/// Timestamps are compared as a marker: PyYAML builds dates, patctl keeps the text.
fn normalize(v: Value) -> Value {
    let mark = |s: String| {
        if patctl::py::resolve::is_yaml11_timestamp(&s) {
            "<timestamp>".to_string()
        } else {
            s
        }
    };
    match v {
        Value::String(s) => Value::String(mark(s)),
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (mark(k), normalize(x)))
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn yaml_loading_matches_pyyaml_safe_load() {
    let mut r = Rng(0x2545_F491_4F6C_DD1D);
    let mut texts: Vec<String> = LOAD_CASES.iter().map(|s| s.to_string()).collect();
    for i in 0..cases(1500) {
        let v = value(&mut r, 1 + i % 4);
        let mut text = String::new();
        yaml_text(&mut r, &v, 0, &mut text);
        texts.push(text);
    }
    let python =
        std::env::var("PATCTL_PYTHON").unwrap_or_else(|_| "/opt/patroni-venv/bin/python".into());
    if !installed(&python) {
        return;
    }
    let inputs: Vec<Value> = texts.iter().map(|t| Value::String(t.clone())).collect();
    let expected = run_oracle(&python, LOAD_ORACLE, &inputs);
    assert_eq!(expected.len(), texts.len());
    let mut failures = Vec::new();
    let mut refused = 0;
    for (text, e) in texts.iter().zip(expected) {
        let python: Option<Value> = e
            .as_str()
            .map(|s| normalize(serde_json::from_str(s).unwrap()));
        let ours = patctl::py::yaml_load::load(text).ok().map(normalize);
        refused += usize::from(python.is_none());
        if ours != python && failures.len() < 40 {
            failures.push(format!(
                "text {text:?}\n ours: {ours:?}\n python: {python:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        refused < texts.len() / 2,
        "too few valid documents: {refused} refused"
    );
}
