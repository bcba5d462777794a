//! The hints of TLS refusals (patctl's addition, on stderr and in `-o json`): which certificate, for
//! which name, and why — an unknown CA, a name it does not hold, an expiry, a client certificate the
//! REST API requires (`verify_client: required`). Run inside the `selfsigned-neg` mode sandbox of
//! [`super::refusals`]; every request here is refused, so nothing is changed.

use super::*;

/// The `Hint: …` line of a refused `pause` (exit 3, nothing sent). A few tries: TLS 1.3 sends the
/// "certificate required" alert after the client's side of the handshake is done, and the client
/// may see the connection end before the alert ("shutdown while in init"), which names no cause.
fn pause_hint(t: &Tls, scope: &str, set: &[(&str, &str)], unset: &[&str]) -> String {
    let mut out = t.patctl_with(&["pause", scope], set, unset);
    for _ in 0..4 {
        if out.stderr.contains("\nHint: ") || !out.stderr.contains("shutdown while in init") {
            break;
        }
        out = t.patctl_with(&["pause", scope], set, unset);
    }
    out.code(3);
    let hint = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Hint: "))
        .unwrap_or_else(|| panic!("no hint in:\n{}", out.stderr));
    assert_eq!(
        last_line(&out.stderr),
        format!("Hint: {hint}"),
        "one error line, then the hint"
    );
    hint.to_string()
}

pub(super) fn certificate_hints(t: &Tls, expired: &SelfSigned) {
    // An unknown CA: the members' certificate names itself as issuer, and the CA setting to change.
    let other = t.tls("other.crt");
    let set = [("PATRONI_RESTAPI_CAFILE", other.as_str())];
    let hint = pause_hint(t, "demo", &set, &[]);
    assert!(
        hint.starts_with("the certificate CN=batman.patroni of 127.0.0.1, issued by CN=batman.patroni does not lead to a CA that is trusted: set ctl.cacert (or restapi.cafile)"),
        "{hint}"
    );
    // -o json: the envelope's causes give the chain down to the certificate.
    let out = t.patctl_with(&["-o", "json", "pause", "demo"], &set, &[]);
    out.code(3);
    let env: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let causes: Vec<&str> = env["error"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(
        causes.contains(&"certificate verify failed: self-signed certificate")
            && causes.iter().any(|c| c.starts_with(
                "TLS with 127.0.0.1: certificate CN=batman.patroni (names 127.0.0.1)"
            )),
        "{causes:?}"
    );
    assert_eq!(env["error"]["hint"].as_str(), Some(hint.as_str()));

    // A name the certificate does not hold (s_server with the members' certificate, at localhost).
    let good = SelfSigned::start(&t.tls("server.crt"), &t.tls("server.key"));
    t.fake_cluster(
        "tlsz",
        &format!("https://localhost:{}/patroni", good.port),
        &format!("postgres://127.0.0.1:{}/postgres", t.pg_port(1)),
    );
    let unset = ["PATRONI_CTL_INSECURE"];
    let hint = pause_hint(t, "tlsz", &[], &unset);
    assert!(
        hint.starts_with(
            "the certificate CN=batman.patroni of localhost is for 127.0.0.1, not localhost"
        ),
        "{hint}"
    );

    // An expired certificate: when it expired.
    t.fake_cluster(
        "tlsy",
        &format!("https://127.0.0.1:{}/patroni", expired.port),
        &format!("postgres://127.0.0.1:{}/postgres", t.pg_port(1)),
    );
    let ca = t.tls("expired.crt");
    let hint = pause_hint(t, "tlsy", &[("PATRONI_RESTAPI_CAFILE", &ca)], &[]);
    assert_eq!(
        hint,
        "the certificate CN=expired.patroni of 127.0.0.1 expired on Jan  2 00:00:00 2020 GMT: renew it"
    );

    // The REST API requires a client certificate (verify_client: required) and none is configured.
    let no_cert = [
        "PATRONI_CTL_CERTFILE",
        "PATRONI_CTL_KEYFILE",
        "PATRONI_CTL_INSECURE",
    ];
    let hint = pause_hint(t, "demo", &[], &no_cert);
    assert_eq!(
        hint,
        "127.0.0.1 requires a client certificate and none was sent: set ctl.certfile and ctl.keyfile"
    );
}
