//! A small deterministic generator for the property tests (`tests/offline`: fuzz, formats; the
//! generative read test of `tests/cli`): fixed seeds, the same cases on every run.

#![allow(dead_code)]

/// A small deterministic generator (xorshift64*) for the property tests: fixed seeds, the same
/// cases on every run.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `xs`.
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// How many cases a property test generates: `PATCTL_PROPERTY_CASES` when set (to look further, e.g.
/// `PATCTL_PROPERTY_CASES=20000 cargo test --test offline fuzz`), else `default` (what plain `cargo test`
/// affords in about a second).
pub fn cases(default: usize) -> usize {
    std::env::var("PATCTL_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
