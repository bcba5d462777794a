//! A rustls server certificate verifier that checks the chain with OpenSSL, so the REST client and
//! etcd v2 (reqwest over rustls) accept exactly the certificates patronictl accepts (urllib3 on
//! Python's `ssl`, i.e. OpenSSL): a self-signed `CA:TRUE` certificate listed in the CA file is trusted
//! as a server certificate (webpki refuses it, `CaUsedAsEndEntity`), and a refusal reads as OpenSSL's
//! verify result (`certificate has expired`, `hostname mismatch`, …).
//!
//! The OpenSSL store is made on the first verification, once: from the CA file when one is given, else
//! from the system's default paths (with OpenSSL 3 loading those costs some 25 ms, five times a whole
//! `list`), so a client that only speaks plain http never reads a trust store. The handshake signatures
//! are checked by rustls's crypto provider, as any rustls verifier does.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use foreign_types_shared::ForeignTypeRef;
use openssl::ssl::{SslContext, SslMethod};
use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::{X509CheckFlags, X509VerifyParamRef};
use openssl::x509::{X509PurposeId, X509StoreContext, X509StoreContextRef, X509VerifyResult, X509};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use crate::tls;

extern "C" {
    // In libcrypto since OpenSSL 1.1.0; openssl-sys does not declare it.
    fn X509_STORE_CTX_get0_param(
        ctx: *mut openssl_sys::X509_STORE_CTX,
    ) -> *mut openssl_sys::X509_VERIFY_PARAM;
}

/// How the server certificate is checked (patronictl's request.py).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Chain and host name (`CERT_REQUIRED` with `check_hostname`).
    Full,
    /// Chain only (`assert_hostname = False`: `-k` with a client certificate).
    ChainOnly,
    /// Nothing (`CERT_NONE`: `-k` without a client certificate).
    None,
}

/// A refused certificate: the text is `certificate verify failed: <OpenSSL's verify result>`, as Python's
/// `ssl` words it (or why the check could not run).
#[derive(Debug)]
pub struct VerifyFailure(pub String);

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VerifyFailure {}

fn refuse(why: String) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
        VerifyFailure(why),
    ))))
}

/// The trust anchors and the security level of an OpenSSL client context.
struct Trust {
    store: X509Store,
    auth_level: i32,
}

/// The verifier.
pub struct OpensslVerifier {
    ca: Option<Vec<X509>>,
    verify: Verify,
    trust: OnceLock<std::result::Result<Trust, String>>,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for OpensslVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpensslVerifier")
            .field("ca", &self.ca.as_ref().map(Vec::len))
            .field("verify", &self.verify)
            .finish()
    }
}

impl OpensslVerifier {
    /// Verify against `ca` (replacing the system trust store when given), as `verify` says.
    pub fn new(ca: Option<Vec<X509>>, verify: Verify, provider: Arc<CryptoProvider>) -> Self {
        OpensslVerifier {
            ca,
            verify,
            trust: OnceLock::new(),
            provider,
        }
    }

    fn trust(&self) -> std::result::Result<&Trust, rustls::Error> {
        self.trust
            .get_or_init(|| {
                make_trust(self.ca.as_deref())
                    .map_err(|e| format!("cannot set up TLS: {}", tls::reason_of_stack(&e)))
            })
            .as_ref()
            .map_err(|why| rustls::Error::General(why.clone()))
    }
}

/// The store (purpose `sslserver`, as OpenSSL sets it for a client's handshake) and the security level
/// a fresh OpenSSL client context has (from the system's OpenSSL configuration), which bounds the key
/// sizes and digests accepted in the chain.
fn make_trust(ca: Option<&[X509]>) -> std::result::Result<Trust, openssl::error::ErrorStack> {
    let mut b = X509StoreBuilder::new()?;
    match ca {
        Some(certs) => {
            for c in certs {
                b.add_cert(c.clone())?;
            }
        }
        None => b.set_default_paths()?,
    }
    b.set_purpose(X509PurposeId::SSL_SERVER)?;
    let auth_level = SslContext::builder(SslMethod::tls_client())?
        .build()
        .security_level();
    Ok(Trust {
        store: b.build(),
        auth_level: i32::try_from(auth_level).unwrap_or(1),
    })
}

/// The verify parameters of a store context being set up.
fn param_of(ctx: &mut X509StoreContextRef) -> &mut X509VerifyParamRef {
    // SAFETY: the context is initialised (inside `X509StoreContext::init`), so it owns a parameter
    // object that lives as long as the context; the borrow is tied to `ctx`.
    unsafe { X509VerifyParamRef::from_ptr_mut(X509_STORE_CTX_get0_param(ctx.as_ptr())) }
}

