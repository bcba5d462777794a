//! The SQL text as patronictl's `query` sees it: the last statement (whose result psycopg2 keeps),
//! whether there is any statement at all, and the `COPY` forms psycopg2 refuses.

/// The last non-blank statement of an SQL string, split on `;` outside quotes, quoted identifiers,
/// dollar quotes and comments.
pub(super) fn last_statement(sql: &str) -> Option<&str> {
    let b = sql.as_bytes();
    let mut start = 0;
    let mut last = None;
    let mut i = 0;
    let keep = |from: usize, to: usize, last: &mut Option<(usize, usize)>| {
        if !is_blank_query(&sql[from..to]) {
            *last = Some((from, to));
        }
    };
    while i < b.len() {
        match b[i] {
            b'\'' => {
                // E'…' strings take backslash escapes; standard strings only double the quote.
                let escapes = i > 0 && matches!(b[i - 1], b'e' | b'E');
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' if escapes => i += 1,
                        b'\'' if b.get(i + 1) == Some(&b'\'') => i += 1,
                        b'\'' => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'"' => i += sql[i + 1..].find('"').map_or(b.len(), |n| n + 1),
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i += sql[i..].find('\n').unwrap_or(b.len() - i);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 1;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'$' => {
                let tag_len = sql[i + 1..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .filter(|&n| sql[i + 1 + n..].starts_with('$'))
                    .filter(|&n| n == 0 || !b[i + 1].is_ascii_digit());
                if let Some(n) = tag_len {
                    let tag = &sql[i..i + n + 2];
                    let body = i + n + 2;
                    i = sql[body..]
                        .find(tag)
                        .map_or(b.len(), |p| body + p + tag.len() - 1);
                }
            }
            b';' => {
                keep(start, i, &mut last);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    keep(start.min(b.len()), b.len(), &mut last);
    last.map(|(from, to)| &sql[from..to])
}

/// Whether PostgreSQL would see no statement at all (only blanks, comments and semicolons).
pub(super) fn is_blank_query(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return rest.is_empty();
        }
    }
}

/// psycopg2 refuses `COPY … TO STDOUT` / `FROM STDIN` in `execute()`.
pub(super) fn copy_refusal(sql: &str) -> Option<&'static str> {
    let lower = sql.trim_start().to_lowercase();
    if !lower.starts_with("copy") {
        return None;
    }
    if lower.contains("stdout") {
        Some("can't execute COPY TO: use the copy_to() method instead")
    } else if lower.contains("stdin") {
        Some("can't execute COPY FROM: use the copy_from() method instead")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_statements() {
        assert_eq!(last_statement("select 1"), Some("select 1"));
        assert_eq!(last_statement("set x=1; select 2;;  "), Some(" select 2"));
        assert_eq!(
            last_statement("select ';' a; select 'b;'"),
            Some(" select 'b;'")
        );
        assert_eq!(last_statement("select E'\\';' a"), Some("select E'\\';' a"));
        assert_eq!(last_statement("select 'it''s;'"), Some("select 'it''s;'"));
        assert_eq!(
            last_statement("select \"a;\" from t"),
            Some("select \"a;\" from t")
        );
        assert_eq!(
            last_statement("select $f$;$f$, $1; select 2"),
            Some(" select 2")
        );
        assert_eq!(last_statement("select $$a;b$$"), Some("select $$a;b$$"));
        assert_eq!(
            last_statement("select 1 -- ;x\n, 2"),
            Some("select 1 -- ;x\n, 2")
        );
        assert_eq!(
            last_statement("select /* /* ; */ ; */ 1"),
            Some("select /* /* ; */ ; */ 1")
        );
        assert_eq!(last_statement(" ; -- c"), None);
    }

    #[test]
    fn blank_queries() {
        use super::super::connect::split_pgpass;
        assert!(is_blank_query(""));
        assert!(is_blank_query("  ;\n-- c\n/* x */"));
        assert!(!is_blank_query("select 1 -- c"));
        assert_eq!(
            split_pgpass(r"h:5432:*:u:pa\:ss:x"),
            vec!["h", "5432", "*", "u", "pa:ss:x"]
        );
    }
}
