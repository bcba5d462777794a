//! TLS as patronictl accepts and refuses it (issue 12), on a sandbox of its own in the common quick
//! set-up, `SANDBOX_TLS=selfsigned`: one self-signed `CA:TRUE` certificate as the REST APIs' certificate
//! and CA file (`verify_client: required`) and as PostgreSQL's (`hostssl … clientcert=verify-ca`), the
//! ctl side configured by `PATRONI_*`/`PG*` variables only (no config file).
//!
//! Every command runs under patctl and the real patronictl with the same environment: the commands that
//! work must work in both and print the same; the refused certificates (expired, wrong host, unknown
//! CA, encrypted key without its password) must be refused by both, patctl with a one-line reason and
//! its exit code. Fake members in scratch scopes point at a real node by a name outside the
//! certificate, or at `openssl s_server` with an expired certificate.

use std::process::Command;
use std::time::Duration;

use crate::common::*;

mod hints; // the hints of TLS refusals: which certificate, which name, why
mod refusals; // expired, wrong host, unknown CA, -k, encrypted keys; etcd TLS refusals

/// The mode sandbox and the ctl side's environment.
struct Tls {
    sb: ModeSandbox,
    env: Vec<(String, String)>,
}

impl Tls {
    /// `None` (skipped) when the main sandbox is not up.
    fn up(tag: &str) -> Option<Tls> {
        let sb = ModeSandbox::up(tag, &[("SANDBOX_TLS", "selfsigned")])?;
        let env = sb.ctl_env();
        assert!(
            env.iter().any(|(k, _)| k == "PATRONI_RESTAPI_CAFILE"),
            "{env:?}"
        );
        Some(Tls { sb, env })
    }

    /// The environment with `set` applied and the `unset` variables removed.
    fn env_with(&self, set: &[(&str, &str)], unset: &[&str]) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .env
            .iter()
            .filter(|(k, _)| !unset.contains(&k.as_str()) && !set.iter().any(|(s, _)| s == k))
            .cloned()
            .collect();
        env.extend(set.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    fn run(&self, bin: &str, args: &[&str], set: &[(&str, &str)], unset: &[&str]) -> Out {
        let env = self.env_with(set, unset);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_isolated(bin, args, &env)
    }

    fn patctl(&self, args: &[&str]) -> Out {
        self.patctl_with(args, &[], &[])
    }

    fn patctl_with(&self, args: &[&str], set: &[(&str, &str)], unset: &[&str]) -> Out {
        self.run(env!("CARGO_BIN_EXE_patctl"), args, set, unset)
    }

    fn patronictl(&self, args: &[&str]) -> Out {
        self.patronictl_with(args, &[], &[])
    }

    fn patronictl_with(&self, args: &[&str], set: &[(&str, &str)], unset: &[&str]) -> Out {
        self.run(&patronictl_bin(), args, set, unset)
    }

    /// Both tools, once each, with `set` applied and the `unset` variables removed.
    fn both_with(&self, args: &[&str], set: &[(&str, &str)], unset: &[&str]) -> (Out, Out) {
        (
            self.patctl_with(args, set, unset),
            self.patronictl_with(args, set, unset),
        )
    }

    /// Both tools print the same and exit 0 (a few tries: LSNs move between the runs).
    #[track_caller]
    fn assert_same(&self, args: &[&str], set: &[(&str, &str)]) -> Out {
        let (ours, theirs) = match until_same(
            |tool| self.run(&tool.bin(), args, set, &[]),
            |ours, theirs| ours.stdout == theirs.stdout && ours.code == 0 && theirs.code == 0,
        ) {
            Ok((ours, _)) => return ours,
            Err(last) => last,
        };
        panic!(
            "patctl {args:?} differs from patronictl\n--- patctl ({}):\n{}{}\n--- patronictl ({}):\n{}{}",
            ours.code, ours.stdout, ours.stderr, theirs.code, theirs.stdout, theirs.stderr
        );
    }

    fn tls(&self, file: &str) -> String {
        self.sb.tls(file)
    }

    fn api_port(&self, i: u16) -> u16 {
        self.sb.var("SANDBOX_API_BASE").parse::<u16>().unwrap() + i
    }

    fn pg_port(&self, i: u16) -> u16 {
        self.sb.var("SANDBOX_PG_BASE").parse::<u16>().unwrap() + i
    }

    /// Write a key into the sandbox's etcd (plain http in this mode).
    fn etcd_put(&self, key: &str, value: &str) {
        let mut cmd = Command::new("etcdctl");
        for (k, _) in std::env::vars() {
            if k.starts_with("ETCDCTL_") {
                cmd.env_remove(k);
            }
        }
        let out = cmd
            .env("ETCDCTL_API", "3")
            .arg(format!(
                "--endpoints={}",
                self.sb.var("SANDBOX_ETCD_ENDPOINTS")
            ))
            .args(["put", key, value])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }

    /// A scratch cluster whose one member (the leader) has these REST and PostgreSQL addresses.
    fn fake_cluster(&self, scope: &str, api_url: &str, conn_url: &str) {
        self.etcd_put(
            &format!("/service/{scope}/members/node1"),
            &format!(
                r#"{{"conn_url":"{conn_url}","api_url":"{api_url}","state":"running","role":"primary","version":"4.1.5","timeline":1}}"#
            ),
        );
        self.etcd_put(&format!("/service/{scope}/leader"), "node1");
    }

    /// Wait until one leader runs and the other member streams; returns the leader's name.
    fn wait_healthy(&self) -> String {
        wait_listed_healthy(2, Duration::from_secs(90), || {
            self.patctl(&["list", "-f", "json"])
        })
    }
}

/// The last non-empty line of an output.
fn last_line(s: &str) -> &str {
    s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("")
}

/// A `query` error row without its timestamp.
fn error_row(s: &str) -> String {
    s.split_once('\t')
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_default()
}

/// patctl failed with one `Error:` line naming `reason` on stderr (and at most a `Hint:` line after
/// it), and the given exit code.
#[track_caller]
fn refused(out: &Out, code: i32, reason: &str) {
    out.code(code);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("Hint: ")),
        "{}",
        out.stderr
    );
    assert!(
        lines[0].contains(reason),
        "{reason:?} not in {}",
        out.stderr
    );
}

