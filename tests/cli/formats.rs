//! Differential tests of the Python-compatible renderers: random documents rendered by
//! `patctl::output::pyyaml` and `pyjson` must be byte-identical to what PyYAML's `safe_dump` and
//! Python's `json.dumps` print for the same data (the Python of the Patroni venv is the oracle).
//! Deterministic: a fixed-seed generator, a bounded number of cases.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{installed, Rng};
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
    let docs: Vec<Value> = (0..1500).map(|i| value(&mut r, 1 + i % 4)).collect();
    let python =
        std::env::var("PATCTL_PYTHON").unwrap_or_else(|_| "/opt/patroni-venv/bin/python".into());
    if !installed(&python) {
        return;
    }
    let mut child = Command::new(&python)
        .args(["-c", ORACLE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} (the Patroni venv, with PyYAML) is needed: {e}"));
    let input: String = docs
        .iter()
        .map(|d| serde_json::to_string(d).unwrap() + "\n")
        .collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    let expected: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(expected.len(), docs.len() * 3);
    let mut failures = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let ours = [
            patctl::output::pyyaml::dump(d),
            patctl::output::pyyaml::dump_flow(d),
            patctl::output::pyjson::dumps(d),
        ];
        for (k, (o, e)) in ours.iter().zip(&expected[i * 3..i * 3 + 3]).enumerate() {
            // PyYAML folds long flow collections and long scalars at 200 columns; patctl does not.
            if k < 2 && e.lines().any(|l| l.chars().count() > 150) {
                continue;
            }
            if o != e && failures.len() < 40 {
                failures.push(format!("doc {d}\n kind {k}\n ours: {o:?}\n python: {e:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
