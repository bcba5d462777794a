//! patronictl without its start-up: a Python process imports `patroni.ctl` once, then forks a child
//! per command, which runs patronictl's own entry point (`ctl()`) with the command's argv, its whole
//! environment, stdin from a file (or /dev/null) and stdout/stderr on files, and exits with the code
//! the interpreter would: an uncaught exception prints its traceback and gives 1. The same code and
//! output as running `patronictl ARGS`, without about 0.6 s of CPU for the interpreter and its imports
//! per call, which on two cores is what the whole suite waits on.
//!
//! Only the default patronictl is served, and only when nothing Python reads at start-up differs from
//! the server's environment (`HOME`, `TZ`, locale, `PYTHON*`); anything else runs the program itself.
//! A child that runs past the call's timeout dies by SIGALRM, which the caller reports as the direct
//! run's timeout. Idle servers are kept in a pool, one per test running at once.
//! `PATCTL_TEST_FORKSERVER=0` runs patronictl itself every time.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::Out;

const SERVER: &str = r#"
import json, os, signal, sys, traceback
from patroni.ctl import ctl
# Modules patronictl imports on first use, imported once here so that each child starts warm.
import patroni.dcs.etcd3, patroni.dcs.etcd, patroni.dcs.zookeeper, prettytable, wcwidth, dateutil.parser, yaml
proto_in, proto_out = os.fdopen(os.dup(0), "r"), os.fdopen(os.dup(1), "w")
for line in proto_in:
    req = json.loads(line)
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        proto_in.close(); proto_out.close()
        signal.alarm(req["timeout"])
        os.environ.clear(); os.environ.update(req["env"])
        fd = os.open(req["stdin"], os.O_RDONLY)
        out = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 0); os.dup2(out, 1); os.dup2(err, 2)
        os.close(fd); os.close(out); os.close(err)
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

/// The patronictl the servers run: the Patroni venv's.
const PATRONICTL: &str = "/opt/patroni-venv/bin/patronictl";
const PYTHON: &str = "/opt/patroni-venv/bin/python3";

/// What Python (or a module at import) reads from the environment when it starts: a call that sets
/// any of these differently from the test process runs patronictl itself.
fn read_at_start(name: &str) -> bool {
    matches!(
        name,
        "HOME" | "XDG_CONFIG_HOME" | "TZ" | "LANG" | "TERM" | "COLUMNS"
    ) || name.starts_with("LC_")
        || name.starts_with("PYTHON")
}

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

static IDLE: Mutex<Vec<Server>> = Mutex::new(Vec::new());

impl Server {
    fn start() -> Server {
        let mut child = Command::new(PYTHON)
            .args(["-c", SERVER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {PYTHON}: {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Server {
            child,
            stdin,
            stdout,
        }
    }

    /// One request; `None` when the server died (the caller runs patronictl itself).
    fn call(&mut self, req: &serde_json::Value) -> Option<i32> {
        writeln!(self.stdin, "{req}").ok()?;
        self.stdin.flush().ok()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line).ok()?;
        serde_json::from_str(line.trim()).ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `cmd` (a `Command` for `program` with its arguments and environment set) through a fork
/// server; `None` when it cannot be served that way. `Err(out)` when it ran past `timeout`.
pub fn run(
    program: &str,
    cmd: &Command,
    stdin: Option<&str>,
    timeout: Duration,
) -> Option<Result<Out, Out>> {
    let off = std::env::var("PATCTL_TEST_FORKSERVER").is_ok_and(|v| v == "0");
    if off || program != PATRONICTL || !std::path::Path::new(PYTHON).exists() {
        return None;
    }
    let mut env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    for (k, v) in cmd.get_envs() {
        let k = k.to_string_lossy().into_owned();
        if read_at_start(&k)
            && v.map(|v| v.to_string_lossy()) != std::env::var(&k).ok().map(Into::into)
        {
            return None;
        }
        match v {
            Some(v) => env.insert(k, v.to_string_lossy().into_owned()),
            None => env.remove(&k),
        };
    }
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let dir = tempfile_dir();
    let (out, err, input) = (dir.join("out"), dir.join("err"), dir.join("in"));
    let stdin_path = match stdin {
        Some(text) => {
            std::fs::write(&input, text).unwrap();
            input.display().to_string()
        }
        None => "/dev/null".to_string(),
    };
    let req = serde_json::json!({
        "args": args, "env": env, "stdin": stdin_path, "out": out, "err": err,
        "timeout": timeout.as_secs().max(1),
    });
    let mut server = IDLE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop()
        .unwrap_or_else(Server::start);
    let code = server.call(&req)?;
    IDLE.lock().unwrap_or_else(|e| e.into_inner()).push(server);
    let read = |p: &std::path::Path| {
        String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned()
    };
    let result = Out {
        stdout: read(&out),
        stderr: read(&err),
        code,
    };
    let _ = std::fs::remove_dir_all(&dir);
    // SIGALRM: the child ran past the timeout.
    Some(if code == -14 { Err(result) } else { Ok(result) })
}

/// A fresh directory for one call's files.
fn tempfile_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "patctl-forkserver-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
