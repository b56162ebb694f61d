//! The kernel clock discipline: node_exporter's `timex` collector (`node_timex_offset_seconds`,
//! `node_timex_sync_status`, `node_timex_maxerror_seconds`, …) from `adjtimex(2)` in
//! read-only mode (`modes = 0`).

use std::io;

use super::Error;
use crate::metrics::expo::{Exposition, Kind};

/// `TIME_ERROR`: the clock is not synchronized.
const TIME_ERROR: i32 = 5;
/// `STA_NANO`: offset and jitter are in nanoseconds instead of microseconds.
const STA_NANO: i64 = 0x2000;
/// Frequency fields are in ppm with a 16-bit fraction (adjtimex(2), NOTES).
const PPM16FRAC: f64 = 1_000_000.0 * 65536.0;

/// The `struct timex` fields node_exporter reports, plus the call's clock state.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(super) struct Timex {
    pub state: i32,
    pub offset: i64,
    pub freq: i64,
    pub maxerror: i64,
    pub esterror: i64,
    pub status: i64,
    pub constant: i64,
    pub tick: i64,
    pub ppsfreq: i64,
    pub jitter: i64,
    pub shift: i64,
    pub stabil: i64,
    pub jitcnt: i64,
    pub calcnt: i64,
    pub errcnt: i64,
    pub stbcnt: i64,
    pub tai: i64,
}

/// Reads the kernel's clock state with `adjtimex(2)` and `modes = 0`, which only reads.
#[allow(unsafe_code)]
fn adjtimex() -> io::Result<Timex> {
    // SAFETY: `libc::timex` is a plain C struct of integers (and a `timeval`), so all-zero
    // bytes are a valid value, and `modes = 0` asks the kernel to change nothing. The
    // pointer passed is to a live local that is exclusively borrowed for the duration of
    // the call; the kernel only writes within the struct and keeps no reference to it.
    let (state, tx) = unsafe {
        let mut tx: libc::timex = std::mem::zeroed();
        let state = libc::adjtimex(&mut tx);
        (state, tx)
    };
    if state == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(Timex::from_libc(state, &tx))
}

impl Timex {
    // `c_long` is `i64` on 64-bit targets and `i32` on 32-bit ones.
    #[allow(clippy::useless_conversion)]
    fn from_libc(state: i32, tx: &libc::timex) -> Timex {
        Timex {
            state,
            offset: i64::from(tx.offset),
            freq: i64::from(tx.freq),
            maxerror: i64::from(tx.maxerror),
            esterror: i64::from(tx.esterror),
            status: i64::from(tx.status),
            constant: i64::from(tx.constant),
            tick: i64::from(tx.tick),
            ppsfreq: i64::from(tx.ppsfreq),
            jitter: i64::from(tx.jitter),
            shift: i64::from(tx.shift),
            stabil: i64::from(tx.stabil),
            jitcnt: i64::from(tx.jitcnt),
            calcnt: i64::from(tx.calcnt),
            errcnt: i64::from(tx.errcnt),
            stbcnt: i64::from(tx.stbcnt),
            tai: i64::from(tx.tai),
        }
    }
}

