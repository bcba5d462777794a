//! The seeded generator of Patroni-shaped DCS contents: what Patroni 3.x/4.x writes under
//! `/<namespace>/<scope>/` (member keys, leader, config, status, failover, sync, history,
//! initialize), in every shape the fields take, with hostile text wherever Patroni stores text a
//! user chose (member names, tag values, configuration values, restart reasons). Used by the generative
//! read test (`tests/cli/generative`) and, for its texts, by the formats test (`tests/offline`).

#![allow(dead_code)]

use serde_json::{json, Map, Value};

use crate::rng::Rng;

/// One generated cluster: its key/value pairs per Citus group (group 0 only without Citus).
/// A `Value::String` is written as is (leader, initialize), anything else as its JSON text.
#[derive(Clone, Debug)]
pub struct Case {
    pub citus: bool,
    pub groups: Vec<(u32, Vec<(String, Value)>)>,
}

const WORDS: &[&str] = &[
    "node1",
    "pg-2",
    "db.example.com",
    "replica",
    "on",
    "off",
    "yes",
    "no",
    "null",
    "~",
    "true",
    "1.5",
    "012",
    "0x1F",
    "1e5",
    "12:30",
    "2024-01-01",
    "-",
    "- x",
    "?",
    ":",
    "a: b",
    "x #y",
    "#",
    "@x",
    "`",
    "!t",
    "&a",
    "*a",
    "%",
    "|",
    ">",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    "\"",
    "it's",
    "a\\b",
    "---",
    "...",
    "<<",
    "=",
    "ünï",
    "naïve café",
    "日本語",
    "😀",
    "\u{a0}",
    "\u{85}",
    "\u{2028}",
    "\u{feff}",
    "\u{1}",
    "\u{1b}[31m",
    "\r",
    "\t",
    "\n",
    "\n\n",
    "  ",
    " ",
    "/usr/bin/pgbackrest --stanza=main archive-push %p",
    "cp %p /archive/%f",
    "pg_stat_statements",
    "shared_preload_libraries",
    "postgres://u@h:5432/db",
    "%Y-%m-%d",
];

/// A random text for the DCS: [`text_with`] without control characters other than tab and line feed,
/// and without characters of disputed display width. patronictl's table measures cells with
/// wcwidth's terminal-sequence parser (an escape sequence, a backspace or a carriage return moves
/// its cursor) and wcwidth's tables; patctl measures with unicode-width and emulates no terminal, so
/// such text is left out of the comparison (README, "Compatibility with patronictl 4.1.5").
pub fn text(r: &mut Rng) -> String {
    text_with(r, false)
}

/// A random text: mostly short, sometimes 150–300 characters of words and spaces (long enough to
/// be folded at PyYAML's width of 200), made of ASCII words, YAML indicators, quotes, tabs, line
/// breaks, unicode and (with `controls`) control characters.
pub fn text_with(r: &mut Rng, controls: bool) -> String {
    let target = match r.below(10) {
        0..=5 => 1 + r.below(12),
        6 | 7 => 12 + r.below(60),
        _ => 150 + r.below(151),
    };
    let mut s = String::new();
    while s.chars().count() < target {
        match r.below(8) {
            0 => s.push(' '),
            1 => s.push(char::from(b'a' + r.below(26) as u8)),
            2 if r.below(3) == 0 => s.push(random_char(r, controls)),
            _ => s.push_str(r.pick(WORDS)),
        }
        if r.below(3) > 0 {
            s.push(' ');
        }
    }
    s.chars()
        .filter(|c| {
            controls
                || (!c.is_control() || *c == '\t' || *c == '\n')
                    && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
        })
        .take(target.max(1))
        .collect()
}

