//! A generated catalogue of a building- and raw-materials yard: deterministic
//! for a seed, realistic in names, categories, attributes, units and prices.
//! It feeds `quarry demo`, the benchmarks, the relevance tests and the
//! side-by-side comparisons, so all of them see the same kind of data.

mod catalogue;
pub mod families;
pub mod hardware;
mod photos;
mod queries;
pub mod relevance;
pub mod shop;

pub use catalogue::{BASE, Base, generate, product_json};
pub use queries::{GeneratedQuery, queries};

/// A small, fast, seeded generator (xorshift64*): the same seed gives the same
/// catalogue on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % n.max(1) as u64).expect("below n fits")
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
