//! The certificate a TLS server presents, read without trusting it, for `doctor`: a handshake that
//! verifies nothing (so an expired or wrong-host certificate is still read), then the facts patctl
//! judges itself — days until it expires and whether it names the host it was reached at.
//!
//! The host name rules are those OpenSSL applies for Python's `ssl` (`check_hostname`): an IP address
//! must be one of the `subjectAltName` IP addresses; a name must match a `subjectAltName` DNS name
//! (a `*` wildcard only as the whole left-most label, matching one label), or the subject's common
//! name when the certificate has no DNS names at all.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use openssl::asn1::Asn1Time;
use openssl::nid::Nid;
use openssl::ssl::{Ssl, SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::{X509Ref, X509};

/// What a server's certificate says, as judged for one host at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The subject, one line (`CN=batman.patroni`).
    pub subject: String,
    /// When it stops being valid.
    pub not_after: DateTime<Utc>,
    /// Whole days from now until `not_after` (negative once expired).
    pub days_left: i64,
    /// Whether `not_before` is still in the future.
    pub not_yet_valid: bool,
    /// Whether the certificate names the host it was reached at.
    pub host_matches: bool,
    /// The names it holds (`subjectAltName` DNS names and IP addresses, else the common name).
    pub names: Vec<String>,
}

/// Connect to `host:port` within `budget` and return the server's certificate, trusting nothing.
pub async fn fetch(host: &str, port: u16, budget: Duration) -> Result<X509, String> {
    let attempt = async {
        let tcp = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| crate::dcs::root_cause(&e))?;
        let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
        b.set_verify(SslVerifyMode::NONE);
        let ctx = b.build().into_context();
        let mut ssl = Ssl::new(&ctx).map_err(|e| e.to_string())?;
        if host.parse::<IpAddr>().is_err() {
            ssl.set_hostname(host).map_err(|e| e.to_string())?;
        }
        let mut stream = tokio_openssl::SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
        let done = std::pin::Pin::new(&mut stream).connect().await;
        // A server that wants a client certificate may end the handshake, but its own certificate
        // came first.
        match (stream.ssl().peer_certificate(), done) {
            (Some(cert), _) => Ok(cert),
            (None, Err(e)) => Err(format!(
                "TLS handshake failed: {}",
                one_line(&e.to_string())
            )),
            (None, Ok(())) => Err("the server sent no certificate".to_string()),
        }
    };
    match tokio::time::timeout(budget, attempt).await {
        Ok(r) => r,
        Err(_) => Err(format!("no TLS answer within {:.1}s", budget.as_secs_f64())),
    }
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

/// The facts of `cert` for `host` at `now`.
pub fn facts(cert: &X509Ref, host: &str, now: DateTime<Utc>) -> CertFacts {
    let at_now = Asn1Time::from_unix(now.timestamp()).ok();
    let until = |t: &openssl::asn1::Asn1TimeRef| {
        at_now
            .as_ref()
            .and_then(|n| n.diff(t).ok())
            .map(|d| i64::from(d.days) * 86_400 + i64::from(d.secs))
    };
    let secs_left = until(cert.not_after()).unwrap_or(0);
    let not_yet_valid = until(cert.not_before()).is_some_and(|s| s > 0);
    let names = names_of(cert);
    CertFacts {
        subject: subject_line(cert),
        not_after: now + chrono::Duration::seconds(secs_left),
        days_left: secs_left.div_euclid(86_400),
        not_yet_valid,
        host_matches: host_matches(cert, host),
        names,
    }
}

fn subject_line(cert: &X509Ref) -> String {
    crate::tls_refusal::name_text(cert.subject_name())
}

fn common_names(cert: &X509Ref) -> Vec<String> {
    cert.subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .map(|e| String::from_utf8_lossy(e.data().as_slice()).into_owned())
        .collect()
}

fn names_of(cert: &X509Ref) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(sans) = cert.subject_alt_names() {
        for san in sans.iter() {
            if let Some(d) = san.dnsname() {
                out.push(d.to_string());
            } else if let Some(ip) = san.ipaddress() {
                if let Some(ip) = ip_of(ip) {
                    out.push(ip.to_string());
                }
            }
        }
    }
    if out.is_empty() {
        out = common_names(cert);
    }
    out
}

fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

/// Whether `cert` names `host` (see the module documentation for the rules).
pub fn host_matches(cert: &X509Ref, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let stack = cert.subject_alt_names();
    let sans: Vec<_> = stack.iter().flat_map(|s| s.iter()).collect();
    if let Ok(ip) = host.parse::<IpAddr>() {
        return sans
            .iter()
            .filter_map(|s| s.ipaddress().and_then(ip_of))
            .any(|a| a == ip);
    }
    let dns: Vec<&str> = sans.iter().filter_map(|s| s.dnsname()).collect();
    if dns.is_empty() {
        return common_names(cert).iter().any(|cn| name_matches(cn, host));
    }
    dns.iter().any(|d| name_matches(d, host))
}

fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(rest) => match host.split_once('.') {
            Some((first, tail)) => !first.is_empty() && tail == rest && rest.contains('.'),
            None => false,
        },
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::{X509Builder, X509NameBuilder};

    fn cert(cn: &str, sans: &[&str], days: u32) -> X509 {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", cn).unwrap();
        let name = name.build();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(days).unwrap())
            .unwrap();
        if !sans.is_empty() {
            let mut san = SubjectAlternativeName::new();
            for s in sans {
                match s.parse::<IpAddr>() {
                    Ok(_) => san.ip(s),
                    Err(_) => san.dns(s),
                };
            }
            let ext = san.build(&b.x509v3_context(None, None)).unwrap();
            b.append_extension(ext).unwrap();
        }
        b.sign(&key, MessageDigest::sha256()).unwrap();
        b.build()
    }

    #[test]
    fn days_left_and_expiry() {
        let c = cert("db1", &["127.0.0.1", "db1.example.com"], 3);
        let f = facts(&c, "127.0.0.1", Utc::now() + chrono::Duration::hours(1));
        assert_eq!(f.days_left, 2, "{f:?}");
        assert!(f.host_matches);
        assert!(!f.not_yet_valid);
        assert_eq!(f.subject, "CN=db1");
        assert_eq!(f.names, ["127.0.0.1", "db1.example.com"]);
        let later = facts(&c, "127.0.0.1", Utc::now() + chrono::Duration::days(4));
        assert!(later.days_left < 0);
    }

    #[test]
    fn host_names_as_openssl_checks_them() {
        let c = cert("ignored", &["*.example.com", "10.0.0.1"], 30);
        assert!(host_matches(&c, "db1.example.com"));
        assert!(!host_matches(&c, "a.b.example.com"));
        assert!(!host_matches(&c, "example.com"));
        assert!(host_matches(&c, "10.0.0.1"));
        assert!(!host_matches(&c, "10.0.0.2"));
        assert!(!host_matches(&c, "ignored"));
        let cn_only = cert("db1.example.com", &[], 30);
        assert!(host_matches(&cn_only, "DB1.example.com"));
        assert!(!host_matches(&cn_only, "127.0.0.1"));
    }
}
