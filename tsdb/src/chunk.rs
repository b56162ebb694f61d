//! Gorilla-compressed chunks of float samples, as Prometheus' XOR chunks: timestamps as
//! delta-of-delta in variable-width buckets, values XOR-ed with their predecessor, keeping
//! only the meaningful bits. A chunk holds up to [`MAX_SAMPLES`] samples.

use argus_core::series::Sample;

/// Samples per chunk (Prometheus' choice: 120 samples = 30 min at 15 s).
pub const MAX_SAMPLES: u16 = 120;

/// Appends bits to a byte vector.
#[derive(Debug, Clone, Default)]
struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte (0 = a new byte is needed).
    used: u8,
}

impl BitWriter {
    fn bit(&mut self, b: bool) {
        if self.used == 0 {
            self.bytes.push(0);
            self.used = 8;
        }
        self.used -= 1;
        if b {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 1 << self.used;
            }
        }
    }

    /// The low `n` (≤ 64) bits of `v`, most significant first, a byte at a time.
    fn bits(&mut self, v: u64, n: u8) {
        let mut left = n;
        while left > 0 {
            if self.used == 0 {
                self.bytes.push(0);
                self.used = 8;
            }
            let take = self.used.min(left);
            let piece = ((v >> (left - take)) & ((1u64 << take) - 1)) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= piece << (self.used - take);
            }
            self.used -= take;
            left -= take;
        }
    }

    fn uvarint(&mut self, mut v: u64) {
        loop {
            let mut b = (v & 0x7f) as u8;
            v >>= 7;
            if v != 0 {
                b |= 0x80;
            }
            self.bits(u64::from(b), 8);
            if v == 0 {
                break;
            }
        }
    }

    fn varint(&mut self, v: i64) {
        self.uvarint(((v << 1) ^ (v >> 63)) as u64);
    }
}

/// Reads bits back; every read returns None past the end (no panics on bad data).
#[derive(Debug, Clone)]
struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn bit(&mut self) -> Option<bool> {
        let byte = *self.bytes.get(self.pos / 8)?;
        let b = (byte >> (7 - (self.pos % 8))) & 1 == 1;
        self.pos += 1;
        Some(b)
    }

    /// `n` (≤ 64) bits, taken a byte at a time.
    fn bits(&mut self, n: u8) -> Option<u64> {
        let n = usize::from(n);
        if self.pos + n > self.bytes.len() * 8 {
            return None;
        }
        let mut v = 0u64;
        let mut left = n;
        while left > 0 {
            let byte = *self.bytes.get(self.pos / 8)?;
            let avail = 8 - self.pos % 8;
            let take = avail.min(left);
            let piece = (u64::from(byte) >> (avail - take)) & ((1u64 << take) - 1);
            // `take` < 64 here, so the shift is defined.
            v = (v << take) | piece;
            self.pos += take;
            left -= take;
        }
        Some(v)
    }

    fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.bits(8)?;
            v |= (b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn varint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}

/// A chunk being appended to (also readable).
#[derive(Debug, Clone, Default)]
pub struct Chunk {
    w: BitWriter,
    count: u16,
    min_t: i64,
    max_t: i64,
    t_delta: i64,
    last_v: u64,
    leading: u8,
    trailing: u8,
}

/// The (delta-of-delta) buckets: bit prefix, value width.
const DOD_BUCKETS: [(u64, u8, u8); 3] = [(0b10, 2, 14), (0b110, 3, 17), (0b1110, 4, 20)];

impl Chunk {
    pub fn new() -> Chunk {
        Chunk {
            leading: 0xff,
            ..Chunk::default()
        }
    }

    pub fn len(&self) -> u16 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn is_full(&self) -> bool {
        self.count >= MAX_SAMPLES
    }

    pub fn min_t(&self) -> i64 {
        self.min_t
    }

    pub fn max_t(&self) -> i64 {
        self.max_t
    }

    /// Encoded size in bytes.
    pub fn size(&self) -> usize {
        self.w.bytes.len()
    }

    /// The encoded bytes (with [`Chunk::count`] enough to decode them).
    pub fn bytes(&self) -> &[u8] {
        &self.w.bytes
    }

