//! Machine output (`-o json|yaml`) checked against the committed JSON Schemas, shared by the
//! hermetic tests and the sandbox tests: `schemas/<Kind>.schema.json` (draft 2020-12, `format`
//! checked, so `observedAt` and every timestamp must be RFC 3339) validates the whole envelope.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// The repository's `schemas/` directory.
pub fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// The committed schema of `kind`, parsed.
pub fn load(kind: &str) -> Value {
    let path = schema_dir().join(format!("{kind}.schema.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no schema for kind {kind} at {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The errors of `instance` against `schema` (empty when valid), one line each with its place.
pub fn errors(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("the schema does not compile: {e}"));
    validator
        .iter_errors(instance)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect()
}

/// Assert that `envelope` is a `kind` envelope valid against `schemas/<kind>.schema.json`.
#[track_caller]
pub fn assert_valid(kind: &str, envelope: &Value) {
    assert_eq!(
        envelope["kind"], kind,
        "envelope of another kind: {envelope:#}"
    );
    let found = errors(&load(kind), envelope);
    assert!(
        found.is_empty(),
        "the {kind} envelope does not match schemas/{kind}.schema.json:\n{}\nenvelope:\n{envelope:#}",
        found.join("\n")
    );
}

/// Parse what a command printed on stdout with `-o json`: exactly one JSON document.
#[track_caller]
pub fn parse_json(stdout: &str) -> Value {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"))
}

/// The envelope without what differs between two runs of the same command (`observedAt`).
pub fn untimed(envelope: &Value) -> Value {
    let mut v = envelope.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("observedAt");
    }
    v
}
