//! Unit tests of the one retry rule: the generic loop with fake endpoints, the wording of its errors.

use super::*;

#[test]
fn unreachable_error_names_each_endpoint() {
    let mut a = Attempts::new(Duration::from_secs(5));
    a.fail("http://h1:1", "connection refused");
    a.fail("http://h2:2", "connection refused");
    let e = a.into_error(&[]);
    assert_eq!(
        e.message,
        "DCS unreachable at http://h1:1, http://h2:2 (connection refused)"
    );
    assert_eq!(e.exit, crate::error::Exit::Unreachable);
    let mut a = Attempts::new(Duration::from_secs(5));
    a.fail("http://h1:1", "connection refused");
    let e = a.into_error(&["http://h1:1".into(), "http://h2:2".into()]);
    assert_eq!(
        e.message,
        "DCS unreachable at http://h1:1 (connection refused), http://h2:2 (not tried: the 5s timeout was up)"
    );
}

#[test]
fn fail_over_order_dedups_and_honours_proxies() {
    let adv = vec!["http://a:1".to_string(), "http://b:2/".to_string()];
    let cfg = vec!["http://b:2".to_string(), "http://c:3".to_string()];
    assert_eq!(
        fail_over_order("http://b:2", &adv, &cfg, false),
        vec!["http://b:2", "http://a:1", "http://c:3"]
    );
    assert_eq!(
        fail_over_order("http://c:3", &adv, &cfg, true),
        vec!["http://c:3", "http://b:2"]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn budget_shares_the_time_left() {
    let a = Attempts::new(Duration::from_secs(6));
    let b = a.budget(3).unwrap();
    assert!(b <= Duration::from_secs(2) && b > Duration::from_millis(1900));
    let b = a.budget(100).unwrap();
    assert_eq!(b, Duration::from_secs(1));
    let a = Attempts::new(Duration::from_millis(300));
    assert!(a.budget(3).unwrap() <= Duration::from_millis(300));
}