/// The families with node_exporter's unit conversions: offset and jitter are scaled by
/// `STA_NANO`, the error bounds and tick are always microseconds.
pub(super) fn families(t: &Timex) -> [(&'static str, Kind, &'static str, f64); 17] {
    let divisor = if t.status & STA_NANO != 0 { 1e9 } else { 1e6 };
    let sync = if t.state == TIME_ERROR { 0.0 } else { 1.0 };
    [
        (
            "node_timex_sync_status",
            Kind::Gauge,
            "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
            sync,
        ),
        (
            "node_timex_offset_seconds",
            Kind::Gauge,
            "Time offset in between local system and reference clock.",
            t.offset as f64 / divisor,
        ),
        (
            "node_timex_frequency_adjustment_ratio",
            Kind::Gauge,
            "Local clock frequency adjustment.",
            1.0 + t.freq as f64 / PPM16FRAC,
        ),
        (
            "node_timex_maxerror_seconds",
            Kind::Gauge,
            "Maximum error in seconds.",
            t.maxerror as f64 / 1e6,
        ),
        (
            "node_timex_estimated_error_seconds",
            Kind::Gauge,
            "Estimated error in seconds.",
            t.esterror as f64 / 1e6,
        ),
        (
            "node_timex_status",
            Kind::Gauge,
            "Value of the status array bits.",
            t.status as f64,
        ),
        (
            "node_timex_loop_time_constant",
            Kind::Gauge,
            "Phase-locked loop time constant.",
            t.constant as f64,
        ),
        (
            "node_timex_tick_seconds",
            Kind::Gauge,
            "Seconds between clock ticks.",
            t.tick as f64 / 1e6,
        ),
        (
            "node_timex_pps_frequency_hertz",
            Kind::Gauge,
            "Pulse per second frequency.",
            t.ppsfreq as f64 / PPM16FRAC,
        ),
        (
            "node_timex_pps_jitter_seconds",
            Kind::Gauge,
            "Pulse per second jitter.",
            t.jitter as f64 / divisor,
        ),
        (
            "node_timex_pps_shift_seconds",
            Kind::Gauge,
            "Pulse per second interval duration.",
            t.shift as f64,
        ),
        (
            "node_timex_pps_stability_hertz",
            Kind::Gauge,
            "Pulse per second stability, average of recent frequency changes.",
            t.stabil as f64 / PPM16FRAC,
        ),
        (
            "node_timex_pps_jitter_total",
            Kind::Counter,
            "Pulse per second count of jitter limit exceeded events.",
            t.jitcnt as f64,
        ),
        (
            "node_timex_pps_calibration_total",
            Kind::Counter,
            "Pulse per second count of calibration intervals.",
            t.calcnt as f64,
        ),
        (
            "node_timex_pps_error_total",
            Kind::Counter,
            "Pulse per second count of calibration errors.",
            t.errcnt as f64,
        ),
        (
            "node_timex_pps_stability_exceeded_total",
            Kind::Counter,
            "Pulse per second count of stability limit exceeded events.",
            t.stbcnt as f64,
        ),
        (
            "node_timex_tai_offset_seconds",
            Kind::Gauge,
            "International Atomic Time (TAI) offset.",
            t.tai as f64,
        ),
    ]
}

pub(super) fn collect(out: &mut Exposition) -> Result<(), Error> {
    let t = adjtimex().map_err(|e| Error::Syscall {
        call: "adjtimex",
        message: e.to_string(),
    })?;
    for (name, kind, help, value) in families(&t) {
        out.single(name, kind, help, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(t: &Timex, name: &str) -> f64 {
        families(t)
            .iter()
            .find(|f| f.0 == name)
            .map(|f| f.3)
            .unwrap_or(f64::NAN)
    }

    #[test]
    fn converts_units_like_node_exporter() {
        let micro = Timex {
            state: 0,
            offset: 1500,
            freq: 65536 * 10,
            maxerror: 16_000_000,
            esterror: 500,
            status: 0x40,
            tick: 10_000,
            jitter: 250,
            stabil: 65536,
            ..Default::default()
        };
        assert_eq!(value(&micro, "node_timex_sync_status"), 1.0);
        assert_eq!(value(&micro, "node_timex_offset_seconds"), 0.0015);
        assert_eq!(value(&micro, "node_timex_pps_jitter_seconds"), 0.00025);
        assert_eq!(
            value(&micro, "node_timex_frequency_adjustment_ratio"),
            1.00001
        );
        assert_eq!(value(&micro, "node_timex_maxerror_seconds"), 16.0);
        assert_eq!(value(&micro, "node_timex_estimated_error_seconds"), 0.0005);
        assert_eq!(value(&micro, "node_timex_tick_seconds"), 0.01);
        assert_eq!(value(&micro, "node_timex_pps_stability_hertz"), 1e-6);
        assert_eq!(value(&micro, "node_timex_status"), 64.0);

        // STA_NANO: offset and jitter in nanoseconds; the error bounds stay microseconds.
        let nano = Timex {
            state: TIME_ERROR,
            offset: 1500,
            jitter: 250,
            maxerror: 16_000_000,
            status: 0x2000 | 0x40,
            ..Default::default()
        };
        assert_eq!(value(&nano, "node_timex_sync_status"), 0.0);
        assert_eq!(value(&nano, "node_timex_offset_seconds"), 1.5e-6);
        assert_eq!(value(&nano, "node_timex_pps_jitter_seconds"), 2.5e-7);
        assert_eq!(value(&nano, "node_timex_maxerror_seconds"), 16.0);
    }

    #[test]
    fn reads_the_kernel_clock() {
        let t = adjtimex().expect("adjtimex with modes=0 needs no privilege");
        assert!((0..=5).contains(&t.state));
        assert!(t.tick > 0);
    }
}