/// Verify `leaf` with `chain` (the server's other certificates, untrusted) against the store, and the
/// host name or IP address when given, as OpenSSL's handshake does for Python's `ssl`.
fn openssl_verify(
    trust: &Trust,
    leaf: &X509,
    chain: &Stack<X509>,
    host: Option<&ServerName<'_>>,
) -> std::result::Result<X509VerifyResult, openssl::error::ErrorStack> {
    let mut ctx = X509StoreContext::new()?;
    ctx.init(&trust.store, leaf, chain, |c| {
        let param = param_of(c);
        param.set_auth_level(trust.auth_level);
        match host {
            Some(ServerName::DnsName(name)) => {
                param.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
                param.set_host(name.as_ref())?;
            }
            Some(ServerName::IpAddress(ip)) => param.set_ip(IpAddr::from(*ip))?,
            _ => {}
        }
        c.verify_cert()?;
        Ok(c.error())
    })
}

impl ServerCertVerifier for OpensslVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if self.verify == Verify::None {
            return Ok(ServerCertVerified::assertion());
        }
        let trust = self.trust()?;
        let bad = |e: openssl::error::ErrorStack| {
            refuse(format!(
                "certificate verify failed: {}",
                tls::reason_of_stack(&e)
            ))
        };
        let leaf = X509::from_der(end_entity).map_err(bad)?;
        let mut chain = Stack::new().map_err(bad)?;
        for c in intermediates {
            chain.push(X509::from_der(c).map_err(bad)?).map_err(bad)?;
        }
        let host = (self.verify == Verify::Full).then_some(server_name);
        match openssl_verify(trust, &leaf, &chain, host).map_err(bad)? {
            r if r == X509VerifyResult::OK => Ok(ServerCertVerified::assertion()),
            r => Err(refuse(format!(
                "certificate verify failed: {}",
                r.error_string()
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
    use openssl::x509::X509NameBuilder;

    /// A self-signed `CA:TRUE` certificate for 127.0.0.1 and `node1`, valid from `from` days ago for
    /// `days` days.
    fn self_signed(from: u32, days: u32) -> X509 {
        let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "node1").unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let start = now - i64::from(from) * 86400;
        b.set_not_before(&Asn1Time::from_unix(start).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::from_unix(start + i64::from(days) * 86400).unwrap())
            .unwrap();
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        let san = SubjectAlternativeName::new()
            .dns("node1")
            .ip("127.0.0.1")
            .build(&b.x509v3_context(None, None))
            .unwrap();
        b.append_extension(san).unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        b.build()
    }

    fn check(ca: &X509, server: &X509, verify: Verify, host: &str) -> Result<(), String> {
        let v = OpensslVerifier::new(
            Some(vec![ca.clone()]),
            verify,
            Arc::new(rustls::crypto::ring::default_provider()),
        );
        let der = CertificateDer::from(server.to_der().unwrap());
        let name = ServerName::try_from(host.to_string()).unwrap();
        v.verify_server_cert(&der, &[], &name, &[], UnixTime::now())
            .map(|_| ())
            .map_err(|e| match e {
                rustls::Error::InvalidCertificate(CertificateError::Other(o)) => o.to_string(),
                e => e.to_string(),
            })
    }

    #[test]
    fn openssl_rules_and_reasons() {
        let good = self_signed(1, 30);
        let other = self_signed(1, 30);
        let expired = self_signed(30, 10);
        // A CA:TRUE certificate as its own CA and server certificate: accepted (webpki refuses it).
        assert_eq!(check(&good, &good, Verify::Full, "127.0.0.1"), Ok(()));
        assert_eq!(check(&good, &good, Verify::Full, "NODE1"), Ok(()));
        assert_eq!(
            check(&good, &good, Verify::Full, "localhost").unwrap_err(),
            "certificate verify failed: hostname mismatch"
        );
        assert_eq!(
            check(&good, &good, Verify::Full, "127.0.0.2").unwrap_err(),
            "certificate verify failed: IP address mismatch"
        );
        assert_eq!(check(&good, &good, Verify::ChainOnly, "localhost"), Ok(()));
        assert_eq!(
            check(&other, &good, Verify::ChainOnly, "127.0.0.1").unwrap_err(),
            "certificate verify failed: self-signed certificate"
        );
        assert_eq!(
            check(&expired, &expired, Verify::ChainOnly, "127.0.0.1").unwrap_err(),
            "certificate verify failed: certificate has expired"
        );
        assert_eq!(check(&other, &expired, Verify::None, "localhost"), Ok(()));
    }
}
