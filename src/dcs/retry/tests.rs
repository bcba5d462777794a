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

/// Fake endpoints for [`run`]: what each one does when tried, and which ones were tried.
#[derive(Clone, Copy)]
enum Fake {
    Answers,
    NotSent,
    MaybeSent,
    Refuses,
}

fn endpoints(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("http://h{i}:{i}")).collect()
}

/// Run `call` over fake endpoints behaving as `fakes`; the outcome and the endpoints contacted.
async fn run_fakes(call: Call, fakes: &[Fake]) -> (Result<(String, (), usize)>, Vec<String>) {
    let eps = endpoints(fakes.len());
    let contacted = std::sync::Mutex::new(Vec::new());
    let contacted_ref = &contacted;
    let out = run(
        &eps,
        Duration::from_secs(5),
        call,
        |_, _| async { Ok(()) },
        |ep, (), _| {
            contacted_ref.lock().unwrap().push(ep.to_string());
            let fake = fakes[eps.iter().position(|e| e == ep).unwrap()];
            async move {
                match fake {
                    Fake::Answers => Ok(format!("answer from {ep}")),
                    Fake::NotSent => Err(Miss::NotSent("connection refused".into())),
                    Fake::MaybeSent => Err(Miss::MaybeSent(Why {
                        short: "connection reset".into(),
                        chain: vec!["Connection reset by peer (os error 104)".into()],
                    })),
                    Fake::Refuses => Err(Miss::Fatal(Error::failure("permission denied"))),
                }
            }
        },
    )
    .await;
    (out, contacted.into_inner().unwrap())
}

#[tokio::test(flavor = "current_thread")]
async fn not_sent_moves_on_to_the_next_endpoint() {
    for call in [Call::Read, Call::Write("write")] {
        let (out, contacted) = run_fakes(call, &[Fake::NotSent, Fake::Answers]).await;
        let (answer, (), at) = out.unwrap();
        assert_eq!(answer, "answer from http://h2:2");
        assert_eq!(at, 1);
        assert_eq!(contacted, endpoints(2));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn maybe_sent_moves_a_read_on_and_stops_a_write_as_unknown() {
    let (out, contacted) = run_fakes(Call::Read, &[Fake::MaybeSent, Fake::Answers]).await;
    assert_eq!(out.unwrap().2, 1);
    assert_eq!(contacted, endpoints(2));

    let (out, contacted) = run_fakes(
        Call::Write("compare-and-swap write"),
        &[Fake::NotSent, Fake::MaybeSent, Fake::Answers],
    )
    .await;
    let e = out.unwrap_err();
    assert_eq!(e.exit, crate::error::Exit::Unknown);
    assert_eq!(e.exit.code(), 5);
    assert_eq!(
        e.message,
        "the compare-and-swap write may have been applied before the connection failed, then: \
         DCS unreachable at http://h1:1 (connection refused), http://h2:2 (connection reset); \
         check the cluster before retrying"
    );
    // Never repeated at the third endpoint.
    assert_eq!(contacted, endpoints(2));
    // The cause: the unreachable error, then each endpoint tried with its underlying error.
    assert_eq!(
        crate::error::causes(&e)[1..],
        [
            "DCS unreachable at http://h1:1 (connection refused), http://h2:2 (connection reset)",
            "http://h1:1: connection refused",
            "http://h2:2: Connection reset by peer (os error 104)",
        ]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_definite_answer_stops_at_once() {
    let (out, contacted) = run_fakes(Call::Read, &[Fake::Refuses, Fake::Answers]).await;
    let e = out.unwrap_err();
    assert_eq!(
        (e.exit, e.message.as_str()),
        (crate::error::Exit::Failure, "permission denied")
    );
    assert_eq!(contacted, endpoints(1));
}

#[tokio::test(flavor = "current_thread")]
async fn none_answering_is_unreachable_with_each_endpoint_in_the_hint_and_causes() {
    let (out, contacted) = run_fakes(Call::Read, &[Fake::NotSent, Fake::MaybeSent]).await;
    assert_eq!(contacted, endpoints(2));
    let e = out.unwrap_err();
    assert_eq!(e.exit, crate::error::Exit::Unreachable);
    assert_eq!(
        e.hint.as_deref(),
        Some(
            "tried in this order: http://h1:1 (connection refused), then http://h2:2 (connection reset); \
             check that the DCS runs there and that its endpoints (--dcs-url, the hosts of the etcd3, \
             etcd or zookeeper section) are right"
        )
    );
    assert_eq!(
        crate::error::causes(&e)[1..],
        [
            "http://h1:1: connection refused",
            "http://h2:2: Connection reset by peer (os error 104)"
        ]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_connection_that_cannot_be_made_was_not_sent() {
    let eps = endpoints(2);
    let sent = std::sync::Mutex::new(Vec::new());
    let sent_ref = &sent;
    let (answer, conn, at) = run(
        &eps,
        Duration::from_secs(5),
        Call::Write("write"),
        |ep, _| async move {
            if ep.ends_with(":1") {
                Err(Miss::NotSent("no session".into()))
            } else {
                Ok(ep.to_string())
            }
        },
        |ep, conn: String, _| {
            sent_ref.lock().unwrap().push(ep.to_string());
            async move { Ok(format!("sent on {conn}")) }
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (answer.as_str(), conn.as_str(), at),
        ("sent on http://h2:2", "http://h2:2", 1)
    );
    assert_eq!(sent.into_inner().unwrap(), ["http://h2:2"]);
}

#[test]
fn a_certificate_problem_reads_as_such() {
    let mut a = Attempts::new(Duration::from_secs(5));
    a.fail(
        "https://h1:1",
        Why {
            short: tidy_reason("certificate verify failed: unable to get local issuer certificate"),
            chain: vec!["error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889:".into()],
        },
    );
    let e = a.into_error(&[]);
    assert_eq!(
        e.message,
        "DCS unreachable at https://h1:1 (TLS certificate error: certificate verify failed: unable to get local issuer certificate)"
    );
    assert!(e
        .hint
        .as_deref()
        .unwrap_or_default()
        .contains("check the DCS certificate against cacert"));
    assert_eq!(crate::error::causes(&e).len(), 2);
}

#[test]
fn prefer_keeps_the_endpoint_that_answered_first() {
    let mut order = endpoints(3);
    prefer(&mut order, 2);
    assert_eq!(order, ["http://h3:3", "http://h1:1", "http://h2:2"]);
    prefer(&mut order, 0);
    assert_eq!(order, ["http://h3:3", "http://h1:1", "http://h2:2"]);
}