    /// Appends a sample; the caller guarantees increasing timestamps.
    pub fn append(&mut self, t: i64, v: f64) {
        let vb = v.to_bits();
        match self.count {
            0 => {
                self.w.varint(t);
                self.w.bits(vb, 64);
                self.min_t = t;
            }
            1 => {
                let d = t - self.max_t;
                self.w.uvarint(d as u64);
                self.write_xor(vb);
                self.t_delta = d;
            }
            _ => {
                let d = t - self.max_t;
                let dod = d - self.t_delta;
                if dod == 0 {
                    self.w.bit(false);
                } else {
                    let mut done = false;
                    for (prefix, plen, width) in DOD_BUCKETS {
                        let lim = 1i64 << (width - 1);
                        if -lim < dod && dod <= lim {
                            self.w.bits(prefix, plen);
                            self.w.bits((dod as u64) & ((1u64 << width) - 1), width);
                            done = true;
                            break;
                        }
                    }
                    if !done {
                        self.w.bits(0b1111, 4);
                        self.w.bits(dod as u64, 64);
                    }
                }
                self.write_xor(vb);
                self.t_delta = d;
            }
        }
        self.max_t = t;
        self.last_v = vb;
        self.count += 1;
        if self.count == MAX_SAMPLES {
            // Closed for good: give back the growth slack of the byte vector.
            self.w.bytes.shrink_to_fit();
        }
    }

    fn write_xor(&mut self, vb: u64) {
        let x = vb ^ self.last_v;
        if x == 0 {
            self.w.bit(false);
            return;
        }
        self.w.bit(true);
        let mut leading = x.leading_zeros() as u8;
        let trailing = x.trailing_zeros() as u8;
        // The leading count is stored in 5 bits.
        if leading >= 32 {
            leading = 31;
        }
        if self.leading != 0xff && leading >= self.leading && trailing >= self.trailing {
            self.w.bit(false);
            let sig = 64 - self.leading - self.trailing;
            self.w.bits(x >> self.trailing, sig);
        } else {
            self.leading = leading;
            self.trailing = trailing;
            self.w.bit(true);
            self.w.bits(u64::from(leading), 5);
            let sig = 64 - leading - trailing;
            // 64 significant bits are written as 0 (6 bits hold 0..=63).
            self.w.bits(u64::from(sig) & 0x3f, 6);
            self.w.bits(x >> trailing, sig);
        }
    }

    /// Decodes every sample.
    pub fn samples(&self) -> Vec<Sample> {
        decode(&self.w.bytes, self.count)
    }

    /// Rebuilds a chunk from its bytes and count (from a snapshot); None if they do not
    /// decode.
    pub fn from_bytes(bytes: Vec<u8>, count: u16) -> Option<Chunk> {
        let samples = decode(&bytes, count);
        if samples.len() != usize::from(count) {
            return None;
        }
        let mut c = Chunk::new();
        for s in samples {
            c.append(s.t, s.v);
        }
        (c.w.bytes == bytes).then_some(c)
    }
}

/// Decodes `count` samples from chunk bytes; stops early (shorter result) on bad data.
pub fn decode(bytes: &[u8], count: u16) -> Vec<Sample> {
    let mut out = Vec::with_capacity(usize::from(count));
    decode_into(bytes, count, i64::MIN, i64::MAX, &mut out);
    out
}

/// Appends the samples with `mint <= t <= maxt` to `out`, stopping at the first past
/// `maxt` (timestamps increase) or at bad data.
pub fn decode_into(bytes: &[u8], count: u16, mint: i64, maxt: i64, out: &mut Vec<Sample>) {
    let mut r = BitReader { bytes, pos: 0 };
    let (mut t, mut delta, mut vb) = (0i64, 0i64, 0u64);
    let (mut leading, mut trailing) = (0u8, 0u8);
    for i in 0..count {
        let ok = (|| -> Option<()> {
            match i {
                0 => {
                    t = r.varint()?;
                    vb = r.bits(64)?;
                }
                1 => {
                    delta = r.uvarint()? as i64;
                    // Checked: corrupt bytes must end the chunk, not overflow.
                    t = t.checked_add(delta)?;
                    vb = read_xor(&mut r, vb, &mut leading, &mut trailing)?;
                }
                _ => {
                    let mut prefix = 0u8;
                    while prefix < 4 && r.bit()? {
                        prefix += 1;
                    }
                    let dod = match prefix {
                        0 => 0,
                        4 => r.bits(64)? as i64,
                        n => {
                            let width = DOD_BUCKETS[usize::from(n - 1)].2;
                            let raw = r.bits(width)?;
                            // Sign-extend from `width` bits.
                            ((raw << (64 - width)) as i64) >> (64 - width)
                        }
                    };
                    delta = delta.checked_add(dod)?;
                    t = t.checked_add(delta)?;
                    vb = read_xor(&mut r, vb, &mut leading, &mut trailing)?;
                }
            }
            Some(())
        })();
        if ok.is_none() || t > maxt {
            break;
        }
        if t >= mint {
            out.push(Sample {
                t,
                v: f64::from_bits(vb),
            });
        }
    }
}

