//! The retry rule at work in each back end, against fakes on loopback (no sandbox): a closed port
//! (refused: nothing sent), and servers that answer the connection and the reads but drop the
//! connection when a write arrives (the write may have been sent). For each kind: "not sent" moves
//! on to the next endpoint, which is contacted; "maybe sent" stops a write with exit 5 and the next
//! endpoint never sees it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::config::{DcsKind, DcsSettings};
use crate::dcs::{Etcd2, Etcd3, Expect, KeyValue, Version, ZooKeeper};
use crate::error::Exit;

/// What a fake server saw: one line per request (`GET /v2/machines`, `connect`, `setData`, …).
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, what: impl Into<String>) {
        self.0.lock().unwrap().push(what.into());
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn settings(kind: DcsKind, endpoints: Vec<String>, use_proxies: bool) -> DcsSettings {
    DcsSettings {
        kind,
        endpoints,
        use_proxies,
        username: None,
        password: None,
        cacert: None,
        cert: None,
        key: None,
        timeout: Duration::from_secs(5),
    }
}

/// Serve every connection to a fresh loopback port with `serve`; the port.
async fn fake<F, Fut>(serve: F) -> u16
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp));
        }
    });
    port
}

// ------------------------------------------------------------------------------------- etcd v2

/// A fake etcd v2 member: `/v2/machines` names itself, reads answer one key, writes are dropped
/// unanswered once read (the connection closes).
async fn fake_etcd2(seen: Seen) -> u16 {
    let port_cell = Arc::new(Mutex::new(0u16));
    let cell = port_cell.clone();
    let port = fake(move |mut tcp| {
        let (seen, cell) = (seen.clone(), cell.clone());
        async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                match tcp.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let line = head.lines().next().unwrap_or_default();
            let mut words = line.split(' ');
            let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            seen.push(format!("{method} {}", path.split('?').next().unwrap_or("")));
            if method != "GET" {
                return; // the write arrived: drop it unanswered
            }
            let me = *cell.lock().unwrap();
            let body = if path.starts_with("/v2/machines") {
                format!("http://127.0.0.1:{me}")
            } else {
                r#"{"action":"get","node":{"key":"/service/demo","dir":true,"nodes":[{"key":"/service/demo/config","value":"{}","modifiedIndex":5}]}}"#.to_string()
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Etcd-Index: 5\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tcp.write_all(answer.as_bytes()).await;
        }
    })
    .await;
    *port_cell.lock().unwrap() = port;
    port
}

#[tokio::test(flavor = "current_thread")]
async fn etcd2_not_sent_moves_on_and_maybe_sent_write_is_unknown() {
    let (a, b) = (Seen::default(), Seen::default());
    let (pa, pb) = (fake_etcd2(a.clone()).await, fake_etcd2(b.clone()).await);
    let closed = closed_port();
    let url = |p: u16| format!("http://127.0.0.1:{p}");

    // Refused (not sent): the next endpoint is asked, and answers.
    let s = settings(DcsKind::Etcd2, vec![url(closed), url(pa)], true);
    let mut kv = Etcd2::connect(&s).await.unwrap();
    let nodes = kv.read_prefix("/service/demo/").await.unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(a.all(), ["GET /v2/keys/service/demo"]);
    assert_eq!(kv.describe(), format!("etcd v2 at {}", url(pa)));

    // The write reached the first member, which dropped it: exit 5, never sent to the next one.
    let s = settings(DcsKind::Etcd2, vec![url(pa), url(pb)], true);
    let mut kv = Etcd2::connect(&s).await.unwrap();
    let e = kv
        .put("/service/demo/config", "{}", Expect::At(Version::new(5)))
        .await
        .unwrap_err();
    assert_eq!(e.exit, Exit::Unknown, "{}", e.message);
    assert!(
        e.message.starts_with("the write may have been applied"),
        "{}",
        e.message
    );
    assert_eq!(a.all().last().unwrap(), "PUT /v2/keys/service/demo/config");
    assert_eq!(b.all(), Vec::<String>::new());

    // Unreachable everywhere: the error names each endpoint, the causes say why.
    let s = settings(DcsKind::Etcd2, vec![url(closed)], false);
    let e = Etcd2::connect(&s).await.err().unwrap();
    assert_eq!(e.exit, Exit::Unreachable);
    assert!(e.hint.unwrap().contains(&url(closed)));
}

