//! Unit tests of the cluster-level store and the fail-over helpers, on the memory back end.

use super::*;

fn demo() -> Memory {
    Memory::with([
        ("/service/demo/config", r#"{"ttl":30}"#),
        ("/service/demo/leader", "n1"),
        ("/service/demo/members/n1", "{}"),
        ("/service/other/leader", "x"),
        ("/service/cit/0/leader", "c1"),
        ("/service/cit/1/leader", "w1"),
    ])
}

#[tokio::test(flavor = "current_thread")]
async fn cluster_reads_and_scopes() {
    let m = demo();
    let mut dcs = Dcs::memory(&m, Layout::new("/service/", false));
    let c = dcs.get_cluster("demo", None).await.unwrap();
    assert_eq!(c.leader_name(), Some("n1"));
    assert_eq!(c.members.len(), 1);
    assert_eq!(dcs.scopes().await.unwrap(), ["cit", "demo", "other"]);
    let mut citus = Dcs::memory(&m, Layout::new("/service/", true));
    let c = citus.get_cluster("cit", None).await.unwrap();
    assert_eq!(c.leader_name(), Some("c1"));
    assert_eq!(c.workers.len(), 1);
    let w = citus.get_cluster("cit", Some(1)).await.unwrap();
    assert_eq!(w.leader_name(), Some("w1"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_namespace_in_one_read() {
    let m = demo();
    m.set("/other-ns/x/leader", "x1");
    m.set("/service/stray", "not a cluster key");
    let mut dcs = Dcs::memory(&m, Layout::new("/service/", false));
    let all = dcs.get_namespace(None).await.unwrap();
    assert_eq!(all.namespace, "/service/");
    let all = all.clusters;
    let names: Vec<&str> = all.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(names, ["cit", "demo", "other"]);
    assert_eq!(all[1].1, dcs.get_cluster("demo", None).await.unwrap());
    let other = dcs.get_namespace(Some("other-ns")).await.unwrap();
    assert_eq!(other.namespace, "/other-ns/");
    assert_eq!(other.clusters.len(), 1);
    assert_eq!(other.clusters[0].1.leader_name(), Some("x1"));
    let mut citus = Dcs::memory(&m, Layout::new("/service/", true));
    let all = citus.get_namespace(None).await.unwrap().clusters;
    assert_eq!(all[0].1, citus.get_cluster("cit", None).await.unwrap());
    assert_eq!(all[0].1.workers.len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn writes_with_expectations_and_conflicts() {
    let m = demo();
    let mut dcs = Dcs::memory(&m, Layout::new("/service/", false));
    let c = dcs.get_cluster("demo", None).await.unwrap();
    let v = c.config.unwrap().version;
    dcs.set_config("demo", None, "{}", Expect::At(v))
        .await
        .unwrap();
    assert_eq!(m.get("/service/demo/config").as_deref(), Some("{}"));
    let e = dcs
        .set_config("demo", None, "{\"x\":1}", Expect::At(v))
        .await
        .unwrap_err();
    assert_eq!(e.exit, Exit::Conflict);
    assert_eq!(
        e.message,
        "the configuration of demo changed concurrently; nothing written"
    );
    dcs.set_failover("demo", None, "f", Expect::Absent)
        .await
        .unwrap();
    let e = dcs
        .set_failover("demo", Some(2), "g", Expect::At(v))
        .await
        .unwrap_err();
    assert!(is_conflict(&e));
    assert_eq!(
        e.message,
        "the failover key of demo (group 2) changed concurrently; nothing written"
    );
    assert_eq!(m.get("/service/demo/config").as_deref(), Some("{}"));
}

#[tokio::test(flavor = "current_thread")]
async fn citus_writes_and_deletes_address_the_coordinator_without_a_group() {
    let m = demo();
    let mut dcs = Dcs::memory(&m, Layout::new("/service/", true));
    dcs.set_failover("cit", None, "{}", Expect::Any)
        .await
        .unwrap();
    assert_eq!(m.get("/service/cit/0/failover").as_deref(), Some("{}"));
    dcs.delete_cluster("cit", Some(1)).await.unwrap();
    assert!(m.get("/service/cit/1/leader").is_none());
    dcs.delete_cluster("cit", None).await.unwrap();
    assert!(m.keys().iter().all(|k| !k.starts_with("/service/cit/")));
    assert!(m.get("/service/demo/leader").is_some());
}

#[tokio::test(flavor = "current_thread")]
async fn waits_on_the_cluster_read() {
    let m = demo();
    let mut dcs = Dcs::memory(&m, Layout::new("/service/", false));
    dcs.get_cluster("demo", None).await.unwrap();
    let short = Duration::from_millis(10);
    m.set("/service/other/leader", "y");
    assert!(!dcs.wait_for_change("demo", None, short).await.unwrap());
    m.set("/service/demo/leader", "n2");
    assert!(dcs.wait_for_change("demo", None, short).await.unwrap());
}
