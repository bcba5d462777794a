//! A small HTTP/1.1 client for the Patroni REST API and etcd v2: one connection per request (as
//! patronictl's calls go out one by one), TLS through OpenSSL with the verification patronictl's
//! urllib3 pool sets up, and every request bounded by a timeout.
//!
//! The OpenSSL context is made on the first `https://` request; the system trust store is loaded only
//! when no CA file is given (with OpenSSL 3 loading it costs some 25 ms, five times a whole `list`).
//! Certificate and key files are read and checked when the client is made, so a bad file is a
//! configuration error before anything is sent.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslMethod, SslVerifyMode};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509CheckFlags;
use openssl::x509::X509;

pub use http::{HeaderMap, Method, StatusCode};

use crate::error::Result;
use crate::tls::{self, ClientCert};

/// How the server certificate is checked.
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
    tls: TlsSettings,
    ctx: OnceLock<SslContext>,
}

impl HttpClient {
    /// A client with these TLS settings (nothing is connected yet).
    pub fn new(tls: TlsSettings) -> HttpClient {
        HttpClient {
            tls,
            ctx: OnceLock::new(),
        }
    }

    fn context(&self) -> std::result::Result<&SslContext, String> {
        if let Some(c) = self.ctx.get() {
            return Ok(c);
        }
        let c = build_context(&self.tls, None)
            .map_err(|e| format!("cannot set up TLS: {}", tls::reason_of_stack(&e)))?;
        Ok(self.ctx.get_or_init(|| c))
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
        let uri: http::Uri = url
            .parse()
            .map_err(|e| HttpError::Connect(format!("invalid URL: {e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(HttpError::Connect("not an http(s) URL".into())),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| HttpError::Connect("no host in the URL".into()))?
            .clone();
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, authority.as_str())
            .header(
                http::header::USER_AGENT,
                concat!("patctl/", env!("CARGO_PKG_VERSION")),
            );
        if let Some((u, p)) = auth {
            req = req.header(
                http::header::AUTHORIZATION,
                format!("Basic {}", base64(format!("{u}:{p}").as_bytes())),
            );
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| HttpError::Connect(format!("invalid request: {e}")))?;
        let exchange = async {
            let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| HttpError::Connect(io_reason(&e)))?;
            let _ = tcp.set_nodelay(true);
            if https {
                let ctx = self.context().map_err(HttpError::Connect)?;
                let stream = handshake(ctx, &host, self.tls.verify, tcp)
                    .await
                    .map_err(HttpError::Connect)?;
                exchange(stream, req).await
            } else {
                exchange(tcp, req).await
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::Timeout),
        }
    }
}

/// HTTP/1.1 over an open connection: send the request, read the answer.
async fn exchange<T>(
    io: T,
    req: http::Request<Full<Bytes>>,
) -> std::result::Result<Reply, HttpError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| HttpError::Connect(hyper_reason(&e)))?;
    // Ends with the answer (or when `sender` is dropped).
    tokio::spawn(conn);
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| HttpError::Other(hyper_reason(&e)))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| HttpError::Other(hyper_reason(&e)))?
        .to_bytes();
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// The OpenSSL client context for these settings, offering the `alpn` protocols when given.
pub(crate) fn build_context(
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
pub(crate) async fn handshake(
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

fn hyper_reason(e: &(dyn std::error::Error + 'static)) -> String {
    let texts = crate::error::causes(e);
    tls::describe(&texts).unwrap_or_else(|| {
        let last = texts.last().cloned().unwrap_or_default();
        last.split(" (os error").next().unwrap_or(&last).to_string()
    })
}

/// Standard base64 with padding, for the basic-auth header.
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_python() {
        assert_eq!(base64(b"admin:admin"), "YWRtaW46YWRtaW4=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b""), "");
    }
}
