//! A Python console script run as a fork server, as the oracle of the tests that compare with
//! patronictl or check_patroni many times: one Python imports the script's entry point once, then
//! forks a child per command which runs that entry point with the command's argv (`argv[0]` the
//! script's name), stdout and stderr on files, and exits with its exit code, an uncaught exception
//! printing its traceback and giving 1 as the interpreter does. Same code, same output as running
//! the script, without a second of interpreter start-up and imports per command. Used by the
//! generative test (`tests/cli/generative`) and the offline usage-error tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use serde_json::json;

use crate::process::{isolated, Out};

const SERVER: &str = r#"
import importlib, json, os, sys, traceback
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
        out = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1); os.dup2(err, 2)
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

    /// `SCRIPT ARGS`.
    pub fn run<S: AsRef<str>>(&mut self, args: &[S]) -> Out {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let (out, err) = (self.dir.join("p.out"), self.dir.join("p.err"));
        let req = json!({"args": args, "out": out, "err": err});
        writeln!(self.stdin, "{req}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let code: i32 = serde_json::from_str(line.trim())
            .unwrap_or_else(|_| panic!("fork server died ({line:?})"));
        let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
        Out {
            stdout: read(&out),
            stderr: read(&err),
            code,
        }
    }
}

impl Drop for ForkServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
