//! PostgreSQL values as `patronictl query` prints them. psycopg2 turns each text value into a Python
//! object chosen by the column's type OID (its default typecasters: `int`, `float`, `Decimal`,
//! `bool`, `date`/`time`/`datetime`/`timedelta`, parsed JSON, lists for arrays, `Range` objects),
//! and patronictl prints `str()` of that object, so `repr()` shows up inside lists and dicts
//! (`['a', None]`, `[Decimal('1.5')]`). A value a typecaster cannot parse is kept as its text.

use serde_json::{Map, Value};

use crate::py::repr::repr_str;
use crate::py::{json as pyjson, yaml_dump as pyyaml};

/// A Python object as psycopg2 would build it.
#[derive(Debug, Clone, PartialEq)]
pub enum PyVal {
    /// `None` (SQL NULL).
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int`, kept as its decimal digits (any size).
    Int(String),
    /// A `float`.
    Float(f64),
    /// A `decimal.Decimal`, kept as its `str()`.
    Decimal(String),
    /// A `str`.
    Str(String),
    /// A `datetime.date`.
    Date(Date),
    /// A `datetime.time`.
    Time(Time),
    /// A `datetime.datetime`.
    DateTime(Date, Time),
    /// A `datetime.timedelta`, normalised as Python does (`0 <= seconds < 86400`).
    Delta(Delta),
    /// A `list`.
    List(Vec<PyVal>),
    /// A `dict` (from JSON), in insertion order.
    Dict(Vec<(String, PyVal)>),
    /// A psycopg2 `Range`; `None` bounds is the empty range.
    Range(RangeKind, Option<Box<RangeBounds>>),
    /// A `bytea` value, kept as PostgreSQL's hex text (psycopg2 gives a `memoryview`).
    Bytes(String),
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    y: i32,
    m: u32,
    d: u32,
}

/// A time of day with an optional UTC offset in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    h: u32,
    m: u32,
    s: u32,
    us: u32,
    tz: Option<i64>,
}

/// A Python `timedelta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    days: i64,
    secs: i64,
    us: i64,
}

/// The bounds of a non-empty range: brackets as in `'[)'`, then lower and upper.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeBounds {
    brackets: String,
    lower: PyVal,
    upper: PyVal,
}

/// psycopg2's range classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    /// `NumericRange` (int4range, int8range, numrange).
    Numeric,
    /// `DateRange`.
    Date,
    /// `DateTimeRange` (tsrange).
    DateTime,
    /// `DateTimeTZRange` (tstzrange).
    DateTimeTz,
}

/// Which typecaster psycopg2 applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    Int,
    Float,
    Decimal,
    Json,
    Date,
    Time,
    DateTime,
    DateTimeTz,
    Interval,
    Bytea,
    Range(RangeKind, &'static Kind),
}

/// The typecaster psycopg2 registers for a scalar type OID.
fn scalar_kind(oid: u32) -> Kind {
    match oid {
        16 => Kind::Bool,
        17 => Kind::Bytea,
        20 | 21 | 23 | 26 => Kind::Int,
        114 | 3802 => Kind::Json,
        700 | 701 => Kind::Float,
        704 | 1186 => Kind::Interval,
        1082 => Kind::Date,
        1083 | 1266 => Kind::Time,
        1114 => Kind::DateTime,
        1184 => Kind::DateTimeTz,
        1700 => Kind::Decimal,
        3904 | 3926 => Kind::Range(RangeKind::Numeric, &Kind::Int),
        3906 => Kind::Range(RangeKind::Numeric, &Kind::Decimal),
        3908 => Kind::Range(RangeKind::DateTime, &Kind::DateTime),
        3910 => Kind::Range(RangeKind::DateTimeTz, &Kind::DateTimeTz),
        3912 => Kind::Range(RangeKind::Date, &Kind::Date),
        _ => Kind::Text,
    }
}

/// The element typecaster of the array types psycopg2 registers.
fn array_kind(oid: u32) -> Option<Kind> {
    Some(match oid {
        1000 => Kind::Bool,
        1001 => Kind::Bytea,
        1005 | 1006 | 1007 | 1013 | 1016 | 1028 => Kind::Int,
        199 | 3807 => Kind::Json,
        1021 | 1022 => Kind::Float,
        1187 => Kind::Interval,
        1182 => Kind::Date,
        1183 | 1270 => Kind::Time,
        1115 => Kind::DateTime,
        1185 => Kind::DateTimeTz,
        1231 => Kind::Decimal,
        651 | 1002 | 1003 | 1009 | 1014 | 1015 | 1040 | 1041 => Kind::Text,
        3905 => scalar_kind(3904),
        3907 => scalar_kind(3906),
        3927 => scalar_kind(3926),
        3909 => scalar_kind(3908),
        3911 => scalar_kind(3910),
        3913 => scalar_kind(3912),
        _ => return None,
    })
}

