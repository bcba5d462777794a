//! Python compatibility, in one place: what patronictl's output and input look like because they go
//! through Python, PyYAML and `json`. Every layer may use it (the REST client, the config loader, the
//! commands and the renderers); it depends on nothing else in the crate.
//!
//! - [`repr`]: `repr()`/`str()` of strings, floats and JSON-like values.
//! - [`truth`]: `bool(x)` and `==` on JSON-like values.
//! - [`datetime`]: `datetime.isoformat()` and `str(datetime)`.
//! - [`json`]: `json.dumps` (default and compact separators).
//! - [`yaml_dump`]: `yaml.safe_dump` as patronictl calls it.
//! - [`yaml_load`]: `yaml.safe_load`, over libyaml's event parser ([`libyaml`]).
//! - [`resolve`]: PyYAML's YAML 1.1 implicit resolvers and scalar constructors, shared by the
//!   emitter (when to quote) and the loader (how to type a plain scalar).
//!
//! psycopg2's casting of query results stays with `query` (`commands::pyvalue`).

pub mod datetime;
pub mod json;
pub mod libyaml;
pub mod repr;
pub mod resolve;
pub mod truth;
pub mod yaml_dump;
pub mod yaml_load;
