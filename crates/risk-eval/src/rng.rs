//! The shared seeded generator (`backstock-seeded`) with the fractions the histories
//! draw their parameters from.

use crate::Real;

#[derive(Debug, Clone)]
pub struct Rng(backstock_seeded::Rng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(backstock_seeded::Rng::new(seed))
    }

    /// A new generator for one purpose (a distributor, the catalog…), so that adding
    /// draws in one place does not move every other stream.
    pub fn fork(&mut self, salt: u64) -> Rng {
        Rng(self.0.fork(salt))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.0.range(lo, hi)
    }

    /// Uniform in [lo, hi).
    pub fn real(&mut self, lo: Real, hi: Real) -> Real {
        let u = (self.next_u64() >> 11) as Real / (1u64 << 53) as Real;
        lo + (hi - lo) * u
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: Real) -> bool {
        self.real(0.0, 1.0) < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_stay_inside_and_cover_their_ends() {
        let mut r = Rng::new(7);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let v = r.range(3, 7);
            assert!((3..=7).contains(&v));
            seen[(v - 3) as usize] = true;
            let x = r.real(1.5, 2.5);
            assert!((1.5..2.5).contains(&x));
        }
        assert!(seen.iter().all(|s| *s));
    }
}
