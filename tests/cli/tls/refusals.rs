//! The refusals of the `SANDBOX_TLS=selfsigned` set-up, by patctl and the real patronictl alike: an
//! unknown CA, a wrong host, an expired certificate, `-k` with and without a client certificate,
//! encrypted client keys; and etcd v3/v2 TLS refusals (patctl only).

use super::*;

/// Run by `selfsigned_commands_and_refusals_like_patronictl` on its sandbox, after the commands.
pub(super) fn refusals(t: &Tls) {
    t.wait_healthy();
    let ok = "node1: Patroni 4.1.5 PostgreSQL";

    // An unknown CA: both refuse; patctl's pause says why on one line and exits 3.
    let other = t.tls("other.crt");
    let set = [("PATRONI_RESTAPI_CAFILE", other.as_str())];
    let (ours, theirs) = t.both_with(&["version", "demo"], &set, &[]);
    assert!(
        ours.stdout
            .contains("certificate verify failed: self-signed certificate"),
        "{}",
        ours.stdout
    );
    assert!(theirs
        .stdout
        .contains("certificate verify failed: self-signed certificate"));
    assert!(!theirs.stdout.contains(ok));
    // pause: patronictl's per-member warnings, each naming the member and the reason, then its error.
    let out = t.patctl_with(&["pause", "demo"], &set, &[]);
    let theirs = t.patronictl_with(&["pause", "demo"], &set, &[]);
    out.code(3);
    for node in ["node1", "node2"] {
        assert!(
            out.stderr
                .lines()
                .any(|l| l.contains(&format!("member {node} at https://"))
                    && l.ends_with(
                        "cannot connect: certificate verify failed: self-signed certificate"
                    )),
            "{}",
            out.stderr
        );
    }
    // patronictl's error line, then patctl's hint naming the certificate (see hints.rs).
    let error = out.stderr.lines().rev().nth(1).unwrap_or_default();
    assert_eq!(error, "Error: Can not find accessible cluster member");
    assert_eq!(last_line(&theirs.stderr), error);
    assert!(last_line(&out.stderr).starts_with("Hint: the certificate CN=batman.patroni"));

    // A wrong host (localhost is not in the certificate): refused, unless -k/ctl.insecure, which with
    // a client certificate skips only the host name check.
    t.fake_cluster(
        "tlsx",
        &format!("https://localhost:{}/patroni", t.api_port(1)),
        &format!("postgres://127.0.0.1:{}/postgres", t.pg_port(1)),
    );
    let unset = ["PATRONI_CTL_INSECURE"];
    let (ours, theirs) = t.both_with(&["version", "tlsx"], &[], &unset);
    assert!(
        ours.stdout
            .contains("certificate verify failed: hostname mismatch"),
        "{}",
        ours.stdout
    );
    assert!(
        theirs.stdout.contains("Hostname mismatch"),
        "{}",
        theirs.stdout
    );
    for args in [&["version", "tlsx"][..], &["-k", "version", "tlsx"]] {
        let unset: &[&str] = if args[0] == "-k" { &unset } else { &[] };
        let (ours, theirs) = t.both_with(args, &[], unset);
        ours.code(0);
        assert!(
            ours.stdout.contains(ok),
            "{args:?}: {}{}",
            ours.stdout,
            ours.stderr
        );
        assert_eq!(ours.stdout, theirs.stdout);
    }

    // An expired certificate (trusted as its own CA): refused by both, also with -k and a client
    // certificate; -k without a client certificate turns verification off in both.
    let server = SelfSigned::start(&t.tls("expired.crt"), &t.tls("expired.key"));
    t.fake_cluster(
        "tlsy",
        &format!("https://127.0.0.1:{}/patroni", server.port),
        &format!("postgres://127.0.0.1:{}/postgres", t.pg_port(1)),
    );
    let expired = t.tls("expired.crt");
    let set = [("PATRONI_RESTAPI_CAFILE", expired.as_str())];
    let no_cert = [
        "PATRONI_CTL_CERTFILE",
        "PATRONI_CTL_KEYFILE",
        "PATRONI_CTL_INSECURE",
    ];
    for (args, unset) in [
        (&["version", "tlsy"][..], &[][..]),
        (&["-k", "version", "tlsy"], &[]),
        (&["version", "tlsy"], &no_cert),
    ] {
        let (ours, theirs) = t.both_with(args, &set, unset);
        assert!(
            ours.stdout
                .contains("certificate verify failed: certificate has expired"),
            "{args:?} {unset:?}: {}",
            ours.stdout
        );
        assert!(
            theirs.stdout.contains("certificate has expired"),
            "{}",
            theirs.stdout
        );
    }
    let (ours, theirs) = t.both_with(&["-k", "version", "tlsy"], &set, &no_cert);
    assert!(
        !ours.stdout.contains("certificate verify failed") && ours.stdout.contains("node1: "),
        "{}",
        ours.stdout
    );
    assert!(
        !theirs.stdout.contains("CERTIFICATE_VERIFY_FAILED"),
        "{}",
        theirs.stdout
    );

    encrypted_client_key(t);
    etcd_tls_refusals(t, &server);
    super::hints::certificate_hints(t, &server);
}

