//! PostgreSQL values as `patronictl query` prints them. psycopg2 turns each text value into a Python
//! object chosen by the column's type OID (its default typecasters: `int`, `float`, `Decimal`,
//! `bool`, `date`/`time`/`datetime`/`timedelta`, parsed JSON, lists for arrays, `Range` objects),
//! and patronictl prints `str()` of that object, so `repr()` shows up inside lists and dicts
//! (`['a', None]`, `[Decimal('1.5')]`). A value a typecaster cannot parse is kept as its text.
//!
//! This file holds the value types, the choice of typecaster by OID, and how each value prints
//! (`str()`/`repr()`, JSON and YAML rows); [`parse`] holds the typecasters' text parsers.

mod parse;

use serde_json::{Map, Value};

use crate::py::json as pyjson;
use crate::py::repr::{float_repr, repr_str};
use crate::py::yaml_dump as pyyaml;
use parse::{
    decimal_str, parse_date, parse_datetime, parse_float, parse_interval, parse_json, parse_list,
    parse_range, parse_time,
};

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
        Some(kind) => parse_list(text, kind),
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
        float_repr(f)
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
            PyVal::Float(f) => float_repr(*f),
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
mod tests;
