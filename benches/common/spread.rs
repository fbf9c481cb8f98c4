//! Medians and spread for the benchmarks (included by path from every bench crate, so each
//! figure in `BENCHMARKS.md` is reported the same way). Each bench uses part of it.
#![allow(dead_code)]

/// The middle and the spread of repeated measurements, in whatever unit they were given.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Spread {
    /// Panics on an empty set: a bench that measured nothing is a broken bench.
    pub fn of(samples: &[f64]) -> Spread {
        assert!(!samples.is_empty(), "no measurements");
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let at = |p: f64| s[((s.len() - 1) as f64 * p).round() as usize];
        Spread {
            median: at(0.5),
            p10: at(0.1),
            p90: at(0.9),
            min: s[0],
            max: s[s.len() - 1],
            n: s.len(),
        }
    }

    /// Durations as milliseconds.
    pub fn of_ms(samples: &[std::time::Duration]) -> Spread {
        let ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        Spread::of(&ms)
    }

    /// `"p10–p90 a–b"` for many samples, `"range a–b"` for a handful (where p10 and p90 would
    /// be the extremes anyway), with `decimals` digits.
    pub fn range(&self, decimals: usize) -> String {
        if self.n >= 10 {
            format!(
                "p10–p90 {:.*}–{:.*}",
                decimals, self.p10, decimals, self.p90
            )
        } else {
            format!(
                "range {:.*}–{:.*} of {}",
                decimals, self.min, decimals, self.max, self.n
            )
        }
    }
}