/// `ctl.keyfile_password` opens an encrypted client key; a wrong or missing one is a config error.
fn encrypted_client_key(t: &Tls) {
    let enc = t.tls("server-enc.key");
    let password = std::fs::read_to_string(t.tls("key-password")).unwrap();
    let good = [
        ("PATRONI_CTL_KEYFILE", enc.as_str()),
        ("PATRONI_CTL_KEYFILE_PASSWORD", password.as_str()),
    ];
    let out = t.assert_same(&["version", "demo"], &good);
    assert!(
        out.stdout.contains("node1: Patroni 4.1.5"),
        "{}",
        out.stdout
    );

    let wrong = [
        ("PATRONI_CTL_KEYFILE", enc.as_str()),
        ("PATRONI_CTL_KEYFILE_PASSWORD", "Wr0ng-Key-Pass"),
    ];
    let out = t.patctl_with(&["pause", "demo"], &wrong, &[]);
    refused(&out, 2, "cannot decrypt the client key");
    assert!(
        out.stderr.contains("wrong password (ctl.keyfile_password)")
            && !out.stderr.contains("Wr0ng")
    );
    let theirs = t.patronictl_with(&["version", "demo"], &wrong, &[]);
    assert!(
        !theirs.stdout.contains("node1: Patroni 4.1.5"),
        "{}",
        theirs.stdout
    );

    // Without the password: Python's ssl would ask for it on a terminal, so patronictl is not run.
    let missing = [("PATRONI_CTL_KEYFILE", enc.as_str())];
    let out = t.patctl_with(&["pause", "demo"], &missing, &[]);
    refused(&out, 2, "is encrypted: set ctl.keyfile_password");
}

/// etcd v3 and v2 over TLS (patctl only: patronictl retries an unreachable etcd forever): the same
/// refusals, and the self-signed CA:TRUE certificate accepted.
fn etcd_tls_refusals(t: &Tls, expired: &SelfSigned) {
    let good = SelfSigned::start(&t.tls("server.crt"), &t.tls("server.key"));
    for dcs in ["ETCD3", "ETCD"] {
        let host = format!("PATRONI_{dcs}_HOST");
        let proto = format!("PATRONI_{dcs}_PROTOCOL");
        let cacert = format!("PATRONI_{dcs}_CACERT");
        let unset = ["PATRONI_ETCD3_HOST"];
        let run = |addr: String, ca: &str| {
            t.patctl_with(
                &["--timeout", "3", "list"],
                &[(&host, &addr), (&proto, "https"), (&cacert, &t.tls(ca))],
                &unset,
            )
        };
        let out = run(format!("127.0.0.1:{}", expired.port), "expired.crt");
        refused(
            &out,
            3,
            "certificate verify failed: certificate has expired",
        );
        let out = run(format!("127.0.0.1:{}", good.port), "other.crt");
        refused(
            &out,
            3,
            "certificate verify failed: self-signed certificate",
        );
        let out = run(format!("localhost:{}", good.port), "server.crt");
        refused(&out, 3, "certificate verify failed: hostname mismatch");
        // Trusted (the self-signed CA:TRUE certificate as its own CA): the handshake passes. s_server
        // is no etcd: gRPC gets no answer; the v2 client reads its page as an empty cluster.
        let out = run(format!("127.0.0.1:{}", good.port), "server.crt");
        assert!(
            !out.stderr.contains("certificate verify failed"),
            "{dcs}: {}",
            out.stderr
        );
        if dcs == "ETCD3" {
            refused(&out, 3, "(no answer within 3.0s)");
        } else {
            out.code(0);
            assert!(out.stdout.contains("+ Cluster: demo"), "{}", out.stdout);
        }
    }
}