fn read_xor(r: &mut BitReader<'_>, prev: u64, leading: &mut u8, trailing: &mut u8) -> Option<u64> {
    if !r.bit()? {
        return Some(prev);
    }
    if r.bit()? {
        *leading = r.bits(5)? as u8;
        let mut sig = r.bits(6)? as u8;
        if sig == 0 {
            sig = 64;
        }
        *trailing = 64u8.checked_sub(*leading + sig)?;
    }
    let sig = 64u8.checked_sub(*leading + *trailing)?;
    let bits = r.bits(sig)?;
    Some(prev ^ (bits << *trailing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(samples: &[(i64, f64)]) {
        let mut c = Chunk::new();
        for &(t, v) in samples {
            c.append(t, v);
        }
        let got = c.samples();
        assert_eq!(got.len(), samples.len());
        for (g, &(t, v)) in got.iter().zip(samples) {
            assert_eq!(g.t, t);
            assert_eq!(g.v.to_bits(), v.to_bits(), "value at {t}");
        }
        let again = Chunk::from_bytes(c.bytes().to_vec(), c.len()).expect("rebuild");
        let bits = |v: &[Sample]| v.iter().map(|s| (s.t, s.v.to_bits())).collect::<Vec<_>>();
        assert!(
            bits(&again.samples()) == bits(&got),
            "rebuilt chunk differs"
        );
    }

    #[test]
    fn regular_scrapes_compress_to_about_a_byte_or_two_per_sample() {
        let mut c = Chunk::new();
        let mut v = 1000.0;
        for i in 0..120 {
            c.append(1_700_000_000_000 + i * 15_000, v);
            v += 3.0;
        }
        assert!(c.size() < 120 * 3, "{} bytes", c.size());
        roundtrip(&[(0, 1.0), (15_000, 1.0), (30_000, 2.5)]);
    }

    #[test]
    fn special_values_and_jitter() {
        roundtrip(&[
            (-5, f64::NAN),
            (10, f64::INFINITY),
            (11, f64::NEG_INFINITY),
            (1_000_000, 0.0),
            (1_000_001, -0.0),
            (
                9_000_000_000,
                f64::from_bits(argus_core::series::STALE_NAN_BITS),
            ),
            (9_000_000_001, f64::MIN_POSITIVE),
            (9_000_000_003, f64::MAX),
        ]);
    }

    #[test]
    fn decodes_a_window() {
        let mut c = Chunk::new();
        for i in 0..120 {
            c.append(i * 10, i as f64);
        }
        let mut out = Vec::new();
        decode_into(c.bytes(), c.len(), 95, 300, &mut out);
        assert_eq!(out.first().map(|s| s.t), Some(100));
        assert_eq!(out.last().map(|s| s.t), Some(300));
        assert_eq!(out.len(), 21);
    }

    #[test]
    fn garbage_decodes_short_without_panicking() {
        assert!(decode(&[0xff; 5], 120).len() <= 120);
        assert!(decode(&[], 3).is_empty());
    }

    proptest! {
        #[test]
        fn any_increasing_series_round_trips(
            start in -1_000_000_000_000i64..2_000_000_000_000,
            gaps in proptest::collection::vec(1i64..10_000_000_000, 0..119),
            vals in proptest::collection::vec(any::<u64>(), 120),
        ) {
            let mut t = start;
            let mut s = vec![(t, f64::from_bits(vals[0]))];
            for (i, g) in gaps.iter().enumerate() {
                t += g;
                s.push((t, f64::from_bits(vals[i + 1])));
            }
            roundtrip(&s);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), n in 0u16..200) {
            let _ = decode(&bytes, n);
            let _ = Chunk::from_bytes(bytes, n);
        }
    }
}
