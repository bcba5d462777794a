//! The HTTP client of the Patroni REST API and etcd v2: HTTP/1.1 (hyper) over plain TCP or over the
//! OpenSSL stream of [`crate::tls_stream`], the same TLS client as etcd v3 and PostgreSQL, so the
//! certificates accepted are patronictl's (urllib3 on Python's `ssl`), and every request (connection,
//! handshake, request and whole answer) is bounded by a timeout.
//!
//! Why hyper rather than reqwest's OpenSSL backend (native-tls): native-tls loads the system trust
//! store when a client is made (some 25 ms with OpenSSL 3, five times a whole `list`) even for plain
//! `http://`, and it cannot be told Python's host-name flags; here the OpenSSL context is made on the
//! first `https://` request only, by the code etcd v3 already uses. One connection per request, as
//! patronictl's calls go out one by one: a pooled connection the server has just closed would fail a
//! POST that may then read as "outcome unknown".
//!
//! Certificate and key files are read and checked when the client is made, so a bad file is a
//! configuration error before anything is sent.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use openssl::ssl::SslContext;
use tokio::io::{AsyncRead, AsyncWrite};

pub use crate::tls_refusal::TlsRefusal;
pub use crate::tls_stream::{TlsSettings, Verify};
pub use http::header::HeaderMap;
pub use http::{Method, StatusCode};

use crate::error::{Cause, Result};
use crate::tls::{self, ClientCert};
use crate::tls_stream;

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
    /// The connection (TCP, TLS) could not be made: nothing was sent. The reason, on one line (the
    /// error below it, e.g. a [`TlsRefusal`], kept as its source).
    Connect(Cause),
    /// The request may have been sent, then the connection failed.
    Other(Cause),
}

/// The client.
pub struct HttpClient {
    tls: TlsSettings,
    ctx: OnceLock<std::result::Result<SslContext, Cause>>,
}

impl HttpClient {
    /// A client with these TLS settings (nothing is connected yet, no trust store is read).
    pub fn new(tls: TlsSettings) -> Result<HttpClient> {
        Ok(HttpClient {
            tls,
            ctx: OnceLock::new(),
        })
    }

    /// The OpenSSL context, made on the first `https://` request.
    fn context(&self) -> std::result::Result<&SslContext, Cause> {
        self.ctx
            .get_or_init(|| {
                tls_stream::build_context(&self.tls, Some(b"\x08http/1.1")).map_err(|e| {
                    Cause::of(
                        format!("cannot set up TLS: {}", tls::reason_of_stack(&e)),
                        e,
                    )
                })
            })
            .as_ref()
            .map_err(Clone::clone)
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
        let exchange = self.exchange(method, url, auth, headers, body);
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(HttpError::Timeout))
    }

    async fn exchange(
        &self,
        method: Method,
        url: &str,
        auth: Option<&(String, String)>,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> std::result::Result<Reply, HttpError> {
        let invalid = |why: String| HttpError::Connect(Cause::new(format!("invalid URL: {why}")));
        let uri: http::Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(invalid("URL scheme is not allowed".into())),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| invalid("empty host".into()))?
            .clone();
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });

        let mut req = http::Request::builder()
            .method(method)
            .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header(http::header::HOST, authority.as_str())
            .header(
                http::header::USER_AGENT,
                concat!("patctl/", env!("CARGO_PKG_VERSION")),
            )
            .header(http::header::ACCEPT, "*/*");
        if let Some((u, p)) = auth {
            let token = openssl::base64::encode_block(format!("{u}:{p}").as_bytes());
            req = req.header(http::header::AUTHORIZATION, format!("Basic {token}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| HttpError::Connect(Cause::of(format!("invalid request: {e}"), e)))?;

        let tcp = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| HttpError::Connect(Cause::of(tls_stream::io_reason(&e), e)))?;
        // Small requests and answers: no Nagle delay.
        let _ = tcp.set_nodelay(true);
        if https {
            let ctx = self.context().map_err(HttpError::Connect)?;
            let stream = tls_stream::handshake_checked(ctx, host, self.tls.verify, tcp)
                .await
                .map_err(|r| HttpError::Connect(Cause::of(r.reason.clone(), r)))?;
            exchange_on(stream, req).await
        } else {
            exchange_on(tcp, req).await
        }
    }
}

/// One request and its whole answer over a fresh connection, closed afterwards.
async fn exchange_on<S>(
    io: S,
    req: http::Request<Full<Bytes>>,
) -> std::result::Result<Reply, HttpError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let other = |e: hyper::Error| HttpError::Other(Cause::of(reason(&e), e));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(other)?;
    let work = async {
        let resp = sender.send_request(req).await.map_err(other)?;
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.map_err(other)?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    };
    let mut work = std::pin::pin!(work);
    let mut conn = std::pin::pin!(conn);
    // The connection is driven while the request and answer go through it, and dropped (closed) after.
    tokio::select! {
        r = &mut work => r,
        c = &mut conn => match c {
            Err(e) => Err(other(e)),
            Ok(()) => work.await,
        },
    }
}

/// The one-line reason of a failure: OpenSSL's wording for TLS (a TLS alert as OpenSSL names it),
/// else the innermost error without its `os error`.
fn reason(e: &(dyn std::error::Error + 'static)) -> String {
    // An I/O error's `source` skips the error it wraps, but its text is that error's: the texts of
    // the chain hold OpenSSL's error lines.
    tls::describe(&crate::error::causes(e)).unwrap_or_else(|| crate::error::root_cause(e))
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
    fn plain_http_client_reads_no_trust_store() {
        // No CA file: the system store would be read on the first https request only.
        let c = HttpClient::new(TlsSettings::default()).unwrap();
        assert!(c.ctx.get().is_none());
    }

    #[test]
    fn bad_urls_are_refused_before_connecting() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let c = HttpClient::new(TlsSettings::default()).unwrap();
        let r = rt.block_on(c.send(
            Method::GET,
            "ftp://127.0.0.1:1/x",
            None,
            &[],
            None,
            Duration::from_secs(1),
        ));
        assert!(matches!(r, Err(HttpError::Connect(w)) if w.starts_with("invalid URL")));
    }
}
