//! A fake Patroni REST API on 127.0.0.1, shared by the integration tests (`tests/cli`, for error
//! paths) and the hermetic command tests (`tests/hermetic`, as the members' REST API): it answers
//! requests in turn or by route, and records each request, head and body, as text.

#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the fake Patroni REST API does with one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// Answer with this status and body.
    Status(u16, &'static str),
    /// Write these bytes as the whole answer (for garbage).
    Raw(&'static str),
    /// Accept and never answer.
    Hang,
}

/// A running fake REST API. Its threads live until the test process ends.
#[derive(Clone)]
pub struct FakeApi {
    /// The port it listens on.
    pub port: u16,
    /// Every request seen, in order.
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl FakeApi {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests seen as `METHOD /path body`.
    pub fn requests(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                let (head, body) = r.split_once("\r\n\r\n").unwrap_or((r, ""));
                let line = head.lines().next().unwrap_or_default();
                let target = line.rsplit_once(' ').map_or(line, |(t, _)| t);
                format!("{target} {body}")
            })
            .collect()
    }

    /// Wait (bounded) until a request starting with `what` (`"PATCH /config"`) has come: the moment
    /// a fake Patroni acts on it, as the real one does after the request.
    #[track_caller]
    pub fn wait_for_request(&self, what: &str) {
        crate::wait::soon(&format!("a {what} request"), || {
            self.requests().iter().any(|r| r.starts_with(what))
        });
    }
}

/// Start a [`FakeApi`] answering requests in turn with the given replies (the last one repeats).
pub fn fake_api(replies: &[Reply]) -> FakeApi {
    let replies = replies.to_vec();
    serve(move |i, _| replies[i.min(replies.len() - 1)])
}

/// Start a [`FakeApi`] answering by route: the first `("METHOD /path", reply)` whose text starts the
/// request line answers; anything else gets a 404.
pub fn fake_api_routes(routes: &[(&'static str, Reply)]) -> FakeApi {
    let routes = routes.to_vec();
    serve(move |_, request| {
        routes
            .iter()
            .find(|(route, _)| {
                request.starts_with(&format!("{route} "))
                    || request.starts_with(&format!("{route}?"))
            })
            .map_or(Reply::Status(404, "not found"), |(_, r)| *r)
    })
}

fn serve(pick: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) -> FakeApi {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let pick = Arc::new(pick);
    std::thread::spawn(move || {
        for (i, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { return };
            let log = log.clone();
            let pick = pick.clone();
            std::thread::spawn(move || {
                let request = read_request(&mut conn);
                let reply = pick(i, &request);
                log.lock().unwrap().push(request);
                let answer = match reply {
                    Reply::Hang => {
                        // Hanging is the reply under test: the client's own timeout must end it.
                        std::thread::sleep(Duration::from_secs(120));
                        return;
                    }
                    Reply::Raw(raw) => raw.to_string(),
                    Reply::Status(code, body) => format!(
                        "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                };
                let _ = conn.write_all(answer.as_bytes());
            });
        }
    });
    FakeApi { port, seen }
}

/// Read one HTTP request (head, then a Content-Length body) so that the answer never races the
/// client's upload into a connection reset.
pub fn read_request(conn: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return text;
            }
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&buf).to_string(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
