//! `doctor` on real servers: the main sandbox as it is and with one Patroni frozen (SIGSTOP), a
//! three-member etcd with TLS and authentication (a mode sandbox) with one member stopped. The TLS
//! servers whose certificates expire or name another host need no sandbox: `tests/offline/doctor.rs`.

use std::time::{Duration, Instant};

use crate::common::*;
use crate::doctor_findings::{finding, findings};
use serde_json::Value;

#[test]
fn the_sandbox_is_healthy_and_checked_within_a_second() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let start = Instant::now();
    let out = patctl(&["doctor"]);
    let took = start.elapsed();
    out.code(0);
    assert!(took < Duration::from_secs(3), "doctor took {took:?}");
    let text = &out.stdout;
    for node in ["node1", "node2", "node3"] {
        let line = text
            .lines()
            .find(|l| l.contains(&format!(" {node} ")) && l.contains("reachable"))
            .unwrap_or_else(|| panic!("no reachable line for {node}:\n{text}"));
        assert!(line.starts_with("PASS  rest"), "{line}");
        assert!(
            text.lines().any(|l| l.contains(&format!(" {node} "))
                && l.contains("versions")
                && l.contains("Patroni 4.1.5, PostgreSQL 15.")),
            "{text}"
        );
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("PASS  dcs") && l.contains("version") && l.contains("etcd 3.")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("PASS  config") && l.contains("loop_wait + 2*retry_timeout = ")),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.starts_with("FAIL")), "{text}");
    assert!(text.lines().last().unwrap().contains(" 0 FAIL"), "{text}");

    let json = patctl(&["doctor", "-o", "json"]);
    json.code(0);
    let all = findings(&json);
    assert!(all.iter().all(|f| f.0 != "FAIL"), "{all:#?}");
    assert_eq!(finding(&all, "node1", "clock").0, "PASS");
}

#[test]
fn a_frozen_patroni_fails_its_member_within_the_timeout() {
    let Some(_g) = write_lock() else { return };
    let leader = wait_healthy(Duration::from_secs(90));
    let frozen = ["node1", "node2", "node3"]
        .into_iter()
        .find(|n| *n != leader)
        .unwrap()
        .to_string();
    crate::faults::signal_patroni(&frozen, "-STOP");
    finally(
        || {
            let start = Instant::now();
            let out = patctl(&["--request-timeout", "2", "doctor", "-o", "json"]);
            let took = start.elapsed();
            assert!(took < Duration::from_secs(3), "doctor took {took:?}");
            out.code(1);
            let all = findings(&out);
            let f = finding(&all, &frozen, "reachable");
            assert_eq!(f.0, "FAIL", "{f:?}");
            assert!(f.4.contains("no answer within the timeout"), "{f:?}");
            assert_eq!(finding(&all, &leader, "reachable").0, "PASS");
            assert_eq!(finding(&all, &leader, "auth").0, "PASS");
            let failed: Vec<_> = all.iter().filter(|f| f.0 == "FAIL").collect();
            assert_eq!(failed.len(), 1, "{failed:#?}");
            let v: Value = serde_json::from_str(&out.stdout).unwrap();
            assert_eq!(v["error"]["message"], "1 check failed");
            assert_eq!(v["data"]["summary"]["fail"], 1);
        },
        || {
            crate::faults::signal_patroni(&frozen, "-CONT");
            wait_healthy(Duration::from_secs(90));
        },
    );
}

/// On the three-member etcd v3 TLS sandbox of `dcs::tls` (run from there, on a healthy one): etcd
/// member 2 stopped, then started again.
pub fn a_stopped_etcd_member_fails_its_endpoint_and_warns_for_the_quorum(sb: &ModeSandbox) {
    let endpoints: Vec<String> = sb
        .var("SANDBOX_ETCD_ENDPOINTS")
        .split(',')
        .map(String::from)
        .collect();
    assert_eq!(endpoints.len(), 3);
    let out = sb.patctl(&["doctor", "-o", "json"]);
    let all = findings(&out);
    // The sandbox's certificates are made for 30 days: a WARN, not a FAIL.
    out.code(0);
    for ep in &endpoints {
        assert_eq!(finding(&all, ep, "reachable").0, "PASS", "{all:#?}");
        assert_eq!(finding(&all, ep, "auth").4, "user 'root' accepted");
        assert_eq!(finding(&all, ep, "hostname").0, "PASS");
        let cert = finding(&all, ep, "certificate");
        assert_eq!(cert.0, "WARN", "{cert:?}");
        assert!(cert.4.contains(" days left; "), "{cert:?}");
        let q = finding(&all, ep, "quorum");
        assert!(q.4.contains("3 members"), "{q:?}");
    }
    assert_eq!(
        finding(&all, "cluster", "members").4,
        "all 3 members answered"
    );
    assert_eq!(finding(&all, "node1", "tls").0, "PASS");
    assert_eq!(finding(&all, "node1", "auth").0, "PASS");
    assert_eq!(finding(&all, "node2", "certificate").0, "WARN");

    sb.sh(&["etcd-stop", "2"]);
    let start = Instant::now();
    let out = sb.patctl(&["doctor", "-o", "json"]);
    assert!(
        start.elapsed() < Duration::from_secs(7),
        "{:?}",
        start.elapsed()
    );
    out.code(1);
    let all = findings(&out);
    let down = finding(&all, &endpoints[1], "reachable");
    assert_eq!(down.0, "FAIL", "{down:?}");
    assert!(down.4.contains("connection refused"), "{down:?}");
    assert_eq!(finding(&all, &endpoints[0], "quorum").0, "PASS");
    let members = finding(&all, "cluster", "members");
    assert_eq!(
        (members.0.as_str(), members.4.as_str()),
        ("WARN", "2 of 3 members answered; the quorum (2) holds")
    );
    // The members are still read and asked through the other two.
    assert_eq!(finding(&all, "node1", "reachable").0, "PASS");
    let failed: Vec<_> = all.iter().filter(|f| f.0 == "FAIL").collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");

    // The switchover pre-flight warns alike, and reads the leader key's lease.
    let out = sb.patctl(&["switchover", "--dry-run", "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    crate::schema::assert_valid("SwitchoverPlan", &plan);
    let warnings = plan["data"]["warnings"].to_string();
    let down = format!("DCS endpoint {} did not answer (", endpoints[1]);
    assert!(warnings.contains(&down), "{warnings}");
    assert!(
        warnings.contains("2 of 3 DCS members answered; the quorum (2) holds"),
        "{warnings}"
    );
    let left = plan["data"]["dcs"]["leaderKeyRemainingSeconds"].as_f64();
    assert!(left.is_some_and(|s| s > 0.0), "{plan}");
    sb.sh(&["etcd-start", "2"]);
}
