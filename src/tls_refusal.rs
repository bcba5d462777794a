//! Why a TLS handshake was refused, with the certificate at fault: patctl's addition to the one-line
//! reason Python's `ssl` gives patronictl (`certificate verify failed: certificate has expired`).
//!
//! The handshake ([`crate::tls_stream::handshake_checked`]) records the first certificate OpenSSL
//! refused (its subject, issuer, names and validity) and classifies the failure, so that the error can
//! name the certificate and the host name checked, and the hint can say what to change: renew an
//! expired certificate, point the CA setting at the right CA, use a name the certificate holds, or
//! configure a client certificate.

use std::fmt;

use openssl::x509::{X509NameRef, X509Ref, X509VerifyResult};

/// What kind of refusal, as far as the remedy differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The server certificate (or one in its chain) has expired.
    Expired,
    /// The server certificate is not valid yet (clocks?).
    NotYetValid,
    /// The chain does not lead to a trusted CA (unknown CA, self-signed not in the CA file).
    UnknownCa,
    /// The certificate does not hold the host name or IP address connected to.
    NameMismatch,
    /// The server asked for a client certificate and none was sent.
    ClientCertRequired,
    /// The server refused the client certificate that was sent.
    ClientCertRefused,
    /// Anything else (protocol versions, ciphers, a broken connection during the handshake).
    Other,
}

/// The certificate OpenSSL refused, as a person would look it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject, e.g. `CN=node1, O=demo`.
    pub subject: String,
    /// The issuer, in the same form.
    pub issuer: String,
    /// The subject alternative names (DNS names and IP addresses).
    pub names: Vec<String>,
    /// `notBefore` as OpenSSL prints it.
    pub not_before: String,
    /// `notAfter` as OpenSSL prints it.
    pub not_after: String,
    /// 0 for the server's own certificate, 1 for its issuer, …
    pub depth: u32,
}

