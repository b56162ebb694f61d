//! Base-128 varints as protobuf writes them (least significant group first, high bit set
//! on every byte but the last), and zigzag for signed values: the byte-level encoding
//! shared by the collector's OTLP writer, the aggregator's OTLP reader and its
//! write-ahead log. Reading never panics: a truncated or over-long varint is `None`.

/// Bytes [`put`] writes for `v`.
#[inline]
pub fn len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends `v`.
#[inline]
pub fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded, so small negative values stay short.
#[inline]
pub fn put_signed(out: &mut Vec<u8>, v: i64) {
    put(out, zigzag(v));
}

/// The zigzag form of `v`: 0, -1, 1, -2… become 0, 1, 2, 3…
#[inline]
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The inverse of [`zigzag`].
#[inline]
pub fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Reads a varint at `*at` and moves `*at` past it; `None` (with `*at` unchanged) if the
/// bytes end first or it runs over 10 bytes.
#[inline]
pub fn read(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for (i, shift) in (0..64).step_by(7).enumerate() {
        let byte = *b.get(*at + i)?;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            *at += i + 1;
            return Some(v);
        }
    }
    None
}

/// [`read`], zigzag-decoded.
#[inline]
pub fn read_signed(b: &[u8], at: &mut usize) -> Option<i64> {
    read(b, at).map(unzigzag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        let enc = |v: u64| {
            let mut out = Vec::new();
            put(&mut out, v);
            out
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(1), [1]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0x80, 0x01]);
        assert_eq!(enc(300), [0xac, 0x02]);
        assert_eq!(enc(u64::MAX).len(), 10);
        assert_eq!([zigzag(0), zigzag(-1), zigzag(1), zigzag(-2)], [0, 1, 2, 3]);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
    }

    #[test]
    fn truncated_and_over_long_input_is_none() {
        let mut at = 0;
        assert_eq!(read(&[0x80, 0x80], &mut at), None);
        assert_eq!(at, 0);
        assert_eq!(read(&[0xff; 11], &mut at), None);
        assert_eq!(read(&[], &mut at), None);
    }

    proptest::proptest! {
        #[test]
        fn round_trips(vals in proptest::collection::vec(proptest::num::i64::ANY, 0..50)) {
            let mut out = Vec::new();
            for v in &vals {
                put_signed(&mut out, *v);
                put(&mut out, *v as u64);
            }
            let mut at = 0;
            for v in &vals {
                proptest::prop_assert_eq!(read_signed(&out, &mut at), Some(*v));
                let before = at;
                proptest::prop_assert_eq!(read(&out, &mut at), Some(*v as u64));
                proptest::prop_assert_eq!(at - before, len(*v as u64));
            }
            proptest::prop_assert_eq!(at, out.len());
        }
    }
}
