//! Python's renderings of an aware `datetime`: `isoformat()` (what patronictl sends and stores for a
//! schedule) and `str()` (what it prints in prompts); and [`reformat_iso`], an ISO-8601 text as
//! `dateutil.parser.parse(text).isoformat()` gives it back (a stored `scheduled_at`).

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

/// `dateutil.parser.parse(text).isoformat()` for the ISO-8601 shapes Patroni and patronictl write and
/// accept: `YYYY-MM-DD`, `T` or a space, `HH:MM[:SS[.fraction]]`, then `Z`, `±HH`, `±HHMM`,
/// `±HH:MM` or nothing (a naive time). The fraction is cut to microseconds, which are shown only
/// when not zero; a zero offset is `+00:00`. `None` for any other text.
pub fn reformat_iso(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = text.get(from..from + n)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b' '))
    {
        return None;
    }
    let (hour, minute) = (digits(11, 2)?, digits(14, 2)?);
    if b.get(13) != Some(&b':') {
        return None;
    }
    let mut at = 16;
    let mut second = 0;
    let mut micros = 0;
    if b.get(at) == Some(&b':') {
        second = digits(at + 1, 2)?;
        at += 3;
        if b.get(at) == Some(&b'.') {
            let frac: String = text[at + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if frac.is_empty() {
                return None;
            }
            at += 1 + frac.len();
            micros = format!("{frac:0<6}")[..6].parse().ok()?;
        }
    }
    let offset = match &text[at..] {
        "" => None,
        "Z" => Some(0),
        tz => {
            let sign = match tz.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let rest = tz[1..].replace(':', "");
            if !(rest.len() == 2 || rest.len() == 4) || !rest.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i32 = rest[..2].parse().ok()?;
            let m: i32 = rest
                .get(2..)
                .filter(|s| !s.is_empty())
                .map_or(Some(0), |s| s.parse().ok())?;
            Some(sign * (h * 60 + m))
        }
    };
    if !(1..=12).contains(&month) || day == 0 || day > 31 || hour > 23 || minute > 59 || second > 59
    {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let mut out = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    if let Some(off) = offset {
        let sign = if off < 0 { '-' } else { '+' };
        out.push_str(&format!(
            "{sign}{:02}:{:02}",
            off.abs() / 60,
            off.abs() % 60
        ));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::reformat_iso;

    #[test]
    fn iso_shapes_as_dateutil_and_isoformat_give_them() {
        for (text, iso) in [
            (
                "2016-01-14T10:09:57.1394Z",
                "2016-01-14T10:09:57.139400+00:00",
            ),
            ("2030-01-01T12:00:00+00:00", "2030-01-01T12:00:00+00:00"),
            ("2030-01-01 12:00:00.000+0100", "2030-01-01T12:00:00+01:00"),
            (
                "2030-01-01T12:00:00.123456789-05:30",
                "2030-01-01T12:00:00.123456-05:30",
            ),
            ("2030-01-01T12:00:00+02", "2030-01-01T12:00:00+02:00"),
            ("2030-01-01T12:00:00-0000", "2030-01-01T12:00:00+00:00"),
            ("2030-01-01T12:00:00", "2030-01-01T12:00:00"),
            ("2030-01-01T12:00Z", "2030-01-01T12:00:00+00:00"),
        ] {
            assert_eq!(reformat_iso(text).as_deref(), Some(iso), "{text}");
        }
        for bad in [
            "1",
            "",
            "2030-02-30T00:00:00Z",
            "2030-01-01T12:00:00+1",
            "now",
        ] {
            assert_eq!(reformat_iso(bad), None, "{bad}");
        }
    }
}
