//! Python's renderings of an aware `datetime`: `isoformat()` (what patronictl sends and stores for a
//! schedule) and `str()` (what it prints in prompts).

use chrono::{DateTime, FixedOffset};

/// Python's `datetime.isoformat()` of an aware datetime.
pub fn isoformat(t: &DateTime<FixedOffset>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string()
    }
}

/// Python's `str(datetime)` of an aware datetime: like isoformat with a space.
pub fn py_str(t: &DateTime<FixedOffset>) -> String {
    isoformat(t).replacen('T', " ", 1)
}
