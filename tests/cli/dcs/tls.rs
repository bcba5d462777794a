//! TLS and authentication for the DCS and the REST API on sandboxes of their own: etcd v3 with TLS,
//! client certificates and authentication (three members), refusals as patronictl refuses, HTTPS
//! REST with client certificates, and etcd v2 with TLS and authentication.

use super::*;

#[test]
fn etcd_v3_tls_auth_three_members_and_https_rest() {
    let Some(sb) = ModeSandbox::up(
        "tls",
        &[
            ("SANDBOX_DCS", "etcd3"),
            ("SANDBOX_ETCD_MEMBERS", "3"),
            ("SANDBOX_TLS", "1"),
            ("SANDBOX_ETCD_AUTH", "1"),
        ],
    ) else {
        return;
    };
    assert!(sb.var("SANDBOX_ETCD_ENDPOINTS").starts_with("https://"));
    for args in READ_COMMANDS {
        sb.assert_same(args);
    }

    // CAS through the library, checked with etcdctl (TLS files and root user from the sandbox env).
    let dcs = settings(&sb.config(), false).dcs().unwrap().clone();
    assert_eq!(dcs.kind, DcsKind::Etcd3);
    let envs: Vec<(String, String)> = [
        "ETCDCTL_CACERT",
        "ETCDCTL_CERT",
        "ETCDCTL_KEY",
        "ETCDCTL_USER",
    ]
    .iter()
    .map(|k| (k.to_string(), sb.var(k).to_string()))
    .collect();
    let eps = sb.var("SANDBOX_ETCD_ENDPOINTS").to_string();
    check_cas(&dcs, &|k| v3_get(&eps, &envs, k), "tlscas");

    tls_negative_cases(&sb);
    https_rest_api(&sb);
    // doctor's checks of the same set-up (it stops etcd member 2 and starts it again).
    crate::doctor::a_stopped_etcd_member_fails_its_endpoint_and_warns_for_the_quorum(&sb);

    // One etcd member stopped under a running `events`: the stream says it reconnected to another
    // member and goes on, losing nothing (the pause made while it moved over arrives).
    let (code, evs) = crate::events::events_during(
        &sb.config(),
        &["--until", "pause", "--wait-timeout", "60"],
        || {
            sb.sh(&["etcd-stop", "1"]);
            sb.patctl(&["pause", "--wait"]).code(0);
        },
    );
    assert_eq!(code, 0, "{evs:#?}");
    let kinds = crate::events::types(&evs);
    let at = |t: &str| kinds.iter().position(|x| *x == t);
    assert!(at("dcs-reconnected").is_some(), "{evs:#?}");
    assert!(at("dcs-reconnected") < at("pause"), "{evs:#?}");
    sb.patctl(&["resume", "--wait"]).code(0);

    // One etcd member stopped: reads still work (fail-over over TLS) and match patronictl.
    for args in [&["list"][..], &["topology"], &["history"]] {
        sb.assert_same(args);
    }
    // A client connected before a member dies moves on, here for a CAS write too.
    sb.sh(&["etcd-start", "1"]);
    write_after_member1_dies(&sb, &dcs, &|k| v3_get(&eps, &envs, k), "v3fail", "leader");
}