/// Convert one text value of a column of type `oid` (`None` = NULL) as psycopg2 does.
pub fn convert(oid: Option<u32>, text: Option<&str>) -> PyVal {
    let Some(text) = text else {
        return PyVal::None;
    };
    let Some(oid) = oid else {
        return PyVal::Str(text.to_string());
    };
    let parsed = match array_kind(oid) {
        Some(kind) => parse_array(text).map(|a| array_to_py(&a, kind)),
        None => cast(scalar_kind(oid), text),
    };
    parsed.unwrap_or_else(|| PyVal::Str(text.to_string()))
}

fn cast(kind: Kind, text: &str) -> Option<PyVal> {
    Some(match kind {
        Kind::Text => PyVal::Str(text.to_string()),
        Kind::Bool => match text {
            "t" => PyVal::Bool(true),
            "f" => PyVal::Bool(false),
            _ => return None,
        },
        Kind::Int => {
            let t = text.trim();
            t.parse::<i128>().ok()?;
            PyVal::Int(t.trim_start_matches('+').to_string())
        }
        Kind::Float => PyVal::Float(parse_float(text)?),
        Kind::Decimal => PyVal::Decimal(decimal_str(text)?),
        Kind::Json => parse_json(text)?,
        Kind::Date => PyVal::Date(parse_date(text)?),
        Kind::Time => PyVal::Time(parse_time(text)?),
        Kind::DateTime => parse_datetime(text, false)?,
        Kind::DateTimeTz => parse_datetime(text, true)?,
        Kind::Interval => PyVal::Delta(parse_interval(text)?),
        Kind::Bytea => PyVal::Bytes(text.to_string()),
        Kind::Range(rk, sub) => parse_range(text, rk, *sub)?,
    })
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

/// Python's `str(Decimal(text))` for PostgreSQL's numeric output (no exponent in the input).
fn decimal_str(text: &str) -> Option<String> {
    match text {
        "NaN" | "Infinity" | "-Infinity" => return Some(text.to_string()),
        _ => {}
    }
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{int}{frac}");
    let coeff = digits.trim_start_matches('0');
    let coeff = if coeff.is_empty() { "0" } else { coeff };
    let exp = -(frac.len() as i64);
    let adjusted = exp + coeff.len() as i64 - 1;
    let sign = if neg { "-" } else { "" };
    if adjusted >= -6 {
        // Plain notation: the input as PostgreSQL wrote it, without redundant leading zeros.
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        return Some(if frac.is_empty() {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        });
    }
    let (first, rest) = coeff.split_at(1);
    let mantissa = if rest.is_empty() {
        first.to_string()
    } else {
        format!("{first}.{rest}")
    };
    Some(format!("{sign}{mantissa}E{adjusted}"))
}

fn parse_date(text: &str) -> Option<Date> {
    match text {
        "infinity" => {
            return Some(Date {
                y: 9999,
                m: 12,
                d: 31,
            })
        }
        "-infinity" => return Some(Date { y: 1, m: 1, d: 1 }),
        _ => {}
    }
    let mut it = text.splitn(3, '-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let date = Date {
        y: y.parse().ok()?,
        m: m.parse().ok()?,
        d: d.parse().ok()?,
    };
    (date.y >= 1 && (1..=12).contains(&date.m) && (1..=31).contains(&date.d)).then_some(date)
}

/// `HH:MM:SS[.ffffff][±HH[:MM[:SS]]]`.
fn parse_time(text: &str) -> Option<Time> {
    let split = text.find(['+', '-']).unwrap_or(text.len());
    let (clock, tz) = text.split_at(split);
    let tz = if tz.is_empty() {
        None
    } else {
        Some(parse_offset(tz)?)
    };
    let mut parts = clock.splitn(3, ':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let sec = parts.next()?;
    let (s, frac) = sec.split_once('.').unwrap_or((sec, ""));
    if h > 23 || m > 59 || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let s: u32 = s.parse().ok()?;
    let us = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    (s <= 59).then_some(Time { h, m, s, us, tz })
}

/// `±HH[:MM[:SS]]` in seconds.
fn parse_offset(tz: &str) -> Option<i64> {
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let mut secs = 0i64;
    let mut mult = 3600;
    for part in rest.split(':') {
        if mult == 0 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        secs += part.parse::<i64>().ok()? * mult;
        mult /= 60;
    }
    Some(sign * secs)
}

/// `YYYY-MM-DD HH:MM:SS[.f][tz]`; psycopg2 maps the infinities to `datetime.max`/`min` (UTC when
/// the column is `timestamptz`).
fn parse_datetime(text: &str, aware: bool) -> Option<PyVal> {
    let tz = aware.then_some(0);
    let (d, t) = match text {
        "infinity" => ((9999, 12, 31), (23, 59, 59, 999_999)),
        "-infinity" => ((1, 1, 1), (0, 0, 0, 0)),
        _ => {
            let (date, time) = text.split_once(' ')?;
            return Some(PyVal::DateTime(parse_date(date)?, parse_time(time)?));
        }
    };
    Some(PyVal::DateTime(
        Date {
            y: d.0,
            m: d.1,
            d: d.2,
        },
        Time {
            h: t.0,
            m: t.1,
            s: t.2,
            us: t.3,
            tz,
        },
    ))
}

/// An interval in PostgreSQL's default `postgres` style: `1 year 2 mons -3 days +04:05:06.5`.
/// psycopg2 counts a year as 365 days and a month as 30.
fn parse_interval(text: &str) -> Option<Delta> {
    let mut days: i64 = 0;
    let mut micros: i128 = 0;
    let mut tokens = text.split_whitespace().peekable();
    while let Some(tok) = tokens.next() {
        if tok.contains(':') {
            let (neg, body) = match tok.as_bytes()[0] {
                b'-' => (true, &tok[1..]),
                b'+' => (false, &tok[1..]),
                _ => (false, tok),
            };
            let mut parts = body.splitn(3, ':');
            let h: i128 = parts.next()?.parse().ok()?;
            let m: i128 = parts.next()?.parse().ok()?;
            let sec = parts.next().unwrap_or("0");
            let (s, frac) = sec.split_once('.').unwrap_or((sec, ""));
            if frac.len() > 6 {
                return None;
            }
            let s: i128 = s.parse().ok()?;
            let us: i128 = if frac.is_empty() {
                0
            } else {
                format!("{frac:0<6}").parse().ok()?
            };
            let total = ((h * 60 + m) * 60 + s) * 1_000_000 + us;
            micros += if neg { -total } else { total };
            continue;
        }
        let n: i64 = tok.parse().ok()?;
        let unit = tokens.next()?;
        days += match unit.trim_end_matches('s') {
            "year" => n.checked_mul(365)?,
            "mon" => n.checked_mul(30)?,
            "day" => n,
            _ => return None,
        };
    }
    Some(Delta::from_micros(
        i128::from(days) * 86_400_000_000 + micros,
    ))
}

impl Delta {
    fn from_micros(total: i128) -> Delta {
        const DAY: i128 = 86_400_000_000;
        let days = total.div_euclid(DAY);
        let rem = total.rem_euclid(DAY);
        Delta {
            days: days as i64,
            secs: (rem / 1_000_000) as i64,
            us: (rem % 1_000_000) as i64,
        }
    }

    fn py_str(&self) -> String {
        let mut out = String::new();
        if self.days != 0 {
            let plural = if self.days.abs() != 1 { "s" } else { "" };
            out.push_str(&format!("{} day{plural}, ", self.days));
        }
        let (h, m, s) = (self.secs / 3600, self.secs / 60 % 60, self.secs % 60);
        out.push_str(&format!("{h}:{m:02}:{s:02}"));
        if self.us != 0 {
            out.push_str(&format!(".{:06}", self.us));
        }
        out
    }

    fn py_repr(&self) -> String {
        let parts: Vec<String> = [
            ("days", self.days),
            ("seconds", self.secs),
            ("microseconds", self.us),
        ]
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
        if parts.is_empty() {
            "datetime.timedelta(0)".into()
        } else {
            format!("datetime.timedelta({})", parts.join(", "))
        }
    }
}

fn parse_range(text: &str, kind: RangeKind, sub: Kind) -> Option<PyVal> {
    if text == "empty" {
        return Some(PyVal::Range(kind, None));
    }
    let open = text.chars().next().filter(|c| matches!(c, '[' | '('))?;
    let close = text.chars().last().filter(|c| matches!(c, ']' | ')'))?;
    let inner = text.get(1..text.len() - 1)?;
    let bounds = split_range(inner)?;
    let [lower, upper]: [Option<String>; 2] = bounds.try_into().ok()?;
    let bound = |b: Option<String>| -> Option<PyVal> {
        match b {
            None => Some(PyVal::None),
            Some(t) => cast(sub, &t),
        }
    };
    Some(PyVal::Range(
        kind,
        Some(Box::new(RangeBounds {
            brackets: format!("{open}{close}"),
            lower: bound(lower)?,
            upper: bound(upper)?,
        })),
    ))
}

/// Split `lower,upper` of a range literal; empty unquoted bounds are infinite (`None`).
fn split_range(inner: &str) -> Option<Vec<Option<String>>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '\\' => cur.push(chars.next()?),
            ',' if !quoted => {
                out.push((was_quoted || !cur.is_empty()).then(|| std::mem::take(&mut cur)));
                was_quoted = false;
            }
            c => cur.push(c),
        }
    }
    out.push((was_quoted || !cur.is_empty()).then_some(cur));
    Some(out)
}

