//! Container log files: where they are ([`discover`], [`path`]), which file is which
//! ([`fingerprint`]), how lines become records ([`cri`], [`docker`], [`assemble`]),
//! the [`tailer`] that reads them in order across rotations, and [`checkpoint`]s.

pub mod assemble;
pub mod checkpoint;
pub mod cri;
pub mod discover;
pub mod docker;
pub mod fingerprint;
pub mod path;
pub mod tailer;

pub use assemble::Emitted;
pub use tailer::{Batch, FileChunk, Tailer, TailerConfig};
