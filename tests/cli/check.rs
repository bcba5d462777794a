//! `patctl check` against the real `check_patroni` 2.2 (installed by `sandbox/cluster.sh install`) on
//! the sandbox, in the states a Nagios check has to tell apart: healthy, a replica stopped, a replica
//! lagging, paused (with WAL replay paused on a replica), a pending restart and a scheduled
//! switchover. Every check of a state runs through both tools at the same moment: the same stdout
//! (status line and performance data, byte for byte) and the same exit code (0 OK, 1 WARNING,
//! 2 CRITICAL, 3 UNKNOWN). Each test leaves the cluster healthy.

use std::time::Duration;

use crate::common::*;

/// Every member's REST URL, comma-separated (check_patroni's `-e` list for cluster checks).
fn all_endpoints() -> String {
    let n: u16 = env("SANDBOX_NODES").parse().unwrap();
    (1..=n)
        .map(|i| format!("http://127.0.0.1:{}", api_port(i)))
        .collect::<Vec<_>>()
        .join(",")
}

fn node_url(i: u16) -> String {
    format!("http://127.0.0.1:{}", api_port(i))
}

fn node_index(name: &str) -> u16 {
    name.trim_start_matches("node").parse().unwrap()
}

/// Every check in this state through both tools; returns (check line, exit code) per invocation.
fn suite() -> Vec<(String, i32)> {
    let all = all_endpoints();
    let mut runs: Vec<Vec<String>> = [
        &["cluster_has_leader"][..],
        &["cluster_has_replica"],
        &["cluster_has_replica", "-w", "2:", "-c", "1:"],
        &["cluster_has_replica", "--max-lag", "1MB", "-c", "2:"],
        &["cluster_has_replica", "--sync-warning", "1:"],
        &["cluster_is_in_maintenance"],
        &["cluster_has_scheduled_action"],
        &["cluster_node_count", "-c", "3:", "--healthy-critical", "3:"],
        &["cluster_config_has_changed", "--hash", "0"],
    ]
    .iter()
    .map(|a| {
        let mut v = vec!["-e".to_string(), all.clone()];
        v.extend(a.iter().map(|s| s.to_string()));
        v
    })
    .collect();
    let n: u16 = env("SANDBOX_NODES").parse().unwrap();
    for i in 1..=n {
        for a in [
            &["node_is_alive"][..],
            &["node_is_primary"],
            &["node_is_replica"],
            &["node_is_replica", "--max-lag", "1MB"],
            &["node_is_pending_restart"],
            &["node_tl_has_changed", "--timeline", "1"],
            &["node_patroni_version", "--patroni-version", "4.1.5"],
        ] {
            let mut v = vec!["-e".to_string(), node_url(i)];
            v.extend(a.iter().map(|s| s.to_string()));
            runs.push(v);
        }
    }
    runs.iter()
        .map(|args| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = same_check(&args);
            (args.join(" "), out.code)
        })
        .collect()
}

/// The exit code of the invocation whose arguments end with `tail`.
#[track_caller]
fn code_of(results: &[(String, i32)], tail: &str) -> i32 {
    results
        .iter()
        .find(|(a, _)| a.ends_with(tail))
        .unwrap_or_else(|| panic!("no run ends with {tail:?}"))
        .1
}

fn ready() -> bool {
    installed("check_patroni")
}

fn replicas(leader: &str) -> Vec<String> {
    let n: u16 = env("SANDBOX_NODES").parse().unwrap();
    (1..=n)
        .map(|i| format!("node{i}"))
        .filter(|m| m != leader)
        .collect()
}

