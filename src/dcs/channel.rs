//! The gRPC channel to one etcd v3 endpoint: plain TCP for `http://`, OpenSSL for `https://`.
//!
//! The TLS side mirrors Patroni's etcd3 client as patronictl runs it (urllib3 on Python's `ssl`): the
//! server certificate is verified against `cacert` alone when given (else the system's trust store),
//! with the host name checked, and the `cert`/`key` client certificate is sent. The channel connects
//! eagerly, so a refused certificate is reported at once with OpenSSL's reason instead of surfacing as
//! a timeout later.

use std::time::Duration;

use hyper_util::rt::TokioIo;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::store::X509StoreBuilder;
use tonic::transport::{Channel, Endpoint};

use crate::config::DcsSettings;
use crate::error::{Error, Result};
use crate::tls;

/// Build the OpenSSL connector for `https://` endpoints from the DCS settings.
pub fn connector(settings: &DcsSettings) -> Result<SslConnector> {
    let setup = |e: openssl::error::ErrorStack| {
        Error::usage(format!(
            "cannot set up TLS for etcd: {}",
            tls::reason_of_stack(&e)
        ))
    };
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(setup)?;
    b.set_verify(SslVerifyMode::PEER);
    // etcd serves gRPC over TLS only to clients that ask for HTTP/2 by ALPN.
    b.set_alpn_protos(b"\x02h2").map_err(setup)?;
    if let Some(ca) = &settings.cacert {
        let mut store = X509StoreBuilder::new().map_err(setup)?;
        for c in tls::load_ca(ca, "etcd CA file")? {
            store.add_cert(c).map_err(setup)?;
        }
        b.set_cert_store(store.build());
    }
    if let Some(cert) = &settings.cert {
        let cc = tls::load_client_cert(cert, settings.key.as_deref(), None, None, "etcd client")?;
        b.set_certificate(&cc.chain[0]).map_err(setup)?;
        for extra in cc.chain.iter().skip(1) {
            b.add_extra_chain_cert(extra.clone()).map_err(setup)?;
        }
        b.set_private_key(&cc.key).map_err(setup)?;
    }
    Ok(b.build())
}

/// Open a channel to `endpoint` within `budget`; the error is a one-line reason.
pub async fn open(
    endpoint: &str,
    tls: &SslConnector,
    budget: Duration,
) -> std::result::Result<Channel, String> {
    let ep = Endpoint::from_shared(endpoint.to_string())
        .map_err(|e| format!("invalid endpoint URL: {e}"))?
        .connect_timeout(budget)
        .tcp_nodelay(true);
    let result = if endpoint.starts_with("https://") {
        let tls = tls.clone();
        let connect = tower::service_fn(move |uri: http::Uri| {
            let tls = tls.clone();
            async move { handshake(&tls, &uri).await.map(TokioIo::new) }
        });
        ep.connect_with_connector(connect).await
    } else {
        ep.connect().await
    };
    result.map_err(|e| {
        let texts = tls::chain_texts(&e);
        tls::describe(&texts).unwrap_or_else(|| super::root_cause(&e))
    })
}

/// TCP connect and TLS handshake to the URI's host and port.
async fn handshake(
    tls: &SslConnector,
    uri: &http::Uri,
) -> std::io::Result<tokio_openssl::SslStream<tokio::net::TcpStream>> {
    let host = uri.host().unwrap_or("localhost");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(2379);
    let tcp = tokio::net::TcpStream::connect((host, port)).await?;
    tcp.set_nodelay(true)?;
    let ssl = tls
        .configure()
        .and_then(|c| c.into_ssl(host))
        .map_err(|e| std::io::Error::other(tls::reason_of_stack(&e)))?;
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp)
        .map_err(|e| std::io::Error::other(tls::reason_of_stack(&e)))?;
    if let Err(e) = std::pin::Pin::new(&mut stream).connect().await {
        let verify = stream.ssl().verify_result();
        let why = if verify != openssl::x509::X509VerifyResult::OK {
            format!("certificate verify failed: {}", verify.error_string())
        } else {
            let texts = vec![e.to_string()];
            tls::describe(&texts).unwrap_or_else(|| e.to_string())
        };
        return Err(std::io::Error::other(why));
    }
    Ok(stream)
}
