//! `list`, `topology` and `history`: byte-for-byte what patronictl prints for the same live cluster.

use std::time::Duration;

use crate::common::*;

#[test]
fn list_formats_match_patronictl() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    for args in [
        &["list"][..],
        &["list", "-e"],
        &["list", "demo"],
        &["list", "-f", "json"],
        &["list", "-f", "yaml"],
        &["list", "-f", "yml"],
        &["list", "-f", "tsv"],
        &["list", "-e", "-f", "tsv"],
        &["list", "-e", "-f", "json"],
        &["topology"],
        &["history"],
        &["history", "-f", "json"],
        &["history", "-f", "tsv"],
        &["list", "nosuch"],
        &["list", "demo", "nosuch"],
    ] {
        assert_same(args);
    }
}

#[test]
fn list_output_is_the_real_cluster() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(Duration::from_secs(60));
    let out = patctl(&["list", "-f", "json"]);
    out.code(0);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let leaders: Vec<_> = rows.iter().filter(|r| r["Role"] == "Leader").collect();
    assert_eq!(leaders.len(), 1);
    assert_eq!(leaders[0]["Member"], leader.as_str());
    assert!(rows
        .iter()
        .filter(|r| r["Role"] != "Leader")
        .all(|r| r["State"] == "streaming"));
}

#[test]
fn dcs_url_without_config_file() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let url = format!(
        "etcd3://{}/service",
        etcd_url().trim_start_matches("http://")
    );
    let ours = patctl_raw(&["-d", &url, "list", "demo"], None, &[]);
    let theirs = patctl(&["list", "demo"]);
    ours.code(0);
    // Same cluster read through -d as through the config file.
    assert_eq!(ours.stdout.lines().next(), theirs.stdout.lines().next());
}

#[test]
fn tagged_members_match_patronictl() {
    let Some(_g) = write_lock() else { return };
    let leader = wait_healthy(Duration::from_secs(60));
    // Tag a replica to replicate from the other replica (earlier tests may have moved the leader).
    let mut replicas: Vec<&str> = ["node1", "node2", "node3"]
        .into_iter()
        .filter(|n| *n != leader)
        .collect();
    replicas.sort();
    let (upstream, tagged) = (replicas[0], replicas[1]);
    tag_member(
        tagged,
        &format!("{{nofailover: true, replicatefrom: {upstream}}}"),
    );
    finally(
        || {
            for args in [
                &["list"][..],
                &["list", "-e"],
                &["topology"],
                &["list", "-f", "json"],
                &["list", "-f", "yaml"],
                &["list", "-f", "tsv"],
            ] {
                let out = assert_same(args);
                assert!(
                    out.stdout.contains("nofailover"),
                    "{args:?}: {}",
                    out.stdout
                );
            }
            let topo = patctl(&["topology"]);
            assert!(
                topo.stdout.contains(&format!("|   + {tagged} ")),
                "{}",
                topo.stdout
            );
        },
        || {
            tag_member(tagged, "{}");
        },
    );
}

