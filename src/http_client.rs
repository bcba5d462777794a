//! The HTTP client of the Patroni REST API and etcd v2: reqwest over rustls, with the server
//! certificate verified by OpenSSL ([`crate::openssl_verify`]) so that the certificates accepted are
//! patronictl's (urllib3 on Python's `ssl`), and every request bounded by a timeout.
//!
//! Making a client reads no trust store: the rustls configuration has no roots, and the OpenSSL store
//! (the CA file, else the system's) is made on the first verification. Certificate and key files are
//! read and checked when the client is made, so a bad file is a configuration error before anything
//! is sent.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openssl::x509::X509;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub use crate::openssl_verify::Verify;
pub use reqwest::header::HeaderMap;
pub use reqwest::{Method, StatusCode};

use crate::error::{Error, Result};
use crate::openssl_verify::{OpensslVerifier, VerifyFailure};
use crate::tls::{self, ClientCert};

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

/// An answer.
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// Nothing came back within the timeout (the request may have been sent).
    Timeout,
    /// The connection (TCP, TLS) could not be made: nothing was sent. The reason, on one line.
    Connect(String),
    /// The request may have been sent, then the connection failed.
    Other(String),
}

/// The client.
pub struct HttpClient {
    http: reqwest::Client,
}

/// The rustls configuration: no roots, the OpenSSL verifier, the client certificate (its key as
/// PKCS#8, decrypted by [`crate::tls`]).
fn rustls_config(tls: TlsSettings) -> std::result::Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = OpensslVerifier::new(tls.ca, tls.verify, provider.clone());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match tls.client {
        None => builder.with_no_client_auth(),
        Some(cc) => {
            let ossl = |e: openssl::error::ErrorStack| tls::reason_of_stack(&e);
            let chain = cc
                .chain
                .iter()
                .map(|c| c.to_der().map(CertificateDer::from))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(ossl)?;
            let key = cc.key.private_key_to_pkcs8().map_err(ossl)?;
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("the client key cannot be used: {e}"))?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

impl HttpClient {
    /// A client with these TLS settings (nothing is connected yet, no trust store is read).
    pub fn new(tls: TlsSettings) -> Result<HttpClient> {
        let config =
            rustls_config(tls).map_err(|why| Error::usage(format!("cannot set up TLS: {why}")))?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(config)
            .no_proxy()
            // One connection per request, as before and as patronictl's calls go out one by one: a
            // pooled connection the server has just closed would fail a POST that may then read as
            // "outcome unknown".
            .pool_max_idle_per_host(0)
            .tcp_nodelay(true)
            .user_agent(concat!("patctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::usage(format!("cannot set up the HTTP client: {e}")))?;
        Ok(HttpClient { http })
    }

    /// Send one request and read the whole answer, all within `timeout`.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        auth: Option<&(String, String)>,
        headers: &[(&str, &str)],
        body: Option<String>,
        timeout: Duration,
    ) -> std::result::Result<Reply, HttpError> {
        let mut req = self.http.request(method, url).timeout(timeout);
        if let Some((u, p)) = auth {
            req = req.basic_auth(u, Some(p));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.map_err(|e| classify(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| classify(&e))?;
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}

/// Sort a reqwest error: no answer in time, no connection (TCP or TLS: nothing was sent), or a failure
/// after the request may have left.
fn classify(e: &reqwest::Error) -> HttpError {
    if e.is_timeout() {
        HttpError::Timeout
    } else if e.is_builder() {
        HttpError::Connect(format!("invalid URL: {}", reason(e)))
    } else if e.is_connect() {
        HttpError::Connect(reason(e))
    } else {
        HttpError::Other(reason(e))
    }
}

/// The one-line reason of a failure: OpenSSL's wording for TLS (a refused certificate as Python's
/// `ssl` says it, a TLS alert as OpenSSL names it), else the innermost error without its `os error`.
fn reason(e: &(dyn std::error::Error + 'static)) -> String {
    for n in crate::error::sources(e) {
        // An I/O error's `source` skips the error it wraps (io errors nest: hyper's around
        // tokio-rustls's around rustls's): look inside.
        let mut inner = Some(n);
        while let Some(i) = inner {
            if let Some(r) = i.downcast_ref::<rustls::Error>() {
                return rustls_reason(r);
            }
            inner = i
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|x| x as &(dyn std::error::Error + 'static));
        }
    }
    tls::describe(&crate::error::causes(e)).unwrap_or_else(|| crate::error::root_cause(e))
}

/// A rustls error as OpenSSL (so Python's `ssl`) would word the same failure.
fn rustls_reason(e: &rustls::Error) -> String {
    use rustls::{AlertDescription as A, CertificateError, InvalidMessage};
    match e {
        rustls::Error::InvalidCertificate(CertificateError::Other(o)) => {
            match o.0.downcast_ref::<VerifyFailure>() {
                Some(f) => f.0.clone(),
                None => format!("certificate verify failed: {o}"),
            }
        }
        rustls::Error::General(why) => why.clone(),
        rustls::Error::AlertReceived(alert) => {
            let name = match alert {
                A::CertificateRequired => "tlsv13 alert certificate required",
                A::BadCertificate => "sslv3 alert bad certificate",
                A::CertificateExpired => "sslv3 alert certificate expired",
                A::CertificateUnknown => "sslv3 alert certificate unknown",
                A::CertificateRevoked => "sslv3 alert certificate revoked",
                A::HandshakeFailure => "sslv3 alert handshake failure",
                A::UnknownCA => "tlsv1 alert unknown ca",
                A::AccessDenied => "tlsv1 alert access denied",
                A::DecryptError => "tlsv1 alert decrypt error",
                A::ProtocolVersion => "tlsv1 alert protocol version",
                A::InternalError => "tlsv1 alert internal error",
                A::UnrecognisedName => "tlsv1 unrecognized name",
                A::NoApplicationProtocol => "tlsv1 alert no application protocol",
                _ => return e.to_string(),
            };
            name.to_string()
        }
        // A plain-text answer to the ClientHello (not a TLS port).
        rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType)
        | rustls::Error::InvalidMessage(InvalidMessage::UnknownProtocolVersion) => {
            "wrong version number".to_string()
        }
        e => e.to_string(),
    }
}

/// A client certificate setting read into a [`ClientCert`], as a configuration error when it fails.
pub fn client_cert(
    cert: Option<&Path>,
    key: Option<&Path>,
    password: Option<&str>,
    password_setting: Option<&str>,
    what: &str,
) -> Result<Option<ClientCert>> {
    match cert {
        Some(c) => tls::load_client_cert(c, key, password, password_setting, what).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_errors_read_as_openssl() {
        use rustls::{AlertDescription, InvalidMessage};
        assert_eq!(
            rustls_reason(&rustls::Error::AlertReceived(
                AlertDescription::CertificateRequired
            )),
            "tlsv13 alert certificate required"
        );
        assert_eq!(
            rustls_reason(&rustls::Error::InvalidMessage(
                InvalidMessage::InvalidContentType
            )),
            "wrong version number"
        );
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::Other(
            rustls::OtherError(Arc::new(VerifyFailure(
                "certificate verify failed: hostname mismatch".into(),
            ))),
        ));
        // Wrapped as tokio-rustls and hyper hand it up.
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, refused);
        let io = std::io::Error::other(io);
        assert_eq!(reason(&io), "certificate verify failed: hostname mismatch");
    }

    #[test]
    fn plain_http_client_reads_no_trust_store() {
        // No CA file: the system store would be read on the first verification only.
        let c = HttpClient::new(TlsSettings::default());
        assert!(c.is_ok());
    }
}
