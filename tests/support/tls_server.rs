//! A throw-away TLS server on a loopback port (`openssl s_server -www`) and self-signed certificates
//! made with `openssl req`, for the tests of TLS refusals and of `doctor`'s certificate checks.

#![allow(dead_code)]

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::fake_api::closed_port;

/// `openssl s_server -www` on a loopback port with a self-signed certificate.
pub struct SelfSigned {
    pub port: u16,
    child: std::process::Child,
}

impl SelfSigned {
    pub fn start(cert: &str, key: &str) -> SelfSigned {
        let port = closed_port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-cert", cert, "-key", key])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "openssl s_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        SelfSigned { port, child }
    }
}

impl Drop for SelfSigned {
    fn drop(&mut self) {
        if let Some(stdin) = self.child.stdin.as_mut() {
            let _ = stdin.write_all(b"Q\n");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate for `san` valid for `days` days, written to `dir`.
pub fn certificate(dir: &std::path::Path, name: &str, san: &str, days: &str) -> (String, String) {
    let cert = dir.join(format!("{name}.crt")).display().to_string();
    let key = dir.join(format!("{name}.key")).display().to_string();
    let ok = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", days,
        ])
        .args(["-subj", &format!("/CN={name}"), "-addext"])
        .arg(format!("subjectAltName={san}"))
        .args(["-keyout", &key, "-out", &cert])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    (cert, key)
}