#[test]
fn synthetic_members_match_patronictl() {
    // Member values as Patroni 3.x, pre-4.1 and 4.1.5 write them, plus broken ones, in a scratch scope.
    let Some(_g) = read_lock() else { return };
    let scope = scratch_scope("synthetic");
    let base = format!("/service/{scope}");
    etcd_put(&format!("{base}/initialize"), "7334869384651563031");
    etcd_put(
        &format!("{base}/config"),
        r#"{"ttl":30,"loop_wait":10,"pause":true,"synchronous_mode":"quorum"}"#,
    );
    etcd_put(&format!("{base}/leader"), "pg1");
    etcd_put(&format!("{base}/status"), r#"{"optime":67109208}"#);
    etcd_put(
        &format!("{base}/sync"),
        r#"{"leader":"pg1","sync_standby":"pg2","quorum":1}"#,
    );
    etcd_put(
        &format!("{base}/failover"),
        r#"{"leader":"pg1","member":"pg2","scheduled_at":"2030-01-01T10:00:00+00:00"}"#,
    );
    etcd_put(
        &format!("{base}/history"),
        r#"[[1,25165984,"no recovery target specified","2024-01-01T10:00:00.123456+00:00","pg2"],[2,25166000,"short"]]"#,
    );
    etcd_put(
        &format!("{base}/members/pg1"),
        r#"{"conn_url":"postgres://10.0.0.1:5432/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"primary","version":"4.1.5","xlog_location":67109208,"timeline":5}"#,
    );
    etcd_put(
        &format!("{base}/members/pg2"),
        r#"{"conn_url":"postgres://10.0.0.2:5432/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"replica","replication_state":"streaming","timeline":5,"receive_lsn":67109208,"replay_lsn":65011712,"xlog_location":67109208,"pending_restart":true,"pending_restart_reason":{"max_connections":{"old_value":"100","new_value":"200"},"shared_preload_libraries":{"old_value":"pg_stat_statements,auto_explain","new_value":"pg_stat_statements,auto_explain,pg_cron"}}}"#,
    );
    etcd_put(
        &format!("{base}/members/pg3"),
        r#"{"conn_url":"postgres://10.0.0.3:5432/postgres","state":"stopped","role":"replica","scheduled_restart":{"schedule":"2030-01-01T12:00:00+00:00","postgres_version":"16.4"}}"#,
    );
    etcd_put(
        &format!("{base}/members/pg4"),
        r#"{"conn_url":"postgres://10.0.0.4:5432/postgres","state":"in archive recovery","role":"replica","timeline":4,"xlog_location":1000,"tags":{"clonefrom":true,"failover_priority":0}}"#,
    );
    etcd_put(
        &format!("{base}/members/pg10"),
        r#"{"conn_url":"postgres://10.0.0.10:5432/postgres","api_url":"http://10.0.0.10:8008/patroni","state":"running","role":"master","version":"3.3.1","xlog_location":1572864,"timeline":5}"#,
    );
    etcd_put(&format!("{base}/members/broken"), "{not json");
    with_prefix_removed(&base, || {
        for args in [
            &["list", scope.as_str()][..],
            &["list", "-e", scope.as_str()],
            &["list", "-f", "json", scope.as_str()],
            &["list", "-e", "-f", "yaml", scope.as_str()],
            &["list", "-e", "-f", "tsv", scope.as_str()],
            &["topology", scope.as_str()],
            &["history", scope.as_str()],
            &["history", "-f", "yaml", scope.as_str()],
        ] {
            assert_same(args);
        }
    });
}

#[test]
fn watch_repeats_and_timestamp_prints_a_line() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let out = std::process::Command::new("timeout")
        .args([
            "2.2",
            env!("CARGO_BIN_EXE_patctl"),
            "-c",
            &config(),
            "list",
            "-t",
            "-w",
            "0.5",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(124),
        "killed by timeout, not exited"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let tables = text.matches("+ Cluster: demo (").count();
    assert!(
        (3..=6).contains(&tables),
        "expected a table every 0.5 s, got {tables}:\n{text}"
    );
    // -t prints `YYYY-MM-DD HH:MM:SS` before each table.
    let first = text.lines().next().unwrap();
    assert_eq!(first.len(), 19, "{first}");
    assert_eq!(&first[4..5], "-");
}

#[test]
fn a_directory_of_yaml_files_is_a_config() {
    let Some(_g) = read_lock() else { return };
    let dir = std::env::temp_dir().join(format!("patctl-cfgdir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = std::fs::read_to_string(config()).unwrap();
    // The second file (alphabetical order) overrides the scope of the first.
    std::fs::write(
        dir.join("a.yml"),
        cfg.replace("scope: demo", "scope: nosuch"),
    )
    .unwrap();
    // a.yml holds the sandbox's passwords: private, or patctl refuses it.
    std::fs::set_permissions(
        dir.join("a.yml"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(dir.join("b.yaml"), "scope: demo\n").unwrap();
    std::fs::write(dir.join("ignored.txt"), "scope: [broken\n").unwrap();
    let ours = patctl_raw(&["-c", dir.to_str().unwrap(), "list"], None, &[]);
    ours.code(0);
    assert!(
        ours.stdout.starts_with("+ Cluster: demo ("),
        "{}",
        ours.stdout
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_option_given_twice_keeps_the_last_value_as_in_click() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let out = patctl(&["list", "-f", "json", "-f", "tsv"]);
    out.code(0);
    assert!(
        out.stdout.starts_with("Cluster\tMember\t"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_unknown_cluster_hints_at_the_scopes_in_the_dcs() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    // stdout and the exit code stay patronictl's (an empty table, 0); the hint is on stderr.
    let out = assert_same(&["list", "nosuch"]);
    let hint = out
        .stderr
        .strip_prefix("Hint: there is no cluster nosuch in the DCS; the clusters in /service/: ")
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(hint.trim_end().split(", ").any(|s| s == "demo"), "{hint}");
    // An error keeps patronictl's line, the hint follows; -o json carries it too.
    let out = patctl(&["restart", "nosuch", "--force"]);
    out.code(1);
    let mut lines = out.stderr.lines();
    assert_eq!(
        lines.next(),
        Some("Error: nosuch cluster doesn't have any members")
    );
    assert!(lines
        .next()
        .is_some_and(|l| l.starts_with("Hint: there is no cluster nosuch in the DCS")));
    let out = patctl(&["-o", "json", "restart", "nosuch", "--force"]);
    let env: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(env["error"]["hint"]
        .as_str()
        .is_some_and(|h| h.contains("demo")));
    // The cluster that exists: no hint.
    assert!(!patctl(&["list", "demo"]).stderr.contains("Hint:"));
}
