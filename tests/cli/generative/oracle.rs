//! Writing a generated case into the sandbox etcd under a scratch namespace in one transaction
//! (etcd's JSON gateway, so any bytes go in as they are). patronictl runs on it through the fork
//! server of `tests/support/fork_server.rs`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::gen::Case;
use crate::common::etcd_url;

fn b64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// POST a JSON body to the etcd v3 gateway.
fn gateway(path: &str, body: &Value) {
    let url = format!("{}/v3/{path}", etcd_url());
    let out = Command::new("curl")
        .args([
            "-sS",
            "-f",
            "-m",
            "20",
            "-X",
            "POST",
            "--data-binary",
            "@-",
            &url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(body.to_string().as_bytes())?;
            c.wait_with_output()
        })
        .expect("curl");
    assert!(
        out.status.success(),
        "etcd gateway {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Delete every key under `prefix`.
pub fn clear(prefix: &str) {
    let mut end = prefix.as_bytes().to_vec();
    *end.last_mut().unwrap() += 1;
    gateway(
        "kv/deleterange",
        &json!({"key": b64(prefix.as_bytes()), "range_end": b64(&end)}),
    );
}

/// Replace whatever is under `prefix` (`/<ns>/<scope>/`) with the case's keys, in one transaction.
pub fn write(prefix: &str, case: &Case) {
    clear(prefix);
    let mut puts = Vec::new();
    for (g, keys) in &case.groups {
        let base = if case.citus {
            format!("{prefix}{g}/")
        } else {
            prefix.to_string()
        };
        for (k, v) in keys {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            puts.push(
                json!({"requestPut": {"key": b64(format!("{base}{k}").as_bytes()),
                "value": b64(text.as_bytes())}}),
            );
        }
    }
    if !puts.is_empty() {
        gateway("kv/txn", &json!({"success": puts}));
    }
}
