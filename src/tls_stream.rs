//! The one TLS client of patctl: an OpenSSL context and handshake shared by the Patroni REST API, etcd
//! v2 (HTTP/1.1 over [`crate::http_client`]) and etcd v3 (gRPC over [`crate::dcs::channel`]).
//!
//! It mirrors what patronictl's urllib3 does on Python's `ssl` (OpenSSL): the server certificate is
//! verified against the CA file alone when one is given (it replaces the system trust store, and a
//! self-signed certificate listed in it is trusted whether or not it says `CA:TRUE`), else against the
//! system's; the host name or IP address is checked unless told not to (`-k` with a client certificate),
//! without partial wildcards as `ssl.create_default_context` sets; `-k` without a client certificate
//! turns verification off (`CERT_NONE`). A refusal reads as Python words it: `certificate verify
//! failed: <OpenSSL's verify result>`.
//!
//! A context is built only when an `https://` URL is first used: with no CA file it loads the system
//! trust store, which with OpenSSL 3 costs some 25 ms (five times a whole `list`).

use std::path::Path;
use std::sync::{Arc, Mutex};

use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslMethod, SslVerifyMode};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509CheckFlags;
use openssl::x509::{X509VerifyResult, X509};

use crate::error::Result;
use crate::tls::{self, ClientCert};
use crate::tls_refusal::{CertInfo, TlsRefusal};

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

/// The TLS settings of a client.
pub struct TlsSettings {
    /// CA certificates replacing the system trust store, when given.
    pub ca: Option<Vec<X509>>,
    /// The client certificate.
    pub client: Option<ClientCert>,
    /// What is verified.
    pub verify: Verify,
}

impl TlsSettings {
    /// Read the CA file (`what` names it in messages).
    pub fn with_ca(mut self, path: Option<&Path>, what: &str) -> Result<TlsSettings> {
        if let Some(p) = path {
            self.ca = Some(tls::load_ca(p, what)?);
        }
        Ok(self)
    }
}

/// A client with no TLS material (verification against the system trust store).
impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            ca: None,
            client: None,
            verify: Verify::Full,
        }
    }
}

/// The OpenSSL client context for these settings, offering the `alpn` protocols (wire format) when
/// given. Reads the system trust store when no CA is given and the certificate is verified.
pub fn build_context(
    s: &TlsSettings,
    alpn: Option<&[u8]>,
) -> std::result::Result<SslContext, openssl::error::ErrorStack> {
    let mut b = SslContextBuilder::new(SslMethod::tls_client())?;
    if let Some(p) = alpn {
        b.set_alpn_protos(p)?;
    }
    if s.verify == Verify::None {
        b.set_verify(SslVerifyMode::NONE);
    } else {
        b.set_verify(SslVerifyMode::PEER);
        match &s.ca {
            Some(certs) => {
                let mut store = X509StoreBuilder::new()?;
                for c in certs {
                    store.add_cert(c.clone())?;
                }
                b.set_cert_store(store.build());
            }
            None => b.set_default_verify_paths()?,
        }
    }
    if let Some(cc) = &s.client {
        b.set_certificate(&cc.chain[0])?;
        for extra in cc.chain.iter().skip(1) {
            b.add_extra_chain_cert(extra.clone())?;
        }
        b.set_private_key(&cc.key)?;
    }
    Ok(b.build())
}

/// The TLS handshake for `host` over `tcp` (SNI for names; with `Verify::Full` the certificate is
/// checked against the name or IP address, as Python's `ssl` with `check_hostname`); the error is
/// OpenSSL's reason on one line (see [`handshake_checked`] for the certificate at fault).
pub async fn handshake(
    ctx: &SslContext,
    host: &str,
    verify: Verify,
    tcp: tokio::net::TcpStream,
) -> std::result::Result<tokio_openssl::SslStream<tokio::net::TcpStream>, String> {
    handshake_checked(ctx, host, verify, tcp)
        .await
        .map_err(|r| r.reason)
}

