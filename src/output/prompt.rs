//! Questions asked the way click asks them: the prompt is written, then one whole line is read in the
//! terminal's own line mode (so `yes⏎`, `y⏎`, `n⏎` and an empty line all work, and the answered line
//! stays on screen as typed). Ctrl-C or end of input aborts with `Aborted!` (exit 1) and leaves the
//! terminal as it was. Hidden input follows Python's `getpass`: from `/dev/tty` with echo off when
//! there is one, else from stdin after `Warning: Password input may be echoed.` on stderr.
//!
//! Nothing here switches the terminal to raw mode: click reads with `input()`, and a raw-mode widget
//! answers on the first key (`y` of `yes`), leaving the rest for the shell.

use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Why no line was read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NoLine {
    /// End of input before any character (Ctrl-D on an empty line, a closed pipe).
    Eof,
    /// Ctrl-C (SIGINT) while waiting.
    Interrupted,
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Catches SIGINT while a prompt waits, and puts the previous disposition back when dropped.
struct SigintGuard {
    old: libc::sigaction,
}

impl SigintGuard {
    fn install() -> SigintGuard {
        INTERRUPTED.store(false, Ordering::SeqCst);
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; the handler only stores
        // to an atomic, which is async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGINT, &sa, &mut old);
            SigintGuard { old }
        }
    }
}

impl Drop for SigintGuard {
    fn drop(&mut self) {
        // SAFETY: restores the disposition saved by `install`.
        unsafe {
            libc::sigaction(libc::SIGINT, &self.old, std::ptr::null_mut());
        }
    }
}

/// Read one line from `fd`, a byte at a time so that nothing after the newline is consumed (the next
/// prompt, or a later `-`, gets it). The trailing `\n`/`\r\n` is removed; a last line without a newline
/// counts. Waits in short polls, so a Ctrl-C delivered to any thread of the process ends the wait.
pub(crate) fn read_line(fd: RawFd) -> Result<String, NoLine> {
    let _guard = SigintGuard::install();
    let mut line = Vec::new();
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Err(NoLine::Interrupted);
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let step = Duration::from_millis(100).as_millis() as libc::c_int;
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, step) };
        if ready <= 0 {
            continue; // timeout or EINTR: look at the flag again
        }
        let mut byte = 0u8;
        // SAFETY: reads at most one byte into a valid buffer.
        let n = unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) };
        match n {
            1 if byte == b'\n' => break,
            1 => line.push(byte),
            0 if line.is_empty() => return Err(NoLine::Eof),
            0 => break,
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => return Err(NoLine::Eof),
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Turns the terminal's echo off while alive, and back on (exactly as it was) when dropped.
struct EchoOff {
    fd: RawFd,
    saved: libc::termios,
}

impl EchoOff {
    fn new(fd: RawFd) -> Option<EchoOff> {
        // SAFETY: tcgetattr/tcsetattr on a descriptor we own, with a termios it filled in.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut saved) != 0 {
                return None;
            }
            let mut quiet = saved;
            quiet.c_lflag &= !libc::ECHO;
            if libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) != 0 {
                return None;
            }
            Some(EchoOff { fd, saved })
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: puts back the attributes read in `new`.
        unsafe {
            libc::tcsetattr(self.fd, libc::TCSAFLUSH, &self.saved);
        }
    }
}

/// Python's `getpass(prompt)`: on the controlling terminal with echo off when `/dev/tty` opens, else
/// (no terminal) the warning and the prompt on stderr and the answer from stdin.
pub(crate) fn getpass(prompt: &str) -> Result<String, NoLine> {
    if let Ok(mut tty) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    {
        let fd = tty.as_raw_fd();
        if let Some(echo) = EchoOff::new(fd) {
            let _ = tty.write_all(prompt.as_bytes());
            let _ = tty.flush();
            let answer = read_line(fd);
            drop(echo);
            // As getpass: the newline the hidden answer did not echo; an abort leaves the cursor
            // after the prompt (click then ends the line on stdout).
            if answer.is_ok() {
                let _ = tty.write_all(b"\n");
            }
            return answer;
        }
    }
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "Warning: Password input may be echoed.\n{prompt}");
    let _ = stderr.flush();
    read_line(std::io::stdin().as_raw_fd())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipe_with(bytes: &[u8]) -> RawFd {
        let mut fds = [0; 2];
        // SAFETY: a fresh pipe; the write end is closed after writing so reads see end of input.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            let n = libc::write(fds[1], bytes.as_ptr().cast(), bytes.len());
            assert_eq!(n as usize, bytes.len());
            libc::close(fds[1]);
        }
        fds[0]
    }

    #[test]
    fn lines_are_read_one_at_a_time_and_end_of_input_aborts() {
        let fd = pipe_with(b"yes\r\n\nlast");
        assert_eq!(read_line(fd), Ok("yes".to_string()));
        assert_eq!(read_line(fd), Ok(String::new()));
        assert_eq!(read_line(fd), Ok("last".to_string()));
        assert_eq!(read_line(fd), Err(NoLine::Eof));
        // SAFETY: closes the read end opened above.
        unsafe { libc::close(fd) };
    }
}
