//! File identity. A file is known by the device and inode it lives on plus a hash of its
//! first bytes (up to the first `\n`, at most [`HEAD_MAX`] bytes): inode reuse changes the
//! head hash, identical first lines differ in inode, and a copytruncate copy carries the
//! head of the file it was copied from.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};

/// How many leading bytes identify a file.
pub const HEAD_MAX: usize = 256;

/// Where a file physically is and what it starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    pub dev: u64,
    pub ino: u64,
    /// Hash of the head; see the module doc.
    pub head: u64,
}

impl Location {
    /// The fingerprint a file gets when first seen at this location.
    pub fn fingerprint(&self) -> u64 {
        let mut b = [0u8; 24];
        b[..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16..].copy_from_slice(&self.head.to_le_bytes());
        xxhash_rust::xxh3::xxh3_64(&b)
    }
}

/// Reads the location of an open file; `Ok(None)` while it is too short to identify (no
/// `\n` yet in fewer than [`HEAD_MAX`] bytes).
pub fn locate(file: &File) -> std::io::Result<Option<(Location, u64)>> {
    let md = file.metadata()?;
    let mut buf = [0u8; HEAD_MAX];
    let n = file.read_at(&mut buf, 0)?;
    let head = match memchr::memchr(b'\n', &buf[..n]) {
        Some(i) => &buf[..=i],
        None if n == HEAD_MAX => &buf[..n],
        None => return Ok(None),
    };
    Ok(Some((
        Location {
            dev: md.dev(),
            ino: md.ino(),
            head: xxhash_rust::xxh3::xxh3_64(head),
        },
        md.len(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn head_is_stable_while_appending_and_changes_on_truncate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("0.log");
        let mut f = std::fs::File::create(&p).expect("create");
        f.write_all(b"partial").expect("write");
        let r = File::open(&p).expect("open");
        assert!(locate(&r).expect("locate").is_none());
        f.write_all(b" first\nsecond\n").expect("write");
        let (a, size) = locate(&r).expect("locate").expect("identifiable");
        assert_eq!(size, 21);
        f.write_all(b"third\n").expect("write");
        let (b, _) = locate(&r).expect("locate").expect("identifiable");
        assert_eq!(a, b);
        f.set_len(0).expect("truncate");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .expect("open");
        f.write_all(b"other\n").expect("write");
        let (c, _) = locate(&r).expect("locate").expect("identifiable");
        assert_eq!((a.dev, a.ino), (c.dev, c.ino));
        assert_ne!(a.head, c.head);
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
