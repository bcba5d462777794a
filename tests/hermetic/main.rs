//! Hermetic command tests: every command runs in-process (`cli::run_command`) against an in-memory
//! DCS (`dcs::Memory`) and, as the members' REST APIs, the fake REST API of `tests/support`. No
//! sandbox, no etcd, no Patroni: plain `cargo test` runs them on any machine in seconds.
//!
//! They test each command's own logic — prompts, candidate selection, messages, exit codes and what
//! is written to the DCS. Byte-for-byte equality with patronictl is the sandbox tests' job
//! (`tests/cli`).

#[path = "../support/fake_api.rs"]
mod fake_api;
mod harness;
#[path = "../support/schema.rs"]
mod schema;
#[path = "../support/wait.rs"]
mod wait;

mod check; // check: check_patroni's lines for fixed REST answers, endpoints from the DCS
mod config; // show-config, edit-config (CAS), pause/resume
mod doctor; // doctor: findings from fake REST APIs and the memory DCS, exit 1 on FAIL
mod events; // events: the change stream, --since-revision, outages
mod hints; // hints of refused REST requests and unknown clusters, -o json causes
mod key_ttl; // pre-flight DCS warnings (endpoints, quorum, leader key TTL), members' key age
mod list; // list, topology, history rendering from a fixture
mod list_all; // list/topology --all: namespaces, health lines, filters, exit 9, -o json data
mod machine; // -o json|yaml of the reads, error envelopes, the schema files
mod machine_writes; // -o json|yaml of the writes: each member's outcome, the wait stages
mod members; // flush (REST, then the DCS with CAS), restart, reload
mod remove; // remove: confirmations, what is deleted
mod roles; // demote-cluster, promote-cluster: the PATCH, then waiting in the DCS
mod switchover; // switchover/failover: prompts, candidates, REST result, DCS fallback
