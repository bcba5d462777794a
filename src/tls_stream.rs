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

use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslMethod, SslVerifyMode};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509CheckFlags;
use openssl::x509::X509;

use crate::error::Result;
use crate::tls::{self, ClientCert};

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
/// OpenSSL's reason on one line.
pub async fn handshake(
    ctx: &SslContext,
    host: &str,
    verify: Verify,
    tcp: tokio::net::TcpStream,
) -> std::result::Result<tokio_openssl::SslStream<tokio::net::TcpStream>, String> {
    let setup = |e: openssl::error::ErrorStack| tls::reason_of_stack(&e);
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
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp).map_err(setup)?;
    if let Err(e) = std::pin::Pin::new(&mut stream).connect().await {
        let verify = stream.ssl().verify_result();
        if verify != openssl::x509::X509VerifyResult::OK {
            return Err(format!(
                "certificate verify failed: {}",
                verify.error_string()
            ));
        }
        let texts = vec![e.to_string()];
        return Err(tls::describe(&texts).unwrap_or_else(|| match e.io_error() {
            Some(io) => io_reason(io),
            None => e.to_string(),
        }));
    }
    Ok(stream)
}

/// An I/O error's text without the `(os error N)` noise.
pub fn io_reason(e: &std::io::Error) -> String {
    let why = e.to_string();
    why.split(" (os error").next().unwrap_or(&why).to_string()
}