/// A random character: any scalar value (with `all`), or one from blocks whose display width
/// wcwidth (patronictl's tables) and unicode-width (patctl's) agree on: Latin, Greek, Cyrillic,
/// CJK ideographs, Hangul syllables, emoticons.
fn random_char(r: &mut Rng, all: bool) -> char {
    let ranges: &[(u32, u32)] = if all {
        &[
            (0x20, 0x7e),
            (0x0, 0x1f),
            (0x80, 0xff),
            (0x100, 0x2fff),
            (0x3000, 0xd7ff),
            (0xe000, 0xfffd),
            (0x1_0000, 0x1_f9ff),
        ]
    } else {
        &[
            (0x20, 0x7e),
            (0xa1, 0xac),
            (0xae, 0x24f),
            (0x391, 0x3a1),
            (0x3a3, 0x3c9),
            (0x410, 0x44f),
            (0x4e00, 0x9fa5),
            (0xac00, 0xd7a3),
            (0x1_f600, 0x1_f64f),
        ]
    };
    let (lo, hi) = ranges[r.below(ranges.len())];
    char::from_u32(lo + r.below((hi - lo + 1) as usize) as u32).unwrap_or('?')
}

/// A plausible member name, or (one time in three) a hostile one: never empty, never with `/`
/// (the key separator).
fn member_name(r: &mut Rng, i: usize) -> String {
    let name = if r.below(3) == 0 {
        text(r)
    } else {
        format!("{}{}", r.pick(&["node", "pg", "db-", "postgresql"]), i + 1)
    };
    let name = name.replace('/', "_");
    if name.is_empty() {
        "x".into()
    } else {
        name
    }
}

/// A float of any magnitude: a random bit pattern (finite), or one of the usual suspects.
fn float(r: &mut Rng) -> Value {
    let f = match r.below(3) {
        0 => f64::from_bits(r.next()),
        1 => (r.next() % 10_000_000) as f64 / 10f64.powi(r.below(12) as i32),
        _ => [0.1, 0.3, 1e16, 1e-5, 2.5, 1e22, 123456789.123, 0.1 + 0.2][r.below(8)],
    };
    if f.is_finite() {
        json!(f)
    } else {
        json!(0.5)
    }
}

/// An LSN or lag in one of the forms found in member keys: an int, a string of digits, a string LSN,
/// null, a float, absent (None).
fn lsn(r: &mut Rng, base: u64) -> Option<Value> {
    let n = base.saturating_sub(r.next() % 100_000_000 * (r.below(2) as u64));
    Some(match r.below(10) {
        0 => return None,
        1 => Value::Null,
        2 => json!(n.to_string()),
        3 => json!(format!("{:X}/{:X}", n >> 32, n & 0xffff_ffff)),
        4 => json!(n as f64),
        5 => json!(0),
        _ => json!(n),
    })
}

/// An ISO-8601 timestamp in one of the shapes Patroni and patronictl write or accept.
pub fn timestamp(r: &mut Rng) -> String {
    let date = format!(
        "{:04}-{:02}-{:02}",
        2016 + r.below(20),
        1 + r.below(12),
        1 + r.below(28)
    );
    let time = format!("{:02}:{:02}:{:02}", r.below(24), r.below(60), r.below(60));
    let frac = match r.below(5) {
        0 => String::new(),
        1 => format!(".{:03}", r.below(1000)),
        2 => format!(".{:06}", r.below(1_000_000)),
        3 => format!(".{}", r.below(10_000)),
        _ => format!(".{:09}", r.below(1_000_000_000)),
    };
    let tz = [
        "Z", "+00:00", "+01:00", "-05:30", "+0100", "+02", "", "-0000",
    ][r.below(8)];
    let sep = if r.below(4) == 0 { " " } else { "T" };
    format!("{date}{sep}{time}{frac}{tz}")
}

const STATES: &[&str] = &[
    "running",
    "streaming",
    "in archive recovery",
    "stopped",
    "stopping",
    "starting",
    "start failed",
    "crashed",
    "restarting",
    "restart failed",
    "initializing new cluster",
    "initdb failed",
    "running custom bootstrap script",
    "custom bootstrap failed",
    "creating replica",
    "starting after custom bootstrap",
    "stop failed",
    "unknown",
];
const ROLES: &[&str] = &[
    "primary",
    "master",
    "replica",
    "standby_leader",
    "demoted",
    "uninitialized",
    "promoted",
];

