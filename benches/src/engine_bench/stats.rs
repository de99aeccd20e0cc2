//! Order statistics over timing samples: the median and the spread (min, max, MAD).
//!
//! Medians rather than means: on a shared machine a few runs are slowed by other work, and the
//! median ignores them while the mean does not. The median absolute deviation (MAD) is the
//! matching robust spread.

use serde::Serialize;

/// The statistics of one series of samples, in the samples' unit (nanoseconds here).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub runs: usize,
    /// The median (mean of the two middle samples for an even count).
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// Median absolute deviation from the median.
    pub mad: f64,
}

impl Summary {
    /// The statistics of `samples`, or `None` when there are none (or one is not finite).
    pub fn of(samples: &[f64]) -> Option<Self> {
        if samples.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let med = median(samples)?;
        let deviations: Vec<f64> = samples.iter().map(|x| (x - med).abs()).collect();
        Some(Self {
            runs: samples.len(),
            median: med,
            min: samples.iter().copied().fold(f64::INFINITY, f64::min),
            max: samples.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mad: median(&deviations)?,
        })
    }

    /// The statistics of integer samples (nanosecond counts).
    pub fn of_u64(samples: &[u64]) -> Option<Self> {
        Self::of(&samples.iter().map(|&x| x as f64).collect::<Vec<_>>())
    }

    /// MAD relative to the median, in percent (0 when the median is 0).
    pub fn mad_percent(&self) -> f64 {
        if self.median == 0.0 { 0.0 } else { 100.0 * self.mad / self.median }
    }
}

/// The median of `samples`, or `None` for an empty slice. NaNs sort last.
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        // Even count: the mean of the two middle values, whatever the input order.
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn median_ignores_one_outlier() {
        // One run slowed 100x by a neighbour's build must not move the median.
        assert_eq!(median(&[10.0, 11.0, 1000.0, 9.0, 10.0]), Some(10.0));
    }

    #[test]
    fn summary_spread() {
        let s = Summary::of_u64(&[10, 12, 9, 100, 11]).unwrap();
        assert_eq!(s.runs, 5);
        assert_eq!(s.median, 11.0);
        assert_eq!((s.min, s.max), (9.0, 100.0));
        // Deviations from 11: 1, 1, 2, 89, 0 -> median 1.
        assert_eq!(s.mad, 1.0);
        assert!((s.mad_percent() - 100.0 / 11.0).abs() < 1e-9);
    }

    #[test]
    fn summary_of_nothing_or_garbage() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
        let one = Summary::of(&[5.0]).unwrap();
        assert_eq!((one.median, one.min, one.max, one.mad), (5.0, 5.0, 5.0, 0.0));
        assert_eq!(Summary::of(&[0.0, 0.0]).unwrap().mad_percent(), 0.0);
    }
}
