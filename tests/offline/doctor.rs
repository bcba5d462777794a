//! `doctor` against TLS servers (`openssl s_server`) whose certificates expire in a few days or name
//! another host: the DCS endpoints' certificate and hostname checks, no cluster needed.

use crate::doctor_findings::{finding, findings};
use crate::harness::*;
use crate::tls_server::{certificate, SelfSigned};

#[test]
fn expiring_and_wrong_host_certificates_of_a_dcs_endpoint() {
    if !needs("openssl", installed("openssl")) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("patctl-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (soon_crt, soon_key) = certificate(&dir, "soon", "IP:127.0.0.1", "3");
    let (other_crt, other_key) = certificate(&dir, "other", "DNS:db.example.com", "400");
    // The CA file trusts neither server, so the DCS client's handshakes fail at once:
    // `openssl s_server` serves one connection at a time, and one left open would make the
    // certificate probe wait.
    let (unrelated_crt, _) = certificate(&dir, "unrelated", "DNS:unrelated.example.com", "30");
    let soon = SelfSigned::start(&soon_crt, &soon_key);
    let other = SelfSigned::start(&other_crt, &other_key);
    let config = dir.join("patroni.yml");
    std::fs::write(
        &config,
        format!(
            "scope: demo\netcd3:\n  hosts: 127.0.0.1:{},127.0.0.1:{}\n  protocol: https\n  cacert: {unrelated_crt}\n",
            soon.port, other.port
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let out = patctl_raw(
        &[
            "-c",
            &config,
            "--request-timeout",
            "2",
            "doctor",
            "-o",
            "json",
        ],
        None,
        &[],
    );
    std::fs::remove_dir_all(&dir).ok();
    out.code(1);
    let all = findings(&out);
    let soon_ep = format!("https://127.0.0.1:{}", soon.port);
    let other_ep = format!("https://127.0.0.1:{}", other.port);
    // Not trusted: unreachable as a DCS, but its certificate is read all the same.
    let refused = finding(&all, &soon_ep, "reachable");
    assert_eq!(refused.0, "FAIL");
    assert!(
        refused.4.contains("certificate verify failed"),
        "{refused:?}"
    );
    let cert = finding(&all, &soon_ep, "certificate");
    assert_eq!(cert.0, "WARN", "{cert:?}");
    assert!(
        cert.4.contains("(2 days left; CN=soon)") || cert.4.contains("(3 days left; CN=soon)"),
        "{cert:?}"
    );
    assert_eq!(finding(&all, &soon_ep, "hostname").0, "PASS");
    let cert = finding(&all, &other_ep, "certificate");
    assert_eq!(cert.0, "PASS", "{cert:?}");
    let host = finding(&all, &other_ep, "hostname");
    assert_eq!(
        (host.0.as_str(), host.4.as_str()),
        (
            "FAIL",
            "the certificate does not name this host (it names: db.example.com)"
        )
    );
    // The cluster cannot be read: one FAIL for it, and no member is asked.
    assert_eq!(finding(&all, "demo", "cluster").0, "FAIL");
    assert!(all.iter().all(|f| f.1 != "rest"), "{all:#?}");
}