#[test]
fn check_matches_check_patroni_on_a_healthy_cluster() {
    let Some(_g) = write_lock() else { return };
    if !ready() {
        return;
    }
    let leader = wait_healthy(Duration::from_secs(60));
    let r = suite();
    assert_eq!(code_of(&r, "cluster_has_leader"), 0);
    assert_eq!(code_of(&r, "cluster_has_replica -w 2: -c 1:"), 0);
    let li = node_index(&leader);
    let primary = format!("{} node_is_primary", node_url(li));
    assert_eq!(code_of(&r, &primary), 0);

    // -v, thresholds that fail, a dead endpoint, a bad threshold (the traceback aside).
    let all = all_endpoints();
    let out = same_check(&[
        "-e",
        &all,
        "-v",
        "cluster_has_replica",
        "-w",
        "3:",
        "-c",
        "4:",
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("\ncritical: healthy_replica is"));
    let out = same_check(&["-e", "http://127.0.0.1:1", "cluster_has_leader"]);
    assert_eq!(out.code, 3);
    let theirs = run_isolated(
        "check_patroni",
        &["-e", &all, "cluster_node_count", "-w", "x"],
        &[],
    );
    let ours = patctl_raw(
        &["check", "-e", &all, "cluster_node_count", "-w", "x"],
        None,
        &[],
    );
    assert_eq!((ours.code, theirs.code), (3, 3));
    assert_eq!(Some(ours.stdout.trim_end()), theirs.stdout.lines().next());

    // State files written by one tool are read by the other.
    let dir = std::env::temp_dir().join(format!("patctl-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hash = dir.join("hash.state");
    let hash = hash.to_str().unwrap();
    let ours = patctl_raw(
        &[
            "check",
            "-e",
            &all,
            "cluster_config_has_changed",
            "-s",
            hash,
            "--save",
        ],
        None,
        &[],
    );
    assert_eq!(ours.code, 2, "{}", ours.stdout);
    let out = same_check(&["-e", &all, "cluster_config_has_changed", "-s", hash]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let tl = dir.join("tl.state");
    let tl = tl.to_str().unwrap();
    run_isolated(
        "check_patroni",
        &[
            "-e",
            &node_url(li),
            "node_tl_has_changed",
            "-s",
            tl,
            "--save",
        ],
        &[],
    );
    let out = same_check(&["-e", &node_url(li), "node_tl_has_changed", "-s", tl]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    std::fs::remove_dir_all(&dir).unwrap();

    // Without -e: the members' REST URLs from the configuration and the DCS.
    let theirs = run_isolated("check_patroni", &["-e", &all, "cluster_has_leader"], &[]);
    let ours = patctl(&["check", "cluster_has_leader"]);
    assert_eq!(
        (ours.stdout.as_str(), ours.code),
        (theirs.stdout.as_str(), 0)
    );
    let theirs = run_isolated(
        "check_patroni",
        &["-e", &node_url(li), "node_is_primary"],
        &[],
    );
    let ours = patctl(&["check", "-m", &leader, "node_is_primary"]);
    assert_eq!(
        (ours.stdout.as_str(), ours.code),
        (theirs.stdout.as_str(), 0)
    );
}

#[test]
fn check_matches_check_patroni_with_a_replica_stopped() {
    let Some(_g) = write_lock() else { return };
    if !ready() {
        return;
    }
    let leader = wait_healthy(Duration::from_secs(60));
    let victim = replicas(&leader).pop().unwrap();
    let vi = node_index(&victim);
    finally(
        || {
            sandbox_cmd(&["node-stop", &victim]);
            let r = suite();
            assert_eq!(code_of(&r, &format!("{} node_is_alive", node_url(vi))), 3);
            assert_ne!(code_of(&r, "cluster_has_replica --max-lag 1MB -c 2:"), 0);
            assert_eq!(code_of(&r, "cluster_has_leader"), 0);
        },
        || {
            sandbox_cmd(&["node-start", &victim]);
            wait_healthy(Duration::from_secs(90));
        },
    );
}

/// The PID of the walreceiver of `node`'s postmaster.
fn walreceiver_pid(node: &str) -> String {
    let pm = std::fs::read_to_string(format!("{}/{node}/data/postmaster.pid", env("SANDBOX_DIR")))
        .unwrap();
    let pm = pm.lines().next().unwrap().trim().to_string();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = e.file_name().to_string_lossy().into_owned();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().nth(1))
            .unwrap_or("");
        let cmd = std::fs::read_to_string(e.path().join("cmdline")).unwrap_or_default();
        if ppid == pm && cmd.contains("walreceiver") {
            return pid;
        }
    }
    panic!("no walreceiver under {node}'s postmaster {pm}");
}

fn signal(sig: &str, pid: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, pid])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

const PG_ENV: &[(&str, &str)] = &[("PGPASSWORD", "postgres")];

fn sql(member: Option<&str>, statement: &str) {
    let mut args = vec!["query", "-U", "postgres"];
    if let Some(m) = member {
        args.extend(["-m", m]);
    }
    args.extend(["-c", statement]);
    patctl_env(&args, None, PG_ENV);
}

fn lag_of(node: &str) -> i64 {
    rest_get(api_port(1), "cluster")
        .and_then(|c| {
            c["members"]
                .as_array()?
                .iter()
                .find(|m| m["name"] == node)
                .and_then(|m| m["lag"].as_i64())
        })
        .unwrap_or(0)
}

#[test]
fn check_matches_check_patroni_with_a_replica_lagging() {
    let Some(_g) = write_lock() else { return };
    if !ready() {
        return;
    }
    let leader = wait_healthy(Duration::from_secs(60));
    let victim = replicas(&leader).remove(0);
    let vi = node_index(&victim);
    let wr = walreceiver_pid(&victim);
    finally(
        || {
            // A stopped WAL receiver: the leader writes on, the replica receives nothing.
            signal("-STOP", &wr);
            sql(None, "CREATE TABLE IF NOT EXISTS patctl_check_lag(x int)");
            sql(
                None,
                "INSERT INTO patctl_check_lag SELECT generate_series(1, 100000)",
            );
            wait_until("a lag over 1 MB", Duration::from_secs(30), || {
                lag_of(&victim) > 1 << 20
            });
            let r = suite();
            assert_eq!(code_of(&r, "cluster_has_replica --max-lag 1MB -c 2:"), 2);
            let lagging = format!("{} node_is_replica --max-lag 1MB", node_url(vi));
            assert_eq!(code_of(&r, &lagging), 2);
        },
        || {
            signal("-CONT", &wr);
            sql(None, "DROP TABLE IF EXISTS patctl_check_lag");
            wait_healthy(Duration::from_secs(90));
        },
    );
}

#[test]
fn check_matches_check_patroni_when_paused_with_replay_paused() {
    let Some(_g) = write_lock() else { return };
    if !ready() {
        return;
    }
    let leader = wait_healthy(Duration::from_secs(60));
    let victim = replicas(&leader).remove(0);
    finally(
        || {
            patctl(&["pause", "--wait"]).code(0);
            // Patroni resumes a paused replay unless the cluster is paused.
            sql(Some(&victim), "SELECT pg_wal_replay_pause()");
            sql(None, "SELECT pg_switch_wal()");
            let r = suite();
            assert_eq!(code_of(&r, "cluster_is_in_maintenance"), 2);
        },
        || {
            sql(Some(&victim), "SELECT pg_wal_replay_resume()");
            resume_and_settle(Duration::from_secs(90));
            wait_healthy(Duration::from_secs(90));
        },
    );
}

fn pending_restart(i: u16) -> bool {
    rest_get(api_port(i), "patroni").is_some_and(|p| p["pending_restart"] == true)
}

#[test]
fn check_matches_check_patroni_with_a_pending_restart() {
    let Some(_g) = write_lock() else { return };
    if !ready() {
        return;
    }
    let leader = wait_healthy(Duration::from_secs(60));
    let li = node_index(&leader);
    finally(
        || {
            patctl(&["edit-config", "--pg", "max_connections=101", "--force"]).code(0);
            wait_until(
                "pending_restart on the leader",
                Duration::from_secs(30),
                || pending_restart(li),
            );
            let r = suite();
            let pending = format!("{} node_is_pending_restart", node_url(li));
            assert_eq!(code_of(&r, &pending), 2);
        },
        || {
            patctl(&["edit-config", "--pg", "max_connections=100", "--force"]);
            wait_until("no pending restart", Duration::from_secs(30), || {
                !pending_restart(li)
            });
        },
    );
}

#[test]
fn check_matches_check_patroni_with_a_scheduled_switchover() {
    let Some(_g) = write_lock() else { return };
    if !ready() {
        return;
    }
    let leader = wait_healthy(Duration::from_secs(60));
    let candidate = replicas(&leader).remove(0);
    let scope = env("SANDBOX_SCOPE");
    finally(
        || {
            patctl(&[
                "switchover",
                "--leader",
                &leader,
                "--candidate",
                &candidate,
                "--scheduled",
                "2099-01-01T00:00:00+00:00",
                "--force",
            ])
            .code(0);
            let r = suite();
            assert_eq!(code_of(&r, "cluster_has_scheduled_action"), 2);
        },
        || {
            patctl(&["flush", &scope, "switchover", "--force"]);
        },
    );
}

#[test]
fn check_config_ini_matches_check_patroni() {
    let Some(_g) = read_lock() else { return };
    if !ready() {
        return;
    }
    let leader = wait_healthy(Duration::from_secs(60));
    let replica = &replicas(&leader)[0];
    let dir = std::env::temp_dir().join(format!("patctl-check-ini-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ini = dir.join("check_patroni.ini");
    // Keys are check_patroni's parameter names; [DEFAULT] reaches every section.
    std::fs::write(
        &ini,
        format!(
            "# as a Nagios host would have it\n[DEFAULT]\ntimeout = 3\n\n[options]\nendpoints = {}\n\n\
             [options.cluster_has_replica]\nwarning = 3:\nmax_lag = 1MB\n\n\
             [options.cluster_node_count]\ncritical = 4:\n\n\
             [options.cluster_config_has_changed]\nconfig_hash = 0\n\n\
             [options.node_is_replica]\ncheck_is_async = yes\n",
            all_endpoints().replace(',', ", ")
        ),
    )
    .unwrap();
    let ini = ini.display().to_string();
    let config = |args: &[&str]| {
        let mut full = vec!["--config", ini.as_str()];
        full.extend_from_slice(args);
        same_check(&full).code
    };
    assert_eq!(
        config(&["cluster_has_replica"]),
        1,
        "2 healthy replicas, warning 3:"
    );
    assert_eq!(config(&["cluster_has_replica", "-w", "2:"]), 0, "-w wins");
    assert_eq!(config(&["cluster_node_count"]), 2, "3 members, critical 4:");
    assert_eq!(config(&["cluster_config_has_changed"]), 2, "--hash 0");
    let at = |node: &str| node_url(node_index(node));
    assert_eq!(config(&["-e", &at(replica), "node_is_replica"]), 0);
    assert_eq!(config(&["-e", &at(&leader), "node_is_replica"]), 2);
    std::fs::remove_dir_all(&dir).ok();
}
