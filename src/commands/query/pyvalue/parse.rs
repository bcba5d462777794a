//! The text parsers behind psycopg2's default typecasters: numbers, dates and times, intervals,
//! ranges, arrays (`{…}` with quoting and NULL) and JSON (into Python objects, keys in order).

use super::{cast, Date, Delta, Kind, PyVal, RangeBounds, RangeKind, Time};

pub(super) fn parse_float(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

/// Python's `str(Decimal(text))` for PostgreSQL's numeric output (no exponent in the input).
pub(super) fn decimal_str(text: &str) -> Option<String> {
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

pub(super) fn parse_date(text: &str) -> Option<Date> {
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
pub(super) fn parse_time(text: &str) -> Option<Time> {
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
pub(super) fn parse_datetime(text: &str, aware: bool) -> Option<PyVal> {
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
pub(super) fn parse_interval(text: &str) -> Option<Delta> {
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

pub(super) fn parse_range(text: &str, kind: RangeKind, sub: Kind) -> Option<PyVal> {
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
pub(super) fn parse_json(text: &str) -> Option<PyVal> {
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

/// An array's text as the list psycopg2 builds for `kind` elements (`None` when it is not an array).
pub(super) fn parse_list(text: &str, kind: Kind) -> Option<PyVal> {
    parse_array(text).map(|a| array_to_py(&a, kind))
}
