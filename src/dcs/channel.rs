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
use openssl::ssl::SslContext;
use tonic::transport::{Channel, Endpoint};

use crate::config::DcsSettings;
use crate::error::{Error, Result};
use crate::tls;
use crate::tls_stream::{build_context, Verify};

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
        .with_source(e)
    })
}

/// Open a channel to `endpoint` within `budget`; the error is why (a certificate problem worded by
/// [`tls::describe`]), with the error chain it came from.
pub(super) async fn open(
    endpoint: &str,
    tls: &Tls,
    budget: Duration,
) -> std::result::Result<Channel, super::retry::Why> {
    let ep = Endpoint::from_shared(endpoint.to_string())
        .map_err(|e| format!("invalid endpoint URL: {e}"))?
        .connect_timeout(budget)
        .tcp_nodelay(true);
    let result = if endpoint.starts_with("https://") {
        let tls = tls.context().map_err(|e| e.message.clone())?.clone();
        let connect = tower::service_fn(move |uri: http::Uri| {
            let tls = tls.clone();
            async move { handshake(&tls, &uri).await.map(TokioIo::new) }
        });
        ep.connect_with_connector(connect).await
    } else {
        ep.connect().await
    };
    result.map_err(|e| super::retry::Why::of(&e))
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
    crate::tls_stream::handshake(tls, host, Verify::Full, tcp)
        .await
        .map_err(std::io::Error::other)
}
