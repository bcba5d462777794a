//! Running the two tools on a generated case: the case is written into the sandbox etcd under a
//! scratch namespace in one transaction (etcd's JSON gateway, so any bytes go in as they are), and
//! patronictl runs through a fork server: one Python process imports `patroni.ctl` once, then forks a
//! child per command which runs patronictl's own entry point (`ctl()`) with the command's argv,
//! stdout and stderr on files, and exits with its exit code, an uncaught exception printing its
//! traceback and giving 1 as the interpreter does. Same code, same output as `patronictl ARGS`,
//! without a second of interpreter start-up and imports per command. A child that runs over 60 s
//! is killed (exit -14), so a DCS gone away fails the case instead of hanging the suite.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

use super::gen::Case;
use crate::common::{etcd_url, Out};

const SERVER: &str = r#"
import json, os, signal, sys, traceback
from patroni.ctl import ctl
# Modules patronictl imports on first use, imported once here so that each child starts warm.
import patroni.dcs.etcd3, patroni.dcs.etcd, prettytable, wcwidth, dateutil.parser, yaml
proto_in, proto_out = sys.stdin, os.fdopen(os.dup(1), "w")
for line in proto_in:
    req = json.loads(line)
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        # Bounded: a patronictl that hangs (a DCS gone) dies by SIGALRM, reported as exit -14.
        signal.alarm(60)
        out = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1); os.dup2(err, 2)
        sys.argv = ["patronictl"] + req["args"]
        code = 0
        try:
            ctl()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if e.code is not None and not isinstance(e.code, int):
                sys.stderr.write(str(e.code) + "\n")
        except BaseException:
            traceback.print_exc()
            code = 1
        try:
            sys.stdout.flush(); sys.stderr.flush()
        except Exception:
            code = 120
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    proto_out.write(json.dumps(os.waitstatus_to_exitcode(status)) + "\n")
    proto_out.flush()
"#;

/// The patronictl fork server (see the module doc).
pub struct Patronictl {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    dir: std::path::PathBuf,
}

impl Patronictl {
    /// Start the server with the Patroni venv's Python (`PATCTL_PYTHON`).
    pub fn start(python: &str, dir: &std::path::Path) -> Self {
        let mut child = Command::new(python)
            .args(["-c", SERVER])
            .env_remove("PATRONICTL_CONFIG_FILE")
            .env_remove("DCS_URL")
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Patronictl {
            child,
            stdin,
            stdout,
            dir: dir.to_path_buf(),
        }
    }

    /// `patronictl ARGS`.
    pub fn run(&mut self, args: &[String]) -> Out {
        let (out, err) = (self.dir.join("p.out"), self.dir.join("p.err"));
        let req = json!({"args": args, "out": out, "err": err});
        writeln!(self.stdin, "{req}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let code: i32 = serde_json::from_str(line.trim())
            .unwrap_or_else(|_| panic!("patronictl fork server died ({line:?})"));
        let read =
            |p: &std::path::Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
        Out {
            stdout: read(&out),
            stderr: read(&err),
            code,
        }
    }
}

impl Drop for Patronictl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
