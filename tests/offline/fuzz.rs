//! Property tests ("fuzzing" with a fixed-seed generator, bounded in time) over every parser of DCS
//! values and of configuration input: whatever is stored in etcd or typed on the command line, the
//! parsers and renderers return a value or an error, never panic. Plain `cargo test` runs a few
//! thousand cases a property; `PATCTL_PROPERTY_CASES=N` runs N (`rng::cases`).

use std::time::{Duration, Instant};

use crate::rng::{cases, Rng};
use patctl::model::Node;
use patctl::output::members::{self, Format, MembersView};

const JSON_VALUES: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1",
    "67108960",
    "-67108960",
    "18446744073709551615",
    "1e400",
    "-0.0",
    "1.5",
    "\"\"",
    "\"x\"",
    "\"0/4000060\"",
    "\"12\"",
    "\"-3\"",
    "\"abc\"",
    "[]",
    "[1,2]",
    "{}",
    "{\"a\":1}",
    "\"\\u001b[31mred\"",
    "\"\\n\"",
    "\"ünï\"",
    "\"postgres://h:1/db\"",
    "\"http://127.0.0.1:1/patroni\"",
    "\"postgres://[::1]:5432/x\"",
    "\"postgres://:99999/x\"",
    "\"postgres://h:port/x\"",
];
const FIELDS: &[&str] = &[
    "conn_url",
    "api_url",
    "state",
    "role",
    "version",
    "xlog_location",
    "receive_lsn",
    "replay_lsn",
    "replication_state",
    "timeline",
    "tags",
    "pending_restart",
    "pending_restart_reason",
    "scheduled_restart",
    "conn_kwargs",
    "pause",
    "host",
    "port",
    "nofailover",
    "replicatefrom",
    "failover_priority",
    "old_value",
    "new_value",
    "schedule",
    "postgres_version",
    "optime",
    "slots",
    "leader",
    "member",
    "scheduled_at",
    "sync_standby",
    "quorum",
    "synchronous_mode",
    "standby_cluster",
    "loop_wait",
];
const KEYS: &[&str] = &[
    "initialize",
    "config",
    "leader",
    "status",
    "optime/leader",
    "failover",
    "sync",
    "history",
    "failsafe",
    "members/a",
    "members/b",
    "members/c",
    "members/",
    "members/x/y",
    "0/members/a",
    "1/leader",
    "junk",
];

fn json(r: &mut Rng, depth: usize) -> String {
    if depth == 0 || r.below(3) == 0 {
        return r.pick(JSON_VALUES).to_string();
    }
    match r.below(3) {
        0 => format!(
            "[{}]",
            (0..r.below(4))
                .map(|_| json(r, depth - 1))
                .collect::<Vec<_>>()
                .join(",")
        ),
        _ => {
            let fields: Vec<String> = (0..r.below(8))
                .map(|_| format!("\"{}\":{}", r.pick(FIELDS), json(r, depth - 1)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
    }
}

fn value(r: &mut Rng) -> String {
    let mut v = match r.below(6) {
        0 => r.pick(JSON_VALUES).to_string(),
        1 => "postgres://u:p@10.0.0.1:5433/postgres?application_name=http://10.0.0.1:8008/patroni"
            .into(),
        2 => format!(
            "{}:{}",
            r.pick(&["a", "", "node1"]),
            r.pick(&["b", "", "node2"])
        ),
        _ => json(r, 3),
    };
    if r.below(10) == 0 && !v.is_empty() {
        let mut cut = r.below(v.len());
        while !v.is_char_boundary(cut) {
            cut -= 1;
        }
        v.truncate(cut);
    }
    v
}

#[test]
fn dcs_values_never_panic_the_model_or_the_renderers() {
    let mut r = Rng(0xDEAD_BEEF_CAFE_F00D);
    let wanted = cases(2_000);
    // Bounded in time too (a slow machine runs fewer cases): scaled with the number asked for.
    let deadline =
        Instant::now() + Duration::from_millis(8 * wanted as u64).max(Duration::from_secs(8));
    let mut done = 0;
    while Instant::now() < deadline && done < wanted {
        let nodes: Vec<Node> = (0..r.below(10))
            .map(|_| Node {
                key: r.pick(KEYS).to_string(),
                value: value(&mut r),
                version: patctl::dcs::Version::new(r.next() as i64 % 1000),
                session: None,
            })
            .collect();
        let mpp = r.below(4) == 0;
        let cluster = patctl::dcs::Layout::assemble(&nodes, mpp);
        for fmt in [
            Format::Pretty,
            Format::Tsv,
            Format::Json,
            Format::Yaml,
            Format::Topology,
        ] {
            let view = MembersView {
                name: "c",
                extended: r.below(2) == 0,
                fmt,
                group: None,
                citus: mpp,
                color: false,
            };
            let text = members::render(&cluster, &view);
            assert!(!text.is_empty());
        }
        let _ =
            cluster.is_paused() || cluster.is_synchronous_mode() || cluster.is_standby_cluster();
        let _ = cluster.members_leader_first();
        for m in &cluster.members {
            let _ = (
                m.host_port(),
                m.nofailover(),
                m.dbname(),
                patctl::api::Api::url(m, "patroni"),
            );
        }
        done += 1;
    }
    assert!(done > 100, "only {done} cases ran");
}

#[test]
fn config_input_never_panics() {
    let mut r = Rng(0x1234_5678_9ABC_DEF1);
    let pieces = [
        "etcd3://",
        "etcd://",
        "http://",
        "consul://",
        "zookeeper://",
        "",
        "h",
        "127.0.0.1",
        "[::1]",
        "[::1",
        ":",
        ":2379",
        ":0",
        ":99999",
        ":x",
        "/",
        "/ns",
        "//",
        "@",
        "u:p@",
        "?",
        "#",
        " ",
        "ü",
    ];
    for _ in 0..cases(5000) {
        let url: String = (0..r.below(5)).map(|_| r.pick(&pieces)).collect();
        let _ = patctl::config::parse_dcs_url(&url);
    }
    let yaml_pieces = [
        "scope: x\n",
        "etcd3:\n",
        "  hosts: ",
        "[a, b]\n",
        "a:2379,b\n",
        "- x\n",
        "  - y\n",
        "{",
        "}",
        "[",
        "]",
        ": ",
        "'",
        "\"",
        "&a ",
        "*a\n",
        "!!binary x\n",
        "? x\n",
        "\t",
        "namespace: /n/\n",
        "citus: {group: 1}\n",
        "ctl:\n  authentication: {username: u}\n",
        "restapi: 5\n",
        "~\n",
        "...\n",
        "---\n",
    ];
    for _ in 0..cases(5000) {
        let text: String = (0..r.below(8)).map(|_| r.pick(&yaml_pieces)).collect();
        let _ = patctl::config::parse_yaml_mapping(&text, "fuzz.yml");
    }
    let ts_pieces = [
        "2030", "-01", "-1", "T", " ", "10", ":00", ":61", "Z", "+02:00", "+2", ".123", "now", "x",
    ];
    for _ in 0..cases(5000) {
        let text: String = (0..r.below(7)).map(|_| r.pick(&ts_pieces)).collect();
        let _ = patctl::time::parse_scheduled(Some(&text));
    }
}