/// Wrong CA, wrong password, no client certificate: clear errors, and never a secret in them.
fn tls_negative_cases(sb: &ModeSandbox) {
    let text = sb.config_text();
    let endpoints = sb.var("SANDBOX_ETCD_ENDPOINTS").replace(',', ", ");
    let ca = sb.tls("ca.crt");
    let other_ca = sb.tls("other-ca.crt");

    let wrong_ca = scratch_file(
        "tls-wrong-ca.yml",
        &replaced(
            &text,
            &format!("  protocol: https\n  cacert: {ca}"),
            &format!("  protocol: https\n  cacert: {other_ca}"),
        ),
    );
    // -k relaxes only the REST side: the DCS certificate is still checked.
    for extra in [&[][..], &["-k"]] {
        let mut args = extra.to_vec();
        args.push("list");
        let out = sb.patctl_with(&wrong_ca, &args);
        out.code(3);
        assert_eq!(
            out.stderr.lines().next(),
            Some(format!(
                "Error: DCS unreachable at {endpoints} (TLS certificate error: certificate verify failed: unable to get local issuer certificate)"
            ).as_str()),
            "{extra:?}"
        );
        // The hint says what to check; -o json lists each endpoint's error as a cause.
        assert!(
            out.stderr.contains("\nHint: tried")
                && out
                    .stderr
                    .contains("check the DCS certificate against cacert"),
            "{}",
            out.stderr
        );
    }

    let password = sb.var("SANDBOX_ETCD_PASSWORD").to_string();
    let wrong_pw = scratch_file(
        "tls-wrong-pw.yml",
        &replaced(
            &text,
            &format!("password: {password}"),
            "password: Wr0ng-Pass-XYZ",
        ),
    );
    for args in [&["list"][..], &["list", "-f", "json"], &["topology"]] {
        let out = sb.patctl_with(&wrong_pw, args);
        out.code(1);
        assert_eq!(
            out.stderr,
            "Error: etcd authentication failed for user 'root': etcdserver: authentication failed, invalid user ID or password\n"
        );
        for secret in ["Wr0ng-Pass-XYZ", password.as_str()] {
            assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
        }
    }

    let no_cert = scratch_file(
        "tls-no-cert.yml",
        &replaced(
            &text,
            &format!(
                "  cert: {}\n  key: {}\n",
                sb.tls("client.crt"),
                sb.tls("client.key")
            ),
            "",
        ),
    );
    let out = sb.patctl_with(&no_cert, &["list"]);
    out.code(3);
    assert!(
        out.stderr
            .starts_with("Error: DCS unreachable at https://127.0.0.1:")
            && out
                .stderr
                .contains("etcd may require a client certificate: set cert and key"),
        "{}",
        out.stderr
    );
}