/// [`handshake`], its refusal kept whole: the reason, and the certificate OpenSSL refused.
pub async fn handshake_checked(
    ctx: &SslContext,
    host: &str,
    verify: Verify,
    tcp: tokio::net::TcpStream,
) -> std::result::Result<tokio_openssl::SslStream<tokio::net::TcpStream>, TlsRefusal> {
    let refusal = |reason: String| TlsRefusal::new(host, X509VerifyResult::OK, None, reason);
    let setup = |e: openssl::error::ErrorStack| refusal(tls::reason_of_stack(&e));
    let mut ssl = Ssl::new(ctx).map_err(setup)?;
    let ip = host.parse::<std::net::IpAddr>().ok();
    if verify == Verify::Full {
        let param = ssl.param_mut();
        param.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
        match ip {
            Some(ip) => param.set_ip(ip).map_err(setup)?,
            None => param.set_host(host).map_err(setup)?,
        }
    }
    if ip.is_none() {
        ssl.set_hostname(host).map_err(setup)?;
    }
    // The first certificate refused, to name it: OpenSSL keeps no peer certificate after a refusal.
    let refused: Arc<Mutex<Option<CertInfo>>> = Arc::default();
    let slot = Arc::clone(&refused);
    ssl.set_verify_callback(ctx.verify_mode(), move |ok, x| {
        if !ok {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = x.current_cert().map(|c| CertInfo::of(c, x.error_depth()));
            }
        }
        ok
    });
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp).map_err(setup)?;
    if let Err(e) = std::pin::Pin::new(&mut stream).connect().await {
        let result = stream.ssl().verify_result();
        let cert = refused.lock().unwrap_or_else(|e| e.into_inner()).take();
        if result != X509VerifyResult::OK {
            let reason = format!("certificate verify failed: {}", result.error_string());
            return Err(TlsRefusal::new(host, result, cert, reason));
        }
        let texts = vec![e.to_string()];
        return Err(refusal(tls::describe(&texts).unwrap_or_else(
            || match e.io_error() {
                Some(io) => io_reason(io),
                None => e.to_string(),
            },
        )));
    }
    Ok(stream)
}

/// An I/O error's text without the `(os error N)` noise.
pub fn io_reason(e: &std::io::Error) -> String {
    let why = e.to_string();
    why.split(" (os error").next().unwrap_or(&why).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::{PKey, Private};
    use openssl::ssl::SslAcceptor;
    use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
    use openssl::x509::X509NameBuilder;

    /// A self-signed `CA:TRUE` certificate for 127.0.0.1 and `node1`, valid from `from` days ago for
    /// `days` days, and its key.
    fn self_signed(from: u32, days: u32) -> (X509, PKey<Private>) {
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
        (b.build(), key)
    }

    /// A handshake with a server presenting `server`, the client trusting `ca` as `verify` says and
    /// checking `host`.
    fn check(
        ca: &X509,
        server: &(X509, PKey<Private>),
        verify: Verify,
        host: &str,
    ) -> Result<(), String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let mut acc = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
            acc.set_certificate(&server.0).unwrap();
            acc.set_private_key(&server.1).unwrap();
            let acc = acc.build();
            let serve = async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let ssl = Ssl::new(acc.context()).unwrap();
                let mut s = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
                let _ = std::pin::Pin::new(&mut s).accept().await;
            };
            let settings = TlsSettings {
                ca: Some(vec![ca.clone()]),
                client: None,
                verify,
            };
            let ctx = build_context(&settings, None).unwrap();
            let client = async {
                let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap();
                handshake(&ctx, host, verify, tcp).await.map(|_| ())
            };
            let (r, ()) = tokio::join!(client, serve);
            r
        })
    }

    #[test]
    fn openssl_rules_and_reasons() {
        let good = self_signed(1, 30);
        let other = self_signed(1, 30);
        let expired = self_signed(30, 10);
        // A CA:TRUE certificate as its own CA and server certificate: accepted (webpki refuses it).
        assert_eq!(check(&good.0, &good, Verify::Full, "127.0.0.1"), Ok(()));
        assert_eq!(check(&good.0, &good, Verify::Full, "NODE1"), Ok(()));
        assert_eq!(
            check(&good.0, &good, Verify::Full, "localhost").unwrap_err(),
            "certificate verify failed: hostname mismatch"
        );
        assert_eq!(
            check(&good.0, &good, Verify::Full, "127.0.0.2").unwrap_err(),
            "certificate verify failed: IP address mismatch"
        );
        assert_eq!(
            check(&good.0, &good, Verify::ChainOnly, "127.0.0.2"),
            Ok(())
        );
        assert_eq!(
            check(&other.0, &good, Verify::ChainOnly, "127.0.0.1").unwrap_err(),
            "certificate verify failed: self-signed certificate"
        );
        assert_eq!(
            check(&expired.0, &expired, Verify::ChainOnly, "127.0.0.1").unwrap_err(),
            "certificate verify failed: certificate has expired"
        );
        assert_eq!(check(&other.0, &expired, Verify::None, "127.0.0.1"), Ok(()));
    }
}