fn tags(r: &mut Rng, names: &[String]) -> Value {
    let mut t = Map::new();
    for _ in 0..r.below(5) {
        let (k, v) = match r.below(9) {
            0 => ("nofailover", json!(r.below(2) == 0)),
            1 => ("noloadbalance", json!(r.below(2) == 0)),
            2 => ("clonefrom", json!(true)),
            3 => ("replicatefrom", json!(names[r.below(names.len())].clone())),
            4 => ("failover_priority", json!(r.below(3))),
            5 => ("nosync", json!(r.below(2) == 0)),
            6 => ("nostream", json!(true)),
            _ => {
                let k = text(r);
                t.insert(k, scalar(r));
                continue;
            }
        };
        t.insert(k.into(), v);
    }
    Value::Object(t)
}

/// A scalar as found in tags and configuration: text mostly, numbers, floats, booleans, null.
fn scalar(r: &mut Rng) -> Value {
    match r.below(10) {
        0 => json!(r.next() as i64 >> r.below(63)),
        1 => float(r),
        2 => json!(r.below(2) == 0),
        3 => Value::Null,
        _ => json!(text(r)),
    }
}

fn member(r: &mut Rng, names: &[String], i: usize, optime: u64) -> Value {
    let mut m = Map::new();
    let port = 5432 + r.below(3) as u64;
    let host = ["127.0.0.1", "10.0.0.1", "db1.example.com", "[::1]", "h"][r.below(5)];
    match r.below(8) {
        0 => {}
        1 => {
            m.insert("conn_kwargs".into(), json!({"host": host, "port": port}));
        }
        _ => {
            m.insert(
                "conn_url".into(),
                json!(format!("postgres://{host}:{}/postgres", port + i as u64)),
            );
        }
    }
    m.insert("api_url".into(), json!("http://127.0.0.1:1/patroni"));
    m.insert("state".into(), json!(r.pick(STATES)));
    m.insert("role".into(), json!(r.pick(ROLES)));
    m.insert(
        "version".into(),
        json!(r.pick(&["4.1.5", "4.0.11", "3.3.11", "3.0.4", "2.1.7"])),
    );
    for (k, v) in [
        ("xlog_location", lsn(r, optime)),
        ("receive_lsn", lsn(r, optime)),
        ("replay_lsn", lsn(r, optime)),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    }
    if r.below(2) == 0 {
        m.insert(
            "replication_state".into(),
            json!(r.pick(&["streaming", "in archive recovery", "stopped"])),
        );
    }
    if r.below(5) > 0 {
        m.insert("timeline".into(), json!(1 + r.below(40)));
    }
    if r.below(3) == 0 {
        m.insert("tags".into(), tags(r, names));
    }
    if r.below(5) == 0 {
        m.insert("pending_restart".into(), json!(true));
        if r.below(2) == 0 {
            let mut reasons = Map::new();
            for _ in 0..1 + r.below(3) {
                reasons.insert(text(r), json!({"old_value": text(r), "new_value": text(r)}));
            }
            m.insert("pending_restart_reason".into(), Value::Object(reasons));
        }
    }
    if r.below(6) == 0 {
        let mut s = Map::new();
        s.insert("schedule".into(), json!(timestamp(r)));
        if r.below(2) == 0 {
            s.insert(
                "postgres_version".into(),
                json!(r.pick(&["15.4", "16", "150004"])),
            );
        }
        m.insert("scheduled_restart".into(), Value::Object(s));
    }
    if r.below(8) == 0 {
        m.insert("pause".into(), json!(true));
    }
    if r.below(6) == 0 {
        m.insert(text(r), scalar(r));
    }
    if r.below(4) == 0 {
        m.insert("dcs_last_seen".into(), json!(1_700_000_000 + r.below(1000)));
    }
    Value::Object(m)
}

