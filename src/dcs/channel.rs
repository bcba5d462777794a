//! The gRPC channel to one etcd v3 endpoint: plain TCP for `http://`, OpenSSL for `https://`.
//!
//! The TLS side mirrors Patroni's etcd3 client as patronictl runs it (urllib3 on Python's `ssl`): the
//! server certificate is verified against `cacert` alone when given (else the system's trust store),
//! with the host name checked, and the `cert`/`key` client certificate is sent. The channel connects
//! eagerly, so a refused certificate is reported at once with OpenSSL's reason instead of surfacing as
//! a timeout later.
//!
//! The OpenSSL context is built only for `https://` endpoints, and the system trust store is loaded
//! only when no `cacert` is given: with OpenSSL 3 loading it costs some 25 ms, five times a whole
//! `list`.

use std::time::Duration;

use std::sync::OnceLock;

use hyper_util::rt::TokioIo;
use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslMethod, SslVerifyMode};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509CheckFlags;
use tonic::transport::{Channel, Endpoint};

use crate::config::DcsSettings;
use crate::error::{Error, Result};
use crate::http_client::{TlsSettings, Verify};
use crate::tls;

/// The TLS side of the endpoints: an OpenSSL context made from the DCS settings when first needed.
pub struct Tls {
    settings: DcsSettings,
    ctx: OnceLock<SslContext>,
}

impl Tls {
    /// Keep the settings; the context is made at once when a configured endpoint is `https://`
    /// (so a bad file is reported before anything is tried), else on the first `https://` endpoint.
    pub fn new(settings: &DcsSettings) -> Result<Tls> {
        let tls = Tls {
            settings: settings.clone(),
            ctx: OnceLock::new(),
        };
        if settings.endpoints.iter().any(|e| e.starts_with("https://")) {
            tls.context()?;
        }
        Ok(tls)
    }

    fn context(&self) -> Result<&SslContext> {
        if let Some(c) = self.ctx.get() {
            return Ok(c);
        }
        let c = context(&self.settings)?;
        Ok(self.ctx.get_or_init(|| c))
    }
}

/// Build the OpenSSL context for `https://` endpoints from the DCS settings.
fn context(settings: &DcsSettings) -> Result<SslContext> {
    let tls = super::etcd_tls(settings)?;
    // etcd serves gRPC over TLS only to clients that ask for HTTP/2 by ALPN.
    build_context(&tls, Some(b"\x02h2")).map_err(|e| {
        Error::usage(format!(
            "cannot set up TLS for etcd: {}",
            tls::reason_of_stack(&e)
        ))
    })
}

/// Open a channel to `endpoint` within `budget`; the error is a one-line reason.
pub async fn open(
    endpoint: &str,
    tls: &Tls,
    budget: Duration,
) -> std::result::Result<Channel, String> {
    let ep = Endpoint::from_shared(endpoint.to_string())
        .map_err(|e| format!("invalid endpoint URL: {e}"))?
        .connect_timeout(budget)
        .tcp_nodelay(true);
    let result = if endpoint.starts_with("https://") {
        let tls = tls.context().map_err(|e| e.message)?.clone();
        let connect = tower::service_fn(move |uri: http::Uri| {
            let tls = tls.clone();
            async move { handshake(&tls, &uri).await.map(TokioIo::new) }
        });
        ep.connect_with_connector(connect).await
    } else {
        ep.connect().await
    };
    result.map_err(|e| {
        let texts = crate::error::causes(&e);
        tls::describe(&texts).unwrap_or_else(|| super::root_cause(&e))
    })
}

/// TCP connect and TLS handshake to the URI's host and port (host name checked).
async fn handshake(
    tls: &SslContext,
    uri: &http::Uri,
) -> std::io::Result<tokio_openssl::SslStream<tokio::net::TcpStream>> {
    let host = uri.host().unwrap_or("localhost");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(2379);
    let tcp = tokio::net::TcpStream::connect((host, port)).await?;
    tcp.set_nodelay(true)?;
    tls_handshake(tls, host, Verify::Full, tcp)
        .await
        .map_err(std::io::Error::other)
}

/// The OpenSSL client context for these settings, offering the `alpn` protocols when given.
fn build_context(
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

/// The TLS handshake for `host` (SNI for names; with `Verify::Full` the certificate is checked against
/// the name or IP address, as Python's `ssl` with `check_hostname`); the error is OpenSSL's reason on
/// one line.
async fn tls_handshake(
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

fn io_reason(e: &std::io::Error) -> String {
    let why = e.to_string();
    why.split(" (os error").next().unwrap_or(&why).to_string()
}
