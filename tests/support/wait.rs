//! Bounded waits on an observable condition, for the handshakes between a test and the command it
//! runs (a request seen, a client watching, a member's state): never a fixed sleep that hopes the
//! other side is ready.

#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Poll `check` every `every` until it holds; fails naming `what` when it does not within `timeout`.
#[track_caller]
pub fn poll_until(what: &str, timeout: Duration, every: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {what} (not within {timeout:?})"
        );
        // The poll interval, not a wait for the other side.
        std::thread::sleep(every);
    }
}

/// [`poll_until`] for in-process fakes: within 10 s, every 5 ms.
#[track_caller]
pub fn soon(what: &str, check: impl FnMut() -> bool) {
    poll_until(
        what,
        Duration::from_secs(10),
        Duration::from_millis(5),
        check,
    );
}
