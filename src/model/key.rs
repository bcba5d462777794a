//! What a store tells about a key besides its value: its version for compare-and-swap and what is
//! left of its lease or TTL. Plain values, owned by the model so that it needs no DCS to hold them;
//! the back ends under `src/dcs/` produce them (re-exported there as `dcs::Version`, `dcs::KeyTtl`).

/// The version of a key as read, for compare-and-swap: etcd v3 `mod_revision`, etcd v2
/// `modifiedIndex`, a znode's `stat.version`. Opaque: only the back end that produced it gives it a
/// meaning, and only equality is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version(i64);

impl Version {
    /// Wrap a back end's raw version number.
    pub fn new(raw: i64) -> Version {
        Version(raw)
    }

    /// The raw number, for the back end that made it.
    pub fn raw(self) -> i64 {
        self.0
    }
}

/// What is left of a key's lease (etcd v3) or TTL (etcd v2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyTtl {
    /// The TTL the lease was granted with (etcd v3); `None` where the store does not keep it (etcd
    /// v2, where Patroni sets the cluster's `ttl` on every write).
    pub granted: Option<f64>,
    /// Seconds before the store expires the key unless it is refreshed.
    pub remaining: f64,
}

impl KeyTtl {
    /// Seconds since the key (or its lease) was last refreshed: granted − remaining, the cluster's
    /// `ttl` standing in for an unknown grant; never negative.
    pub fn age(&self, ttl: f64) -> f64 {
        (self.granted.unwrap_or(ttl) - self.remaining).max(0.0)
    }
}
