//! psycopg2's typecasters and Python's str()/repr(), value by value.
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