// ------------------------------------------------------------------ commands

/// The commands, then the refusals (`refusals.rs`), on one sandbox.
#[test]
fn selfsigned_commands_and_refusals_like_patronictl() {
    let Some(t) = Tls::up("selfsigned") else {
        return;
    };
    commands(&t);
    refusals::refusals(&t);
}

fn commands(t: &Tls) {
    let text = std::fs::read_to_string(t.tls("server.crt")).unwrap();
    let x509 = Command::new("openssl")
        .args(["x509", "-noout", "-text"])
        .stdin(std::fs::File::open(t.tls("server.crt")).unwrap())
        .output()
        .unwrap();
    assert!(text.contains("BEGIN CERTIFICATE"));
    assert!(
        String::from_utf8_lossy(&x509.stdout).contains("CA:TRUE"),
        "the reproduction needs a CA:TRUE certificate"
    );

    assert_eq!(t.wait_healthy(), "node1");
    t.assert_same(&["list"], &[]);
    t.assert_same(&["topology"], &[]);

    // pause/resume through the REST API, each tool undoing the other.
    let ours = t.patctl(&["pause", "--wait"]);
    ours.code(0);
    assert!(ours
        .stdout
        .contains("Success: cluster management is paused"));
    let theirs_resume = t.patronictl(&["resume", "--wait"]);
    let theirs = t.patronictl(&["pause", "--wait"]);
    let ours_resume = t.patctl(&["resume", "--wait"]);
    ours_resume.code(0);
    assert_eq!(ours.stdout, theirs.stdout, "{}", theirs.stderr);
    assert_eq!(ours_resume.stdout, theirs_resume.stdout);
    assert!(ours_resume
        .stdout
        .contains("Success: cluster management is resumed"));

    // restart and reinit --wait of the replica.
    for args in [
        &["restart", "demo", "node2", "--force"][..],
        &["reinit", "demo", "node2", "--force", "--wait"],
    ] {
        let ours = t.patctl(args);
        t.wait_healthy();
        let theirs = t.patronictl(args);
        t.wait_healthy();
        ours.code(0);
        assert_eq!(
            last_line(&ours.stdout),
            last_line(&theirs.stdout),
            "{args:?}"
        );
    }
    let ours = t.patctl(&["restart", "demo", "node2", "--force"]);
    assert_eq!(last_line(&ours.stdout), "Success: restart on member node2");
    t.wait_healthy();

    // switchover through the REST API (not the DCS fallback), there and back.
    let ours = t.patctl(&[
        "switchover",
        "demo",
        "--leader",
        "node1",
        "--candidate",
        "node2",
        "--force",
    ]);
    ours.code(0);
    assert_eq!(t.wait_healthy(), "node2");
    let theirs = t.patronictl(&[
        "switchover",
        "demo",
        "--leader",
        "node2",
        "--candidate",
        "node1",
        "--force",
    ]);
    assert_eq!(t.wait_healthy(), "node1");
    let done = |o: &Out, who: &str| {
        o.stdout
            .lines()
            .find_map(|l| l.split_once(" Successfully switched over to "))
            .map(|(_, name)| name.replace(who, "X"))
    };
    assert_eq!(
        done(&ours, "node2").as_deref(),
        Some("\"X\""),
        "{}",
        ours.stdout
    );
    assert_eq!(
        done(&ours, "node2"),
        done(&theirs, "node1"),
        "{}",
        theirs.stdout
    );

    // edit-config: the same diff from both tools.
    let set = |v: &str| format!("maximum_lag_on_failover={v}");
    let ours = t.patctl(&["edit-config", "demo", "--force", "-s", &set("1048577")]);
    let theirs_back = t.patronictl(&["edit-config", "demo", "--force", "-s", &set("1048576")]);
    let theirs = t.patronictl(&["edit-config", "demo", "--force", "-s", &set("1048577")]);
    let ours_back = t.patctl(&["edit-config", "demo", "--force", "-s", &set("1048576")]);
    ours.code(0);
    ours_back.code(0);
    assert!(
        ours.stdout.contains("+maximum_lag_on_failover: 1048577"),
        "{}",
        ours.stdout
    );
    assert_eq!(ours.stdout, theirs.stdout);
    assert_eq!(ours_back.stdout, theirs_back.stdout);

    query_over_tls(t);
}