/// One element of a parsed array literal.
#[derive(Debug, Clone, PartialEq)]
enum Elem {
    Null,
    Text(String),
    Nested(Vec<Elem>),
}

/// Parse PostgreSQL's array output: `{1,NULL,"a \"b\""}`, nested braces, an optional `[l:u]=`.
fn parse_array(text: &str) -> Option<Vec<Elem>> {
    let text = match text.find('=') {
        Some(i) if text.starts_with('[') => &text[i + 1..],
        _ => text,
    };
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let out = parse_braces(&chars, &mut pos)?;
    (pos == chars.len()).then_some(out)
}

fn parse_braces(s: &[char], pos: &mut usize) -> Option<Vec<Elem>> {
    if s.get(*pos) != Some(&'{') {
        return None;
    }
    *pos += 1;
    let mut out = Vec::new();
    if s.get(*pos) == Some(&'}') {
        *pos += 1;
        return Some(out);
    }
    loop {
        match s.get(*pos)? {
            '{' => out.push(Elem::Nested(parse_braces(s, pos)?)),
            '"' => {
                *pos += 1;
                let mut cur = String::new();
                loop {
                    match s.get(*pos)? {
                        '\\' => {
                            cur.push(*s.get(*pos + 1)?);
                            *pos += 2;
                        }
                        '"' => {
                            *pos += 1;
                            break;
                        }
                        c => {
                            cur.push(*c);
                            *pos += 1;
                        }
                    }
                }
                out.push(Elem::Text(cur));
            }
            _ => {
                let start = *pos;
                while !matches!(s.get(*pos)?, ',' | '}') {
                    *pos += 1;
                }
                let raw: String = s[start..*pos].iter().collect();
                let raw = raw.trim();
                out.push(if raw.eq_ignore_ascii_case("NULL") {
                    Elem::Null
                } else {
                    Elem::Text(raw.to_string())
                });
            }
        }
        match s.get(*pos)? {
            ',' => *pos += 1,
            '}' => {
                *pos += 1;
                return Some(out);
            }
            _ => return None,
        }
    }
}

