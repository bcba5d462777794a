//! Run the built `patctl` and the real `patronictl` as processes (bounded, with their output and exit
//! code), and skip a test whose tool is not installed. Shared by the sandbox tests (`tests/cli`, through
//! `common`) and the tests that need no sandbox (`tests/offline`).

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// What a command printed and how it exited.
#[derive(Debug, Clone)]
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Out {
    /// Assert the exit code, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Whether a missing sandbox must fail the tests that need it instead of skipping them: under CI
/// (`CI` set) or when `PATCTL_REQUIRE_SANDBOX` is set, so they never pass silently where it is expected.
pub fn sandbox_required() -> bool {
    ["CI", "PATCTL_REQUIRE_SANDBOX"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// Whether a test can run: `present` says whether what it needs (`what`) is there. When it is not,
/// the test is skipped with one line on stderr (written past libtest's capture so that it shows), or
/// fails when the sandbox is required ([`sandbox_required`]). Use as `if !needs(…) { return; }`.
#[track_caller]
pub fn needs(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    assert!(
        !sandbox_required(),
        "{test} needs {what}, and CI or PATCTL_REQUIRE_SANDBOX says it must be there"
    );
    let _ = writeln!(std::io::stderr(), "skipped: {test} needs {what}");
    false
}

/// Whether `program` runs here (installed by `sandbox/cluster.sh install`); see [`needs`].
#[track_caller]
pub fn installed(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    needs(
        &format!("{program} (bash sandbox/cluster.sh install)"),
        found,
    )
}

pub fn run(
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
    envs: &[(&str, &str)],
    timeout: Duration,
) -> Out {
    run_cmd(Command::new(program), program, args, stdin, envs, timeout)
}

/// Run `program ARGS` configured by `envs` alone: every inherited `PATRONI_*`, `PG*` and `PATCTL_*`
/// variable is removed first, so the settings under test are exactly the given ones.
pub fn run_isolated(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Out {
    run_cmd(
        isolated(program),
        program,
        args,
        None,
        envs,
        Duration::from_secs(90),
    )
}

/// `program` without any inherited `PATRONI_*`, `PG*` and `PATCTL_*` variable.
pub fn isolated(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for (k, _) in std::env::vars() {
        if k.starts_with("PATRONI_") || k.starts_with("PG") || k.starts_with("PATCTL_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

pub fn run_cmd(
    mut cmd: Command,
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
    envs: &[(&str, &str)],
    timeout: Duration,
) -> Out {
    cmd.args(args)
        .env_remove("PATRONICTL_CONFIG_FILE")
        .env_remove("DCS_URL")
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let late = |out: Out| -> ! {
        panic!(
            "{program} {args:?} did not finish within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        )
    };
    if let Some(served) = crate::fork_server::served(program, &cmd, stdin, timeout) {
        return served.unwrap_or_else(|out| late(out));
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    if let Some(input) = stdin {
        let mut sin = child.stdin.take().unwrap();
        let input = input.to_string();
        std::thread::spawn(move || {
            let _ = sin.write_all(input.as_bytes());
        });
    }
    // Output is read while the child runs (a full pipe would stall it), on a thread of its own.
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let to_out = |out: std::process::Output| Out {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    };
    match rx.recv_timeout(timeout) {
        Ok(out) => to_out(out.unwrap()),
        Err(_) => {
            // SAFETY: kill(2) on the child's PID, which is not reaped until the thread's wait.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            late(to_out(rx.recv().unwrap().unwrap()))
        }
    }
}

/// Run patctl with the given arguments (no config added).
pub fn patctl_raw(args: &[&str], stdin: Option<&str>, envs: &[(&str, &str)]) -> Out {
    Tool::Patctl.run(args, stdin, envs)
}

/// Path of the real patronictl.
pub fn patronictl_bin() -> String {
    std::env::var("PATRONICTL").unwrap_or_else(|_| "/opt/patroni-venv/bin/patronictl".to_string())
}

/// Run the real `patronictl ARGS` (no config added), bounded like [`patronictl`].
pub fn patronictl_raw(args: &[&str], envs: &[(&str, &str)]) -> Out {
    Tool::Patronictl.run(args, None, envs)
}

/// Run the real `patronictl ARGS` (no config added) with stdin.
pub fn patronictl_raw_stdin(args: &[&str], stdin: &str) -> Out {
    Tool::Patronictl.run(args, Some(stdin), &[])
}

/// One of the two tools under comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Patctl,
    Patronictl,
}

impl Tool {
    /// The program to run.
    pub fn bin(self) -> String {
        match self {
            Tool::Patctl => env!("CARGO_BIN_EXE_patctl").to_string(),
            Tool::Patronictl => patronictl_bin(),
        }
    }

    /// Run this tool with exactly `args` (no config added), bounded like [`patronictl`].
    pub fn run(self, args: &[&str], stdin: Option<&str>, envs: &[(&str, &str)]) -> Out {
        run(&self.bin(), args, stdin, envs, Duration::from_secs(60))
    }
}

/// A config file written by a test under `target/tmp` (nothing piles up in /tmp), private: copies of
/// the sandbox's configuration hold passwords, and patctl refuses those when others can read them.
pub fn scratch_file(name: &str, text: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dcs-test");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    path.to_string_lossy().into_owned()
}

/// Run `check` on every case at once, a thread each: for cases that mostly wait (a Python that
/// starts, a timeout that runs out). A failing case fails the test once all have ended.
pub fn each_in_parallel<T: Sync>(cases: &[T], check: impl Fn(&T) + Sync) {
    std::thread::scope(|threads| {
        for case in cases {
            let check = &check;
            threads.spawn(move || check(case));
        }
    });
}