/// `query` over TLS with `clientcert=verify-ca`: PGSSLMODE/PGSSLROOTCERT/PGSSLCERT/PGSSLKEY as libpq reads them.
fn query_over_tls(t: &Tls) {
    let sql = "select ssl from pg_stat_ssl where pid = pg_backend_pid()";
    for member in ["node1", "node2"] {
        let out = t.assert_same(&["query", "-U", "postgres", "-m", member, "-c", sql], &[]);
        assert_eq!(out.stdout, "ssl\nTrue\n");
    }
    // require + a root certificate file acts as verify-ca; prefer uses TLS when the server has it.
    for mode in ["require", "verify-ca", "prefer"] {
        let out = t.assert_same(
            &["query", "-U", "postgres", "-c", sql],
            &[("PGSSLMODE", mode)],
        );
        assert_eq!(out.stdout, "ssl\nTrue\n", "{mode}");
    }

    // The same error rows as psycopg2 (timestamps aside), and patctl's exit code.
    let cases: [(&[(&str, &str)], i32); 3] = [
        // no TLS: pg_hba has only a hostssl line for this user
        (&[("PGSSLMODE", "disable")], 1),
        // prefer without a client certificate: TLS refused, then plain refused; both messages
        (
            &[("PGSSLMODE", "prefer"), ("PGSSLCERT", "/nonexistent.crt")],
            1,
        ),
        (
            &[
                ("PGSSLMODE", "verify-ca"),
                ("PGSSLROOTCERT", "/nonexistent.crt"),
            ],
            2,
        ),
    ];
    for (set, code) in cases {
        let args = ["query", "-U", "postgres", "-c", "select 1"];
        let (ours, theirs) = t.both_with(&args, set, &[]);
        ours.code(code);
        assert_eq!(
            error_row(&ours.stdout),
            error_row(&theirs.stdout),
            "{set:?}"
        );
        assert!(ours.stdout.contains("ERROR"), "{set:?}: {}", ours.stdout);
    }

    // An unknown CA: refused by both (patctl says why).
    let args = ["query", "-U", "postgres", "-c", "select 1"];
    let set = [
        ("PGSSLMODE", "require"),
        ("PGSSLROOTCERT", &*t.tls("other.crt")),
    ];
    let (ours, theirs) = t.both_with(&args, &set, &[]);
    ours.code(3);
    assert!(
        ours.stdout
            .contains("SSL error: certificate verify failed: self-signed certificate"),
        "{}",
        ours.stdout
    );
    assert!(
        theirs.stdout.contains("certificate verify failed"),
        "{}",
        theirs.stdout
    );

    // verify-full checks the host name, verify-ca does not: a member reached as localhost.
    t.fake_cluster(
        "tlsq",
        &format!("https://127.0.0.1:{}/patroni", t.api_port(1)),
        &format!("postgres://localhost:{}/postgres", t.pg_port(1)),
    );
    let args = ["query", "tlsq", "-U", "postgres", "-c", "select 1"];
    let out = t.assert_same(&args, &[("PGSSLMODE", "verify-ca")]);
    assert_eq!(out.stdout, "?column?\n1\n");
    let (ours, theirs) = t.both_with(&args, &[], &[]);
    ours.code(3);
    assert!(ours.stdout.contains("hostname mismatch"), "{}", ours.stdout);
    assert!(
        theirs.stdout.contains("does not match host name"),
        "{}",
        theirs.stdout
    );

    // An encrypted client key: patctl needs sslpassword. (libpq would ask for the pass phrase on a
    // terminal, so patronictl is not run here: on a developer's terminal it would wait for it.)
    let enc = t.tls("server-enc.key");
    let ours = t.patctl_with(
        &["query", "-U", "postgres", "-c", "select 1"],
        &[("PGSSLKEY", &enc)],
        &[],
    );
    ours.code(2);
    assert!(
        ours.stdout.contains("is encrypted: set sslpassword"),
        "{}",
        ours.stdout
    );
}