/// The REST client against Patroni's HTTPS API with `verify_client: required`, and `-k`.
fn https_rest_api(sb: &ModeSandbox) {
    use patctl::api::{Api, FailureKind};
    use patctl::model::Member;

    let port = sb.api_port(1);
    let node1 = Member::from_node(
        "node1",
        None,
        None,
        &format!(r#"{{"api_url":"https://127.0.0.1:{port}/patroni"}}"#),
    );
    let text = sb.config_text();
    let get = |config_text: &str, insecure: bool| {
        let cfg = scratch_file("rest.yml", config_text);
        let s = settings(&cfg, insecure);
        block_on(async {
            let api = Api::new(&s.rest).unwrap();
            api.request(
                &node1,
                patctl::http_client::Method::GET,
                "patroni",
                None,
                None,
            )
            .await
        })
    };

    // ctl.cacert + ctl.certfile/keyfile: the member answers.
    let resp = get(&text, false).expect("GET /patroni with the client certificate");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["state"], "running");

    // Without the client certificate the server refuses the TLS connection.
    let no_cert = replaced(
        &text,
        &format!(
            "  certfile: {}\n  keyfile: {}\n",
            sb.tls("client.crt"),
            sb.tls("client.key")
        ),
        "",
    );
    // The restapi certfile/keyfile lines are the server's, never used as a client certificate.
    let err = get(&no_cert, false).expect_err("no client certificate");
    assert!(
        err.message.contains("member node1 at https://127.0.0.1:"),
        "{}",
        err.message
    );

    // A CA that did not sign the server certificate: a certificate error, with or without -k (with a
    // client certificate, -k only skips the host name check, as in patronictl).
    let wrong_ca = replaced(
        &text,
        &format!("ctl:\n  cacert: {}", sb.tls("ca.crt")),
        &format!("ctl:\n  cacert: {}", sb.tls("other-ca.crt")),
    );
    for insecure in [false, true] {
        let err = get(&wrong_ca, insecure).expect_err("wrong CA");
        assert_eq!(err.kind, FailureKind::Connect, "{}", err.message);
        // Patroni's server sends its CA after its certificate (OpenSSL builds the chain from
        // `cafile`), so OpenSSL (and Python) name the untrusted self-signed CA in the chain.
        assert!(
            err.message.contains(
                "certificate verify failed: self-signed certificate in certificate chain"
            ),
            "{}",
            err.message
        );
    }

    // Without a client certificate, -k turns verification off: a self-signed server is accepted.
    let server = SelfSigned::start(&sb.tls("other-ca.crt"), &sb.tls("other-ca.key"));
    let member = Member::from_node(
        "fake",
        None,
        None,
        &format!(r#"{{"api_url":"https://127.0.0.1:{}/"}}"#, server.port),
    );
    let plain = "scope: demo\netcd3:\n  host: 127.0.0.1:1\n";
    let request = |insecure: bool| {
        let cfg = scratch_file("self-signed.yml", plain);
        let s = settings(&cfg, insecure);
        block_on(async {
            Api::new(&s.rest)
                .unwrap()
                .request(&member, patctl::http_client::Method::GET, "", None, None)
                .await
        })
    };
    let err = request(false).expect_err("self-signed certificate without -k");
    assert!(err.message.contains("certificate"), "{}", err.message);
    let resp = request(true).expect("self-signed certificate with -k");
    assert_eq!(resp.status, 200);
}

// ------------------------------------------------------------------ etcd v2 + TLS + auth

#[test]
fn etcd_v2_tls_auth() {
    let Some(sb) = ModeSandbox::up(
        "v2tls",
        &[
            ("SANDBOX_DCS", "etcd"),
            ("SANDBOX_TLS", "1"),
            ("SANDBOX_ETCD_AUTH", "1"),
        ],
    ) else {
        return;
    };
    for args in [&["list"][..], &["list", "-f", "json"], &["topology"]] {
        sb.assert_same(args);
    }
    sb.assert_lists_members(&sb.config());
    let dcs = settings(&sb.config(), false).dcs().unwrap().clone();
    assert_eq!(dcs.kind, DcsKind::Etcd2);
    let password = sb.var("SANDBOX_ETCD_PASSWORD").to_string();
    let curl_tls: Vec<String> = vec![
        "--cacert".into(),
        sb.tls("ca.crt"),
        "--cert".into(),
        sb.tls("client.crt"),
        "--key".into(),
        sb.tls("client.key"),
        "-u".into(),
        format!("root:{password}"),
    ];
    let base = sb.var("SANDBOX_ETCD_URL").to_string();
    check_cas(&dcs, &|k| v2_get(&base, &curl_tls, k), "v2tlscas");

    let wrong_pw = scratch_file(
        "v2-wrong-pw.yml",
        &replaced(
            &sb.config_text(),
            &format!("password: {password}"),
            "password: Wr0ng-Pass-V2",
        ),
    );
    let out = sb.patctl_with(&wrong_pw, &["list"]);
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error: etcd authentication failed for user 'root': wrong user name or password\n"
    );
    assert!(!out.stderr.contains("Wr0ng-Pass-V2") && !out.stderr.contains(&password));

    let wrong_ca = scratch_file(
        "v2-wrong-ca.yml",
        &replaced(
            &sb.config_text(),
            &format!("  protocol: https\n  cacert: {}", sb.tls("ca.crt")),
            &format!("  protocol: https\n  cacert: {}", sb.tls("other-ca.crt")),
        ),
    );
    let out = sb.patctl_with(&wrong_ca, &["-k", "list"]);
    out.code(3);
    assert_eq!(
        out.stderr.lines().next(),
        Some(format!(
            "Error: DCS unreachable at {base} (TLS certificate error: certificate verify failed: unable to get local issuer certificate)"
        ).as_str())
    );
    assert!(
        out.stderr
            .contains("check the DCS certificate against cacert"),
        "{}",
        out.stderr
    );
}
