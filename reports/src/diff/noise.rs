//! Several runs per side: the median a diff compares and the run-to-run
//! spread it must see a change go past before flagging it.
//!
//! The spread of a side is the largest relative deviation of one of its
//! runs from the side's median, in percent. A change is flagged only when
//! it exceeds the metric's threshold *and* the larger spread of the two
//! sides: a baseline that already varied by 12% between identical runs
//! cannot show that a 10% drop is the firmware and not the noise. The
//! largest deviation (not a standard deviation) is used because a side has
//! a handful of runs, too few for a distribution, and because it is the
//! same test a person makes by eye: the new median falls outside the range
//! the baseline runs covered.

/// The median of `values` (the mean of the middle two for an even count);
/// `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] })
}

/// The largest deviation of one of `values` from their median, in percent
/// of the median. `None` with fewer than two values (no spread was seen)
/// or a zero median with values around it (no relative spread exists).
pub fn spread_percent(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = median(values)?;
    let largest = values.iter().map(|v| (v - m).abs()).fold(0.0, f64::max);
    if m == 0.0 {
        return (largest == 0.0).then_some(0.0);
    }
    Some(largest / m.abs() * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn spread_is_the_largest_relative_deviation() {
        assert_eq!(spread_percent(&[100.0]), None);
        assert_eq!(spread_percent(&[100.0, 100.0, 100.0]), Some(0.0));
        // Median 100, farthest 88: 12%.
        let s = spread_percent(&[100.0, 88.0, 104.0]).unwrap();
        assert!((s - 12.0).abs() < 1e-9, "{s}");
        assert_eq!(spread_percent(&[0.0, 0.0]), Some(0.0));
        assert_eq!(spread_percent(&[0.0, 0.0, 5.0]), None);
    }
}
