//! A Python console script run as a fork server, as the oracle of the tests that compare with
//! patronictl or check_patroni many times: one Python imports the script's entry point once, then
//! forks a child per command which runs that entry point with the command's argv (`argv[0]` the
//! script's name), stdout and stderr on files, and exits with its exit code, an uncaught exception
//! printing its traceback and giving 1 as the interpreter does. Same code, same output as running
//! the script, without a second of interpreter start-up and imports per command. Used by the
//! generative test (`tests/cli/generative`) and the offline usage-error tests, and by every
//! `patronictl` run of the tests ([`served`]: a pool of servers, one per test running at once).
//!
//! A request may carry the child's whole environment, a file for its stdin (else /dev/null) and a
//! timeout: a child past it dies by SIGALRM (exit -14), so a DCS gone away fails a case instead of
//! hanging the suite.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use serde_json::json;

use crate::process::{isolated, Out};

const SERVER: &str = r#"
import importlib, json, os, signal, sys, traceback
module, function, prog, warm = json.loads(sys.argv[1])
entry = getattr(importlib.import_module(module), function)
# Modules the script imports on first use, imported once here so that each child starts warm.
for name in warm:
    importlib.import_module(name)
proto_in, proto_out = sys.stdin, os.fdopen(os.dup(1), "w")
for line in proto_in:
    req = json.loads(line)
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        signal.alarm(req.get("timeout", 60))
        if "env" in req:
            os.environ.clear(); os.environ.update(req["env"])
        fd = os.open(req.get("stdin", "/dev/null"), os.O_RDONLY)
        out = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 0); os.dup2(out, 1); os.dup2(err, 2)
        sys.argv = [prog] + req["args"]
        code = 0
        try:
            entry()
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

/// A console script's entry point: what the script itself runs.
pub struct Script<'a> {
    /// The Python of the script's venv.
    pub python: &'a str,
    /// The module and the function in it the script calls (`patroni.ctl`, `ctl`).
    pub entry: (&'a str, &'a str),
    /// The script's name, its children's `argv[0]` (click names itself after it).
    pub prog: &'a str,
    /// Modules to import before the first fork.
    pub warm: &'a [&'a str],
}

/// patronictl 4.1.5 of the Patroni venv, with `python` (`/opt/patroni-venv/bin/python3`).
pub fn patronictl_script(python: &str) -> Script<'_> {
    Script {
        python,
        entry: ("patroni.ctl", "ctl"),
        prog: "patronictl",
        warm: &[
            "patroni.dcs.etcd3",
            "patroni.dcs.etcd",
            "prettytable",
            "wcwidth",
            "dateutil.parser",
            "yaml",
        ],
    }
}

/// The Python named by the `#!` line of the console script `name` (found on PATH, or a path).
pub fn python_of(name: &str) -> String {
    let path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("#!"))
        .unwrap_or_else(|| panic!("{} is not a Python script", path.display()))
        .trim()
        .to_string()
}

/// The fork server (see the module doc); stopped when dropped.
pub struct ForkServer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    dir: PathBuf,
}

impl ForkServer {
    /// Start the server for `script`, its commands' output files in `dir` (created). The
    /// environment is isolated as `process::run_isolated` does, without `PATRONICTL_CONFIG_FILE`
    /// and `DCS_URL`, with `NO_COLOR=1`.
    pub fn start(script: &Script, dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let setup = json!([script.entry.0, script.entry.1, script.prog, script.warm]).to_string();
        let mut child = isolated(script.python)
            .args(["-c", SERVER, &setup])
            .env_remove("PATRONICTL_CONFIG_FILE")
            .env_remove("DCS_URL")
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.python));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        ForkServer {
            child,
            stdin,
            stdout,
            dir: dir.to_path_buf(),
        }
    }

    /// `SCRIPT ARGS` (stdin /dev/null, at most 60 s).
    pub fn run<S: AsRef<str>>(&mut self, args: &[S]) -> Out {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        self.call(json!({"args": args}))
            .unwrap_or_else(|| panic!("fork server died"))
    }

    /// One request (`args` and what else the server takes); `None` when the server died.
    fn call(&mut self, mut req: serde_json::Value) -> Option<Out> {
        let (out, err) = (self.dir.join("p.out"), self.dir.join("p.err"));
        req["out"] = json!(out);
        req["err"] = json!(err);
        writeln!(self.stdin, "{req}").ok()?;
        self.stdin.flush().ok()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line).ok()?;
        let code: i32 = serde_json::from_str(line.trim()).ok()?;
        let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
        Some(Out {
            stdout: read(&out),
            stderr: read(&err),
            code,
        })
    }
}

impl Drop for ForkServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What Python (or a module at import) reads from the environment as it starts: a run that sets
/// any of these otherwise than the test process runs the program itself.
fn read_at_start(name: &str) -> bool {
    matches!(
        name,
        "HOME" | "XDG_CONFIG_HOME" | "TZ" | "LANG" | "TERM" | "COLUMNS"
    ) || name.starts_with("LC_")
        || name.starts_with("PYTHON")
}

/// Idle patronictl servers, each with a directory of its own.
static IDLE: std::sync::Mutex<Vec<ForkServer>> = std::sync::Mutex::new(Vec::new());

/// Run `cmd` (patronictl with its arguments and environment set) through a pooled fork server:
/// `None` when it cannot be served that way (another program, `PATCTL_TEST_FORKSERVER=0`, or a
/// variable read at start-up set otherwise); `Err(out)` when it ran past `timeout`.
pub fn served(
    program: &str,
    cmd: &std::process::Command,
    stdin: Option<&str>,
    timeout: std::time::Duration,
) -> Option<Result<Out, Out>> {
    const PATRONICTL: &str = "/opt/patroni-venv/bin/patronictl";
    const PYTHON: &str = "/opt/patroni-venv/bin/python3";
    let off = std::env::var("PATCTL_TEST_FORKSERVER").is_ok_and(|v| v == "0");
    if off || program != PATRONICTL || !Path::new(PYTHON).exists() {
        return None;
    }
    let mut env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    for (k, v) in cmd.get_envs() {
        let (k, v) = (k.to_string_lossy(), v.map(|v| v.to_string_lossy()));
        if read_at_start(&k) && v.as_deref() != std::env::var(&*k).ok().as_deref() {
            return None;
        }
        match v {
            Some(v) => env.insert(k.into_owned(), v.into_owned()),
            None => env.remove(&*k),
        };
    }
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut server = IDLE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop()
        .unwrap_or_else(|| {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "patctl-fork-server-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            ForkServer::start(&patronictl_script(PYTHON), &dir)
        });
    let mut req = json!({"args": args, "env": env, "timeout": timeout.as_secs().max(1)});
    if let Some(text) = stdin {
        let input = server.dir.join("p.in");
        std::fs::write(&input, text).unwrap();
        req["stdin"] = json!(input);
    }
    let out = server.call(req)?;
    IDLE.lock().unwrap_or_else(|e| e.into_inner()).push(server);
    // SIGALRM: past the timeout.
    Some(if out.code == -14 { Err(out) } else { Ok(out) })
}
