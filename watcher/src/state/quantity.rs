//! Kubernetes resource quantities (`100m`, `1.5Gi`, `2e3`, `128974848`), with
//! apimachinery's rounding: `Value()` and `MilliValue()` round up, away from zero.

/// A parsed quantity: `±digits × 10^exp10` (binary suffixes folded into `digits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    negative: bool,
    digits: u128,
    exp10: i32,
}

impl Quantity {
    /// Parses the canonical and the accepted forms; `None` for malformed input.
    pub fn parse(s: &str) -> Option<Quantity> {
        let s = s.trim();
        let (negative, rest) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(num_end);
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
            return None;
        }
        let mut digits: u128 = 0;
        for c in int.chars().chain(frac.chars()) {
            digits = digits
                .checked_mul(10)?
                .checked_add(u128::from(c as u8 - b'0'))?;
        }
        let mut exp10 = -i32::try_from(frac.len()).ok()?;
        let (mul2, add10): (u32, i32) = match suffix {
            "" => (0, 0),
            "Ki" => (10, 0),
            "Mi" => (20, 0),
            "Gi" => (30, 0),
            "Ti" => (40, 0),
            "Pi" => (50, 0),
            "Ei" => (60, 0),
            "n" => (0, -9),
            "u" => (0, -6),
            "m" => (0, -3),
            "k" => (0, 3),
            "M" => (0, 6),
            "G" => (0, 9),
            "T" => (0, 12),
            "P" => (0, 15),
            "E" => (0, 18),
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..].parse().ok()?;
                if !(-1000..=1000).contains(&e) {
                    return None;
                }
                (0, e)
            }
            _ => return None,
        };
        digits = digits.checked_mul(1u128 << mul2)?;
        exp10 += add10;
        Some(Quantity {
            negative,
            digits,
            exp10,
        })
    }

    /// `value × 10^scale`, rounded away from zero, saturated to i64.
    fn scaled(&self, scale: i32) -> i64 {
        let e = self.exp10 + scale;
        let magnitude: u128 = if e >= 0 {
            let mut m = self.digits;
            for _ in 0..e {
                match m.checked_mul(10) {
                    Some(v) => m = v,
                    None => return self.saturate(),
                }
            }
            m
        } else {
            let mut div: u128 = 1;
            for _ in 0..(-e) {
                match div.checked_mul(10) {
                    Some(v) => div = v,
                    None => {
                        // Divisor beyond u128: the magnitude is below 1.
                        return if self.digits == 0 {
                            0
                        } else if self.negative {
                            -1
                        } else {
                            1
                        };
                    }
                }
            }
            self.digits.div_ceil(div)
        };
        match i64::try_from(magnitude) {
            Ok(m) if self.negative => -m,
            Ok(m) => m,
            Err(_) => self.saturate(),
        }
    }

    fn saturate(&self) -> i64 {
        if self.negative {
            i64::MIN
        } else {
            i64::MAX
        }
    }

    /// apimachinery's `Value()`: rounded up to an integer.
    pub fn value(&self) -> i64 {
        self.scaled(0)
    }

    /// apimachinery's `MilliValue()`: thousandths, rounded up.
    pub fn milli_value(&self) -> i64 {
        self.scaled(3)
    }
}

/// The largest value whose milli-value fits in an int64 (apimachinery `MaxMilliValue`).
const MAX_MILLI_VALUE: i64 = i64::MAX / 1000;

/// kube-state-metrics' `convertValueToFloat64` (pod cpu): milli precision unless
/// that would overflow.
pub fn cores(q: &Quantity) -> f64 {
    if q.value() > MAX_MILLI_VALUE {
        q.value() as f64
    } else {
        q.milli_value() as f64 / 1000.0
    }
}

/// `float64(q.Value())` (bytes, counts).
pub fn units(q: &Quantity) -> f64 {
    q.value() as f64
}

/// `float64(q.MilliValue()) / 1000` (node capacity and allocatable).
pub fn milli_units(q: &Quantity) -> f64 {
    q.milli_value() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suffixes_and_rounds_up() {
        let cases: [(&str, i64, i64); 17] = [
            ("100m", 1, 100),
            ("1", 1, 1000),
            ("1.5", 2, 1500),
            ("250m", 1, 250),
            ("2", 2, 2000),
            ("128Mi", 134_217_728, 134_217_728_000),
            ("1Gi", 1_073_741_824, 1_073_741_824_000),
            ("1.5Gi", 1_610_612_736, 1_610_612_736_000),
            ("1k", 1000, 1_000_000),
            ("2M", 2_000_000, 2_000_000_000),
            ("1G", 1_000_000_000, 1_000_000_000_000),
            ("5e3", 5000, 5_000_000),
            ("12E-1", 2, 1200),
            ("1n", 1, 1),
            ("500u", 1, 1),
            ("16Ki", 16384, 16_384_000),
            ("-100m", -1, -100),
        ];
        for (s, value, milli) in cases {
            let q = Quantity::parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!((q.value(), q.milli_value()), (value, milli), "{s}");
        }
    }

    #[test]
    fn rejects_garbage_and_saturates() {
        for s in ["", "m", "1.2.3", "1Xi", "abc", "1e", "--1"] {
            assert_eq!(Quantity::parse(s), None, "{s}");
        }
        let q = Quantity::parse("8E").expect("8E");
        assert_eq!(q.value(), 8_000_000_000_000_000_000);
        assert_eq!(q.milli_value(), i64::MAX);
        let q = Quantity::parse("100Ei").expect("100Ei");
        assert_eq!(q.value(), i64::MAX);
        assert_eq!(cores(&Quantity::parse("100m").expect("cpu")), 0.1);
        assert_eq!(milli_units(&Quantity::parse("3800m").expect("cpu")), 3.8);
    }
}