impl CertInfo {
    /// The details of `cert`, found at `depth` of the chain.
    pub fn of(cert: &X509Ref, depth: u32) -> CertInfo {
        let names = cert
            .subject_alt_names()
            .map(|sans| {
                sans.iter()
                    .filter_map(|n| {
                        n.dnsname().map(str::to_string).or_else(|| {
                            n.ipaddress()
                                .and_then(|b| match b.len() {
                                    4 => Some(std::net::IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
                                    16 => {
                                        Some(std::net::IpAddr::from(<[u8; 16]>::try_from(b).ok()?))
                                    }
                                    _ => None,
                                })
                                .map(|ip| ip.to_string())
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        CertInfo {
            subject: name_text(cert.subject_name()),
            issuer: name_text(cert.issuer_name()),
            names,
            not_before: cert.not_before().to_string(),
            not_after: cert.not_after().to_string(),
            depth,
        }
    }
}

/// A certificate name as `CN=…, O=…` (short attribute names, in the certificate's order).
pub(crate) fn name_text(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = String::from_utf8_lossy(e.data().as_slice());
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A refused handshake: the one-line reason (Python's wording), the host name checked, the
/// certificate refused when OpenSSL named one, and the kind of refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRefusal {
    /// The host name or IP address connected to (and checked against the certificate).
    pub host: String,
    /// `certificate verify failed: certificate has expired`, `tlsv13 alert certificate required`, …
    pub reason: String,
    /// The kind of refusal.
    pub kind: RefusalKind,
    /// The certificate refused, when the refusal is about one of the server's.
    pub cert: Option<CertInfo>,
}

impl TlsRefusal {
    /// A refusal from OpenSSL's verify result (`verify`, with the certificate it names) or, when the
    /// chain was not at fault, from the handshake's one-line `reason`.
    pub fn new(
        host: &str,
        verify: X509VerifyResult,
        cert: Option<CertInfo>,
        reason: String,
    ) -> TlsRefusal {
        let kind = if verify != X509VerifyResult::OK {
            kind_of_verify(verify.as_raw())
        } else {
            kind_of_alert(&reason)
        };
        TlsRefusal {
            host: host.to_string(),
            reason,
            kind,
            cert: cert.filter(|_| verify != X509VerifyResult::OK),
        }
    }

    /// What to change, naming the settings that hold the CA file and the client certificate of this
    /// client (`ctl.cacert`, `ctl.certfile`/`ctl.keyfile`; `etcd3.cacert`, …).
    pub fn hint(&self, ca_setting: &str, client_setting: &str) -> String {
        let host = &self.host;
        let cert = self.cert.as_ref();
        let which = match cert {
            Some(c) if c.depth > 0 => {
                format!("the CA certificate {} in the chain of {host}", c.subject)
            }
            Some(c) => format!("the certificate {} of {host}", c.subject),
            None => format!("the certificate of {host}"),
        };
        match self.kind {
            RefusalKind::Expired => match cert {
                Some(c) => format!("{which} expired on {}: renew it", c.not_after),
                None => format!("{which} has expired: renew it"),
            },
            RefusalKind::NotYetValid => match cert {
                Some(c) => format!(
                    "{which} is valid from {} only: check the clocks of both machines",
                    c.not_before
                ),
                None => format!("{which} is not valid yet: check the clocks of both machines"),
            },
            RefusalKind::UnknownCa => {
                let issuer = cert.map_or(String::new(), |c| format!(", issued by {}", c.issuer));
                format!(
                    "{which}{issuer} does not lead to a CA that is trusted: set {ca_setting} to the file of the CA that signed it (without it the system trust store is used)"
                )
            }
            RefusalKind::NameMismatch => match cert.filter(|c| !c.names.is_empty()) {
                Some(c) => format!(
                    "{which} is for {}, not {host}: connect with one of those names (the member's api_url or the DCS host), or reissue the certificate with {host} in its subject alternative names",
                    c.names.join(", ")
                ),
                None => format!(
                    "{which} does not name {host}: connect with a name it holds, or reissue it with {host} in its subject alternative names"
                ),
            },
            RefusalKind::ClientCertRequired => format!(
                "{host} requires a client certificate and none was sent: set {client_setting}"
            ),
            RefusalKind::ClientCertRefused => format!(
                "{host} refused the client certificate sent ({client_setting}): check that it is signed by a CA the server trusts and has not expired"
            ),
            RefusalKind::Other => format!(
                "the TLS handshake with {host} failed: check that it speaks TLS on this port and the TLS settings ({ca_setting}, {client_setting})"
            ),
        }
    }
}

/// The kind of a verification failure (OpenSSL's `X509_V_ERR_*` codes).
fn kind_of_verify(code: i32) -> RefusalKind {
    match code {
        10 | 12 => RefusalKind::Expired, // CERT_HAS_EXPIRED, CRL_HAS_EXPIRED
        9 | 11 => RefusalKind::NotYetValid, // CERT_NOT_YET_VALID, CRL_NOT_YET_VALID
        62..=64 => RefusalKind::NameMismatch, // HOSTNAME, EMAIL, IP_ADDRESS mismatch
        2 | 18 | 19 | 20 | 21 | 27 | 28 => RefusalKind::UnknownCa,
        _ => RefusalKind::Other,
    }
}

/// The kind of a handshake failure that is not the server's chain: the alert the server sent.
fn kind_of_alert(reason: &str) -> RefusalKind {
    if reason.contains("certificate required") {
        RefusalKind::ClientCertRequired
    } else if reason.contains("alert bad certificate")
        || reason.contains("alert unknown ca")
        || reason.contains("alert certificate expired")
        || reason.contains("alert certificate unknown")
    {
        RefusalKind::ClientCertRefused
    } else {
        RefusalKind::Other
    }
}

impl fmt::Display for TlsRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cert {
            Some(c) => {
                write!(f, "TLS with {}: certificate {}", self.host, c.subject)?;
                if !c.names.is_empty() {
                    write!(f, " (names {})", c.names.join(", "))?;
                }
                write!(
                    f,
                    ", issued by {}, valid {} to {}, at depth {}: {}",
                    c.issuer, c.not_before, c.not_after, c.depth, self.reason
                )
            }
            None => write!(f, "TLS with {}: {}", self.host, self.reason),
        }
    }
}

impl std::error::Error for TlsRefusal {}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(kind: RefusalKind, depth: u32) -> TlsRefusal {
        TlsRefusal {
            host: "127.0.0.2".into(),
            reason: "certificate verify failed: x".into(),
            kind,
            cert: Some(CertInfo {
                subject: "CN=node1".into(),
                issuer: "CN=demo-ca".into(),
                names: vec!["node1".into(), "127.0.0.1".into()],
                not_before: "Jan  1 00:00:00 2026 GMT".into(),
                not_after: "Feb  1 00:00:00 2026 GMT".into(),
                depth,
            }),
        }
    }

    #[test]
    fn hints_name_the_certificate_and_the_remedy() {
        let h = refusal(RefusalKind::Expired, 0).hint("ctl.cacert", "ctl.certfile");
        assert_eq!(
            h,
            "the certificate CN=node1 of 127.0.0.2 expired on Feb  1 00:00:00 2026 GMT: renew it"
        );
        let h = refusal(RefusalKind::NameMismatch, 0).hint("ctl.cacert", "ctl.certfile");
        assert!(h.contains("is for node1, 127.0.0.1, not 127.0.0.2"), "{h}");
        let h = refusal(RefusalKind::UnknownCa, 1).hint("ctl.cacert", "ctl.certfile");
        assert!(
            h.starts_with(
                "the CA certificate CN=node1 in the chain of 127.0.0.2, issued by CN=demo-ca"
            ) && h.contains("set ctl.cacert"),
            "{h}"
        );
        let r = TlsRefusal::new(
            "h",
            X509VerifyResult::OK,
            None,
            "tlsv13 alert certificate required".into(),
        );
        assert_eq!(r.kind, RefusalKind::ClientCertRequired);
        assert!(r
            .hint("ctl.cacert", "ctl.certfile and ctl.keyfile")
            .ends_with("set ctl.certfile and ctl.keyfile"));
        assert_eq!(
            r.to_string(),
            "TLS with h: tlsv13 alert certificate required"
        );
    }

    #[test]
    fn verify_codes_classify() {
        assert_eq!(kind_of_verify(10), RefusalKind::Expired);
        assert_eq!(kind_of_verify(62), RefusalKind::NameMismatch);
        assert_eq!(kind_of_verify(64), RefusalKind::NameMismatch);
        assert_eq!(kind_of_verify(18), RefusalKind::UnknownCa);
        assert_eq!(kind_of_verify(20), RefusalKind::UnknownCa);
        assert_eq!(
            kind_of_alert("sslv3 alert bad certificate"),
            RefusalKind::ClientCertRefused
        );
    }
}