/// A dynamic configuration: Patroni's keys with nested, long and unusual values.
fn config(r: &mut Rng) -> Value {
    let mut params = Map::new();
    for _ in 0..r.below(8) {
        let k = match r.below(6) {
            0 => text(r),
            _ => r
                .pick(&[
                    "archive_command",
                    "restore_command",
                    "shared_preload_libraries",
                    "max_connections",
                    "wal_level",
                    "hot_standby",
                    "work_mem",
                    "search_path",
                ])
                .to_string(),
        };
        params.insert(k, scalar(r));
    }
    let mut c = json!({"ttl": 30, "loop_wait": 10, "retry_timeout": 10,
        "maximum_lag_on_failover": 1048576,
        "postgresql": {"use_pg_rewind": true, "parameters": params}});
    let o = c.as_object_mut().unwrap();
    for _ in 0..r.below(5) {
        let (k, v) = match r.below(7) {
            0 => ("pause", json!(r.below(2) == 0)),
            1 => ("synchronous_mode", json!(r.pick(&["on", "quorum", "off"]))),
            2 => (
                "standby_cluster",
                json!({"host": text(r), "port": 5432, "restore_command": text(r)}),
            ),
            3 => (
                "slots",
                json!({"s1": {"type": "physical"}, "s2": {"type": "logical", "database": text(r)}}),
            ),
            4 => ("tags", json!([text(r), scalar(r), [scalar(r)], {}])),
            5 => ("maximum_lag_on_failover", float(r)),
            _ => {
                let k = text(r);
                o.insert(k, scalar(r));
                continue;
            }
        };
        o.insert(k.into(), v);
    }
    c
}

fn history(r: &mut Rng) -> Value {
    let rows: Vec<Value> = (0..r.below(6))
        .map(|i| {
            let lsn = r.next() % 1_000_000_000;
            let row = vec![
                json!(i + 1),
                json!(lsn),
                json!(r
                    .pick(&["no recovery target specified", "", "reason"])
                    .to_string()),
                json!(timestamp(r)),
                json!(text(r)),
            ];
            let len = [2, 3, 4, 5, 5, 5][r.below(6)];
            Value::Array(row.into_iter().take(len).collect())
        })
        .collect();
    Value::Array(rows)
}

fn group(r: &mut Rng, main: bool) -> Vec<(String, Value)> {
    let n = r.below(5);
    let names: Vec<String> = (0..n.max(1)).map(|i| member_name(r, i)).collect();
    let optime = r.next() % 10_000_000_000;
    let mut keys: Vec<(String, Value)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, name) in names.iter().enumerate().take(n) {
        if seen.insert(name.clone()) {
            keys.push((format!("members/{name}"), member(r, &names, i, optime)));
        }
    }
    if r.below(6) > 0 {
        let leader = if r.below(8) == 0 {
            text(r).replace('/', "_")
        } else {
            names[r.below(names.len())].clone()
        };
        keys.push(("leader".into(), Value::String(leader)));
    }
    match r.below(6) {
        0 => {}
        1 => keys.push(("initialize".into(), Value::String(String::new()))),
        _ => keys.push((
            "initialize".into(),
            Value::String((7_000_000_000_000_000_000u64 + r.next() % 1_000_000).to_string()),
        )),
    }
    if (main || r.below(2) == 0) && r.below(8) > 0 {
        keys.push(("config".into(), config(r)));
    }
    match r.below(5) {
        0 => {}
        1 => keys.push(("optime/leader".into(), Value::String(optime.to_string()))),
        _ => keys.push((
            "status".into(),
            json!({"optime": optime, "slots": {"node1": optime}, "retain_slots": []}),
        )),
    }
    if r.below(4) == 0 {
        let mut f = Map::new();
        if r.below(3) > 0 {
            f.insert("leader".into(), json!(names[0].clone()));
        }
        if r.below(2) == 0 {
            f.insert("member".into(), json!(names[names.len() - 1].clone()));
        }
        if r.below(4) > 0 {
            f.insert("scheduled_at".into(), json!(timestamp(r)));
        }
        keys.push(("failover".into(), Value::Object(f)));
    }
    if r.below(4) == 0 {
        let sync: Vec<&str> = names.iter().skip(1).map(String::as_str).collect();
        keys.push((
            "sync".into(),
            json!({"leader": names[0].clone(), "sync_standby": sync.join(","), "quorum": r.below(2)}),
        ));
    }
    if r.below(3) > 0 {
        keys.push(("history".into(), history(r)));
    }
    keys
}

/// One case: a plain cluster, or (one time in five) a Citus cluster of a coordinator and workers.
pub fn case(r: &mut Rng) -> Case {
    let citus = r.below(5) == 0;
    let groups = if citus {
        (0..1 + r.below(3) as u32)
            .map(|g| (g, group(r, g == 0)))
            .collect()
    } else {
        vec![(0, group(r, true))]
    };
    Case { citus, groups }
}