fn array_to_py(items: &[Elem], kind: Kind) -> PyVal {
    PyVal::List(
        items
            .iter()
            .map(|e| match e {
                Elem::Null => PyVal::None,
                Elem::Nested(inner) => array_to_py(inner, kind),
                Elem::Text(t) => cast(kind, t).unwrap_or_else(|| PyVal::Str(t.clone())),
            })
            .collect(),
    )
}

/// Python's `json.loads`, keeping integers of any size.
fn parse_json(text: &str) -> Option<PyVal> {
    let mut p = JsonParser {
        s: text.as_bytes(),
        pos: 0,
    };
    let v = p.value()?;
    p.ws();
    (p.pos == p.s.len()).then_some(v)
}

struct JsonParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<PyVal> {
        self.ws();
        match *self.s.get(self.pos)? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string().map(PyVal::Str),
            _ if self.eat("true") => Some(PyVal::Bool(true)),
            _ if self.eat("false") => Some(PyVal::Bool(false)),
            _ if self.eat("null") => Some(PyVal::None),
            _ if self.eat("NaN") => Some(PyVal::Float(f64::NAN)),
            _ if self.eat("Infinity") => Some(PyVal::Float(f64::INFINITY)),
            _ if self.eat("-Infinity") => Some(PyVal::Float(f64::NEG_INFINITY)),
            _ => self.number(),
        }
    }

    fn object(&mut self) -> Option<PyVal> {
        self.pos += 1;
        let mut out: Vec<(String, PyVal)> = Vec::new();
        self.ws();
        if self.eat("}") {
            return Some(PyVal::Dict(out));
        }
        loop {
            self.ws();
            let k = self.string()?;
            self.ws();
            if !self.eat(":") {
                return None;
            }
            let v = self.value()?;
            // A repeated key keeps its first position and takes the last value, as a Python dict.
            match out.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) => slot.1 = v,
                None => out.push((k, v)),
            }
            self.ws();
            if self.eat("}") {
                return Some(PyVal::Dict(out));
            }
            if !self.eat(",") {
                return None;
            }
        }
    }

    fn array(&mut self) -> Option<PyVal> {
        self.pos += 1;
        let mut out = Vec::new();
        self.ws();
        if self.eat("]") {
            return Some(PyVal::List(out));
        }
        loop {
            out.push(self.value()?);
            self.ws();
            if self.eat("]") {
                return Some(PyVal::List(out));
            }
            if !self.eat(",") {
                return None;
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        if !self.eat("\"") {
            return None;
        }
        let mut units: Vec<u16> = Vec::new();
        let mut out = String::new();
        let flush = |units: &mut Vec<u16>, out: &mut String| {
            out.push_str(&String::from_utf16_lossy(units));
            units.clear();
        };
        loop {
            let b = *self.s.get(self.pos)?;
            match b {
                b'"' => {
                    self.pos += 1;
                    flush(&mut units, &mut out);
                    return Some(out);
                }
                b'\\' => {
                    let e = *self.s.get(self.pos + 1)?;
                    self.pos += 2;
                    let c = match e {
                        b'u' => {
                            let hex =
                                std::str::from_utf8(self.s.get(self.pos..self.pos + 4)?).ok()?;
                            units.push(u16::from_str_radix(hex, 16).ok()?);
                            self.pos += 4;
                            continue;
                        }
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'/' => '/',
                        b'\\' => '\\',
                        b'"' => '"',
                        _ => return None,
                    };
                    flush(&mut units, &mut out);
                    out.push(c);
                }
                _ => {
                    flush(&mut units, &mut out);
                    let rest = std::str::from_utf8(&self.s[self.pos..]).ok()?;
                    let c = rest.chars().next()?;
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn number(&mut self) -> Option<PyVal> {
        let start = self.pos;
        while matches!(
            self.s.get(self.pos),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        ) {
            self.pos += 1;
        }
        let t = std::str::from_utf8(&self.s[start..self.pos]).ok()?;
        if t.is_empty() {
            return None;
        }
        if t.contains(['.', 'e', 'E']) {
            return t.parse().ok().map(PyVal::Float);
        }
        t.parse::<i128>().ok().or_else(|| {
            // Larger than i128: still an int to Python.
            let digits = t.strip_prefix('-').unwrap_or(t);
            digits.bytes().all(|b| b.is_ascii_digit()).then_some(0)
        })?;
        let normalized = if t == "-0" { "0" } else { t };
        Some(PyVal::Int(normalized.to_string()))
    }
}

fn tz_str(off: i64) -> String {
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    if s != 0 {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    } else {
        format!("{sign}{h:02}:{m:02}")
    }
}

fn tz_repr(off: i64) -> String {
    if off == 0 {
        "datetime.timezone.utc".into()
    } else {
        format!(
            "datetime.timezone({})",
            Delta::from_micros(i128::from(off) * 1_000_000).py_repr()
        )
    }
}

impl Time {
    fn py_str(&self) -> String {
        let mut out = format!("{:02}:{:02}:{:02}", self.h, self.m, self.s);
        if self.us != 0 {
            out.push_str(&format!(".{:06}", self.us));
        }
        if let Some(tz) = self.tz {
            out.push_str(&tz_str(tz));
        }
        out
    }

    /// The `h, m[, s[, us]]` arguments of a Python repr, trailing zeros dropped as Python does.
    fn repr_args(&self) -> Vec<String> {
        let mut v = vec![self.h, self.m, self.s, self.us];
        for _ in 0..2 {
            if v.last() == Some(&0) {
                v.pop();
            }
        }
        let mut args: Vec<String> = v.iter().map(u32::to_string).collect();
        if let Some(tz) = self.tz {
            args.push(format!("tzinfo={}", tz_repr(tz)));
        }
        args
    }
}

impl Date {
    fn py_str(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
}

fn range_class(kind: RangeKind) -> &'static str {
    match kind {
        RangeKind::Numeric => "NumericRange",
        RangeKind::Date => "DateRange",
        RangeKind::DateTime => "DateTimeRange",
        RangeKind::DateTimeTz => "DateTimeTZRange",
    }
}

fn float_str(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        pyjson::float_repr(f)
    }
}

impl PyVal {
    /// Python's `str()`.
    pub fn py_str(&self) -> String {
        match self {
            PyVal::None => "None".into(),
            PyVal::Bool(b) => if *b { "True" } else { "False" }.into(),
            PyVal::Int(s) | PyVal::Decimal(s) | PyVal::Str(s) | PyVal::Bytes(s) => s.clone(),
            PyVal::Float(f) => float_str(*f),
            PyVal::Date(d) => d.py_str(),
            PyVal::Time(t) => t.py_str(),
            PyVal::DateTime(d, t) => format!("{} {}", d.py_str(), t.py_str()),
            PyVal::Delta(d) => d.py_str(),
            PyVal::List(_) | PyVal::Dict(_) => self.py_repr(),
            PyVal::Range(_, None) => "empty".into(),
            PyVal::Range(_, Some(b)) => {
                let (open, close) = b.brackets.split_at(1);
                format!("{open}{}, {}{close}", b.lower.py_str(), b.upper.py_str())
            }
        }
    }

    /// Python's `repr()`.
    pub fn py_repr(&self) -> String {
        match self {
            PyVal::Str(s) => repr_str(s),
            PyVal::Decimal(s) => format!("Decimal('{s}')"),
            PyVal::Date(d) => format!("datetime.date({}, {}, {})", d.y, d.m, d.d),
            PyVal::Time(t) => format!("datetime.time({})", t.repr_args().join(", ")),
            PyVal::DateTime(d, t) => format!(
                "datetime.datetime({}, {}, {}, {})",
                d.y,
                d.m,
                d.d,
                t.repr_args().join(", ")
            ),
            PyVal::Delta(d) => d.py_repr(),
            PyVal::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(PyVal::py_repr)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            PyVal::Dict(items) => format!(
                "{{{}}}",
                items
                    .iter()
                    .map(|(k, v)| format!("{}: {}", repr_str(k), v.py_repr()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            PyVal::Range(kind, None) => format!("{}(empty=True)", range_class(*kind)),
            PyVal::Range(kind, Some(b)) => format!(
                "{}({}, {}, '{}')",
                range_class(*kind),
                b.lower.py_repr(),
                b.upper.py_repr(),
                b.brackets
            ),
            other => other.py_str(),
        }
    }

    /// `json.dumps()` of the value. Objects JSON cannot hold (Decimal, dates, ranges) are written
    /// as their `str()` where Python would raise a `TypeError`.
    pub fn json(&self) -> String {
        match self {
            PyVal::None => "null".into(),
            PyVal::Bool(b) => if *b { "true" } else { "false" }.into(),
            PyVal::Int(s) => s.clone(),
            PyVal::Float(f) => pyjson::float_repr(*f),
            PyVal::List(items) => format!(
                "[{}]",
                items.iter().map(PyVal::json).collect::<Vec<_>>().join(", ")
            ),
            PyVal::Dict(items) => json_object(items.iter().map(|(k, v)| (k.as_str(), v))),
            other => pyjson::dumps(&Value::String(other.py_str())),
        }
    }

    /// The value as JSON data for YAML output; what YAML cannot hold faithfully becomes its `str()`.
    pub fn to_value(&self) -> Value {
        match self {
            PyVal::None => Value::Null,
            PyVal::Bool(b) => Value::Bool(*b),
            PyVal::Int(s) => s
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| s.parse::<u64>().map(Value::from))
                .unwrap_or_else(|_| Value::String(s.clone())),
            PyVal::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(float_str(*f))),
            PyVal::List(items) => Value::Array(items.iter().map(PyVal::to_value).collect()),
            PyVal::Dict(items) => {
                let mut m = Map::new();
                for (k, v) in items {
                    m.insert(k.clone(), v.to_value());
                }
                Value::Object(m)
            }
            other => Value::String(other.py_str()),
        }
    }
}

/// `json.dumps` of a dict given as ordered pairs (a repeated key keeps its first place, last value).
pub fn json_object<'a>(pairs: impl Iterator<Item = (&'a str, &'a PyVal)>) -> String {
    let mut items: Vec<(&str, &PyVal)> = Vec::new();
    for (k, v) in pairs {
        match items.iter_mut().find(|(ek, _)| *ek == k) {
            Some(slot) => slot.1 = v,
            None => items.push((k, v)),
        }
    }
    let body: Vec<String> = items
        .iter()
        .map(|(k, v)| {
            format!(
                "{}: {}",
                pyjson::dumps(&Value::String(k.to_string())),
                v.json()
            )
        })
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// `yaml.safe_dump` of rows as a list of mappings (patronictl's `format_config_for_editing`).
pub fn yaml_rows(columns: &[String], rows: &[Vec<PyVal>]) -> String {
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut m = Map::new();
            for (k, v) in columns.iter().zip(r) {
                m.insert(k.clone(), v.to_value());
            }
            Value::Object(m)
        })
        .collect();
    pyyaml::dump(&Value::Array(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(oid: u32, text: &str) -> String {
        convert(Some(oid), Some(text)).py_str()
    }

    // Expected strings are what patronictl 4.1.5 (psycopg2 2.9) printed for the same values.
    #[test]
    fn scalars_as_psycopg2() {
        assert_eq!(s(23, "1"), "1");
        assert_eq!(s(701, "1.5"), "1.5");
        assert_eq!(s(701, "100"), "100.0");
        assert_eq!(s(701, "1e+20"), "1e+20");
        assert_eq!(s(701, "1e-05"), "1e-05");
        assert_eq!(s(701, "NaN"), "nan");
        assert_eq!(s(701, "Infinity"), "inf");
        assert_eq!(s(701, "1.2345678901234568e+17"), "1.2345678901234568e+17");
        assert_eq!(s(700, "1"), "1.0");
        assert_eq!(s(1700, "1.50"), "1.50");
        assert_eq!(s(1700, "0.0000001"), "1E-7");
        assert_eq!(s(1700, "0.000001"), "0.000001");
        assert_eq!(s(1700, "0.00000010"), "1.0E-7");
        assert_eq!(s(1700, "0.0000000"), "0E-7");
        assert_eq!(s(16, "t"), "True");
        assert_eq!(convert(Some(25), None).py_str(), "None");
        assert_eq!(s(1042, "x  "), "x  ");
        assert_eq!(
            s(2950, "5194d5c3-94d0-424b-86e0-ad23247e4fba"),
            "5194d5c3-94d0-424b-86e0-ad23247e4fba"
        );
        assert_eq!(s(2278, ""), "");
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(
            s(1184, "2026-11-25 10:37:00.119064+00"),
            "2026-11-25 10:37:00.119064+00:00"
        );
        assert_eq!(
            s(1114, "2026-11-25 10:37:00.5"),
            "2026-11-25 10:37:00.500000"
        );
        assert_eq!(s(1114, "infinity"), "9999-12-31 23:59:59.999999");
        assert_eq!(s(1082, "-infinity"), "0001-01-01");
        assert_eq!(s(1083, "10:00:00.5"), "10:00:00.500000");
        assert_eq!(s(1266, "10:00:00+02"), "10:00:00+02:00");
        assert_eq!(
            s(1184, "1900-01-01 05:21:10+05:21:10"),
            "1900-01-01 05:21:10+05:21:10"
        );
        assert_eq!(s(1186, "1 day 01:00:03.5"), "1 day, 1:00:03.500000");
        assert_eq!(s(1186, "2 mons"), "60 days, 0:00:00");
        assert_eq!(s(1186, "-01:00:00"), "-1 day, 23:00:00");
        assert_eq!(s(1186, "1 year 2 mons 3 days"), "428 days, 0:00:00");
        assert_eq!(s(1186, "3 days -04:00:00"), "2 days, 20:00:00");
        assert_eq!(s(1186, "-1 days +02:00:00"), "-1 day, 2:00:00");
        assert_eq!(s(1186, "00:00:01.5"), "0:00:01.500000");
    }

    #[test]
    fn containers_use_repr() {
        assert_eq!(
            s(3802, r#"{"a": [1, "b", null, true]}"#),
            "{'a': [1, 'b', None, True]}"
        );
        assert_eq!(
            s(
                114,
                r#"{"a":1e400, "b": 123456789012345678901234567890, "c":[], "d":{}}"#
            ),
            "{'a': inf, 'b': 123456789012345678901234567890, 'c': [], 'd': {}}"
        );
        assert_eq!(s(1007, "{1,2}"), "[1, 2]");
        assert_eq!(s(1007, "{{1,2},{3,4}}"), "[[1, 2], [3, 4]]");
        assert_eq!(s(1007, "{}"), "[]");
        assert_eq!(s(1009, r#"{a,"b'c"}"#), r#"['a', "b'c"]"#);
        assert_eq!(
            s(1009, r#"{"a b","c\"d","","e\\\\f",NULL}"#),
            r#"['a b', 'c"d', '', 'e\\\\f', None]"#
        );
        assert_eq!(
            s(
                1009,
                "{\"it's \\\"q\\\"\",\"tab\there\",\"nl\n\",é,\"\u{1}\"}"
            ),
            r#"['it\'s "q"', 'tab\there', 'nl\n', 'é', '\x01']"#
        );
        assert_eq!(s(1231, "{1.5,NULL}"), "[Decimal('1.5'), None]");
        assert_eq!(s(1000, "{t,f}"), "[True, False]");
        assert_eq!(s(1182, "{2024-01-01}"), "[datetime.date(2024, 1, 1)]");
        assert_eq!(
            s(1185, "{\"2024-01-01 04:30:00+00\",NULL}"),
            "[datetime.datetime(2024, 1, 1, 4, 30, tzinfo=datetime.timezone.utc), None]"
        );
        assert_eq!(
            s(1115, "{\"2024-01-01 10:00:01.5\"}"),
            "[datetime.datetime(2024, 1, 1, 10, 0, 1, 500000)]"
        );
        assert_eq!(
            s(1270, "{10:00:00.25+02}"),
            "[datetime.time(10, 0, 0, 250000, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200)))]"
        );
        assert_eq!(
            s(1185, "{\"2024-01-01 05:00:00-05\"}"),
            "[datetime.datetime(2024, 1, 1, 5, 0, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))]"
        );
        assert_eq!(
            s(1187, "{-01:00:00,00:00:00,\"1 day 00:00:02.000003\"}"),
            "[datetime.timedelta(days=-1, seconds=82800), datetime.timedelta(0), datetime.timedelta(days=1, seconds=2, microseconds=3)]"
        );
        assert_eq!(s(651, "{1.2.3.4/32}"), "['1.2.3.4/32']");
        assert_eq!(
            s(2951, "{95457a65-7329-435e-b5b1-630975df3640}"),
            "{95457a65-7329-435e-b5b1-630975df3640}"
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(s(3904, "[1,10)"), "[1, 10)");
        assert_eq!(s(3906, "[1.5,2)"), "[1.5, 2)");
        assert_eq!(
            s(
                3910,
                "[\"2024-01-01 00:00:00+00\",\"2024-02-01 00:00:00+00\")"
            ),
            "[2024-01-01 00:00:00+00:00, 2024-02-01 00:00:00+00:00)"
        );
        assert_eq!(
            s(3912, "[2024-01-01,2024-02-01)"),
            "[2024-01-01, 2024-02-01)"
        );
        assert_eq!(s(3904, "empty"), "empty");
        assert_eq!(s(3906, "(,5)"), "(None, 5)");
        assert_eq!(s(3904, "(,)"), "(None, None)");
        assert_eq!(s(3905, "{\"[1,2)\"}"), "[NumericRange(1, 2, '[)')]");
    }

    #[test]
    fn json_and_yaml_forms() {
        let v = convert(Some(3802), Some(r#"{"a": 1.5, "b": "é"}"#));
        assert_eq!(v.json(), r#"{"a": 1.5, "b": "\u00e9"}"#);
        let row = [PyVal::Int("1".into()), PyVal::Str("x".into())];
        let cols = ["a", "b"];
        assert_eq!(
            json_object(cols.iter().copied().zip(row.iter())),
            r#"{"a": 1, "b": "x"}"#
        );
        assert_eq!(
            yaml_rows(&["a".into(), "b".into()], &[row.to_vec()]),
            "- a: 1\n  b: x\n"
        );
    }
}