// ------------------------------------------------------------------------------------- etcd v3

/// A fake etcd v3 member (gRPC over HTTP/2): `MemberList` answers an empty list, any other call
/// (a write) is read whole, then dropped unanswered with the connection.
async fn fake_etcd3(seen: Seen) -> u16 {
    fake(move |tcp| {
        let seen = seen.clone();
        async move {
            let Ok(mut conn) = h2::server::handshake(tcp).await else {
                return;
            };
            while let Some(Ok((request, mut respond))) = conn.accept().await {
                let path = request.uri().path().to_string();
                seen.push(path.clone());
                if !path.ends_with("/MemberList") {
                    let mut body = request.into_body();
                    while let Some(Ok(_)) = body.data().await {}
                    return;
                }
                let head = http::Response::builder()
                    .status(200)
                    .header("content-type", "application/grpc")
                    .body(())
                    .unwrap();
                let Ok(mut send) = respond.send_response(head, false) else {
                    return;
                };
                // One empty message (an empty member list), then the status.
                let _ = send.send_data(bytes::Bytes::from_static(&[0, 0, 0, 0, 0]), false);
                let mut trailers = http::HeaderMap::new();
                trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                let _ = send.send_trailers(trailers);
            }
        }
    })
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn etcd3_not_sent_moves_on_and_maybe_sent_write_is_unknown() {
    let (a, b) = (Seen::default(), Seen::default());
    let (pa, pb) = (fake_etcd3(a.clone()).await, fake_etcd3(b.clone()).await);
    let closed = closed_port();
    let url = |p: u16| format!("http://127.0.0.1:{p}");
    const MEMBERS: &str = "/etcdserverpb.Cluster/MemberList";

    // Refused (not sent): the next endpoint is asked, and answers.
    let s = settings(DcsKind::Etcd3, vec![url(closed), url(pa)], false);
    let kv = Etcd3::connect(&s).await.unwrap();
    assert_eq!(a.all(), [MEMBERS]);
    assert_eq!(kv.describe(), format!("etcd v3 at {}", url(pa)));

    // The compare-and-swap reached the first member, which dropped it: exit 5, never repeated.
    let s = settings(DcsKind::Etcd3, vec![url(pa), url(pb)], false);
    let mut kv = Etcd3::connect(&s).await.unwrap();
    let e = kv
        .put("/service/demo/config", "{}", Expect::At(Version::new(5)))
        .await
        .unwrap_err();
    assert_eq!(e.exit, Exit::Unknown, "{}", e.message);
    assert!(
        e.message
            .starts_with("the compare-and-swap write may have been applied"),
        "{}",
        e.message
    );
    assert_eq!(a.all().last().unwrap(), "/etcdserverpb.KV/Txn");
    assert_eq!(b.all(), Vec::<String>::new());
}

// ----------------------------------------------------------------------------------- ZooKeeper

/// A fake ZooKeeper server: it grants a session to every connect request, answers pings, and
/// drops any other request unanswered with the connection.
async fn fake_zookeeper(seen: Seen) -> u16 {
    fake(move |mut tcp| {
        let seen = seen.clone();
        async move {
            let mut first = true;
            loop {
                let Ok(len) = tcp.read_i32().await else {
                    return; // the reachability probe, or the client went away
                };
                let mut body = vec![0u8; usize::try_from(len).unwrap_or(0)];
                if tcp.read_exact(&mut body).await.is_err() {
                    return;
                }
                let mut answer = Vec::new();
                if first {
                    first = false;
                    seen.push("connect");
                    answer.extend_from_slice(&0i32.to_be_bytes()); // protocol version
                    answer.extend_from_slice(&10_000i32.to_be_bytes()); // session timeout
                    answer.extend_from_slice(&1i64.to_be_bytes()); // session id
                    answer.extend_from_slice(&16i32.to_be_bytes());
                    answer.extend_from_slice(&[0u8; 16]); // password
                    answer.push(0); // not read-only
                } else {
                    let op = i32::from_be_bytes(body[4..8].try_into().unwrap());
                    if op != 11 {
                        seen.push(format!("op {op}"));
                        return;
                    }
                    answer.extend_from_slice(&(-2i32).to_be_bytes()); // ping xid
                    answer.extend_from_slice(&0i64.to_be_bytes());
                    answer.extend_from_slice(&0i32.to_be_bytes());
                }
                let len = i32::try_from(answer.len()).unwrap();
                let mut framed = len.to_be_bytes().to_vec();
                framed.extend_from_slice(&answer);
                if tcp.write_all(&framed).await.is_err() {
                    return;
                }
            }
        }
    })
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn zookeeper_not_sent_moves_on_and_maybe_sent_write_is_unknown() {
    let (a, b) = (Seen::default(), Seen::default());
    let (pa, pb) = (
        fake_zookeeper(a.clone()).await,
        fake_zookeeper(b.clone()).await,
    );
    let host = |p: u16| format!("127.0.0.1:{p}");

    // Refused (not sent): the next server is asked, and grants a session.
    let s = settings(
        DcsKind::Zookeeper,
        vec![host(closed_port()), host(pa)],
        false,
    );
    let kv = ZooKeeper::connect(&s).await.unwrap();
    assert_eq!(a.all(), ["connect"]);
    assert_eq!(kv.describe(), format!("ZooKeeper at {}", host(pa)));

    // The write (setData, op 5) reached the first server, which dropped it: exit 5, never repeated.
    let s = settings(DcsKind::Zookeeper, vec![host(pa), host(pb)], false);
    let mut kv = ZooKeeper::connect(&s).await.unwrap();
    let e = kv
        .put("/service/demo/config", "{}", Expect::At(Version::new(5)))
        .await
        .unwrap_err();
    assert_eq!(e.exit, Exit::Unknown, "{}", e.message);
    assert!(a.all().contains(&"op 5".to_string()), "{:?}", a.all());
    assert_eq!(b.all(), Vec::<String>::new());
}

// ------------------------------------------------------------------------------------------ TLS

/// A server that offers a self-signed certificate for `localhost` (no CA trusts it) and then
/// nothing: the TLS handshake of a client that verifies it fails.
async fn fake_untrusted_tls() -> u16 {
    use openssl::{asn1::Asn1Time, bn::BigNum, hash::MessageDigest, pkey::PKey, rsa::Rsa};
    use openssl::{ssl, x509};
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "localhost").unwrap();
    let name = name.build();
    let mut cert = x509::X509::builder().unwrap();
    cert.set_version(2).unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&key).unwrap();
    cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    cert.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    let serial = BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap();
    cert.set_serial_number(&serial).unwrap();
    cert.sign(&key, MessageDigest::sha256()).unwrap();
    let mut acceptor =
        ssl::SslAcceptor::mozilla_intermediate(ssl::SslMethod::tls_server()).unwrap();
    acceptor.set_private_key(&key).unwrap();
    acceptor.set_certificate(&cert.build()).unwrap();
    let acceptor = Arc::new(acceptor.build());
    fake(move |tcp| {
        let acceptor = acceptor.clone();
        async move {
            let ssl = ssl::Ssl::new(acceptor.context()).unwrap();
            let mut stream = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
            let _ = std::pin::Pin::new(&mut stream).accept().await;
        }
    })
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_certificate_is_named_in_the_error_its_hint_and_causes() {
    let port = fake_untrusted_tls().await;
    let endpoint = format!("https://127.0.0.1:{port}");
    for kind in [DcsKind::Etcd3, DcsKind::Etcd2] {
        let s = settings(kind, vec![endpoint.clone()], true);
        let e = match kind {
            DcsKind::Etcd3 => Etcd3::connect(&s).await.err().unwrap(),
            _ => {
                let mut kv = Etcd2::connect(&s).await.unwrap();
                kv.read_prefix("/service/demo/").await.unwrap_err()
            }
        };
        assert_eq!(e.exit, Exit::Unreachable, "{kind:?}: {}", e.message);
        let problem = "TLS certificate error: certificate verify failed: self-signed certificate";
        assert_eq!(
            e.message,
            format!("DCS unreachable at {endpoint} ({problem})"),
            "{kind:?}"
        );
        let hint = e.hint.clone().unwrap_or_default();
        assert!(
            hint.starts_with(&format!(
                "tried {endpoint} ({problem}); check the DCS certificate"
            )),
            "{kind:?}: {hint}"
        );
        let causes = crate::error::causes(&e);
        assert!(
            causes[1].starts_with(&format!("{endpoint}: ")) && causes[1].contains("self-signed"),
            "{kind:?}: {causes:?}"
        );
    }
}
