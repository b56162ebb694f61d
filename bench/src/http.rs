//! Minimal HTTP/1.1 over std sockets: message reading for the bench's fake servers, a
//! one-shot GET client and the null OTLP receiver (keep-alive, answers 200 to every
//! request, counts bytes, requests and log records).

use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A loopback port free right now (bound then released).
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Percent-encodes a query parameter value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Headers of one message: (content-length, chunked).
pub fn read_headers<R: BufRead>(r: &mut R, first: &mut String) -> Result<Option<(usize, bool)>> {
    first.clear();
    if r.read_line(first)? == 0 {
        return Ok(None);
    }
    let (mut len, mut chunked) = (0usize, false);
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            bail!("connection closed inside headers");
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim(), v.trim());
            if k.eq_ignore_ascii_case("content-length") {
                len = v.parse().context("bad content-length")?;
            } else if k.eq_ignore_ascii_case("transfer-encoding")
                && v.to_ascii_lowercase().contains("chunked")
            {
                chunked = true;
            }
        }
    }
    Ok(Some((len, chunked)))
}

/// Reads a body into `buf` (cleared first).
pub fn read_body<R: BufRead>(
    r: &mut R,
    len: usize,
    chunked: bool,
    buf: &mut Vec<u8>,
) -> Result<()> {
    buf.clear();
    if !chunked {
        buf.resize(len, 0);
        r.read_exact(buf)?;
        return Ok(());
    }
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            .context("bad chunk size")?;
        if size == 0 {
            // Trailers up to the empty line.
            loop {
                line.clear();
                if r.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(());
                }
            }
        }
        let start = buf.len();
        buf.resize(start + size, 0);
        r.read_exact(&mut buf[start..])?;
        line.clear();
        r.read_line(&mut line)?;
    }
}

/// `GET path` on `addr`, one connection per request; returns (status, body).
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<(u16, String)> {
    let s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_nodelay(true)?;
    let mut w = s.try_clone()?;
    write!(
        w,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: */*\r\n\r\n"
    )?;
    let mut r = BufReader::new(s);
    let mut first = String::new();
    let (len, chunked) =
        read_headers(&mut r, &mut first)?.ok_or_else(|| anyhow!("empty response"))?;
    let status: u16 = first
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line {first:?}"))?;
    let mut body = Vec::new();
    read_body(&mut r, len, chunked, &mut body)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Value of a Prometheus series without labels in a text exposition.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == name).then(|| v.trim().parse().ok())?
    })
}

/// Scrapes `/metrics` on `addr` and returns the named series.
pub fn scrape(addr: SocketAddr, names: &[&str]) -> Result<Vec<f64>> {
    let (status, body) = get(addr, "/metrics", Duration::from_secs(10))?;
    if status != 200 {
        bail!("GET http://{addr}/metrics answered {status}");
    }
    names
        .iter()
        .map(|n| metric(&body, n).ok_or_else(|| anyhow!("{n} missing from http://{addr}/metrics")))
        .collect()
}

/// Calls `f(field, wire_type, payload)` for each field of a protobuf message; `payload`
/// is the bytes of a length-delimited field and empty otherwise. `None` if malformed.
fn fields(mut buf: &[u8], mut f: impl FnMut(u64, &[u8])) -> Option<()> {
    fn varint(buf: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = buf.split_first()?;
            *buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        match key & 7 {
            0 => {
                varint(&mut buf)?;
            }
            1 => buf = buf.get(8..)?,
            2 => {
                let len = varint(&mut buf)? as usize;
                let payload = buf.get(..len)?;
                f(key >> 3, payload);
                buf = buf.get(len..)?;
            }
            5 => buf = buf.get(4..)?,
            _ => return None,
        }
    }
    Some(())
}

/// Log records in an OTLP `ExportLogsServiceRequest` (resource_logs=1 → scope_logs=2 →
/// log_records=2), without decoding them.
pub fn count_log_records(body: &[u8]) -> Option<u64> {
    let mut n = 0u64;
    let mut ok = true;
    fields(body, |f, rl| {
        if f != 1 {
            return;
        }
        ok &= fields(rl, |f, sl| {
            if f != 2 {
                return;
            }
            ok &= fields(sl, |f, _| n += u64::from(f == 2)).is_some();
        })
        .is_some();
    })?;
    ok.then_some(n)
}

/// What the null receiver has seen.
#[derive(Default, Debug)]
pub struct RecvStats {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
    pub records: AtomicU64,
    pub bad_bodies: AtomicU64,
    /// Nanoseconds from the receiver's start to the end of the last request.
    pub last_ns: AtomicU64,
}

/// An HTTP server on a loopback port answering 200 to everything.
pub struct NullReceiver {
    pub addr: SocketAddr,
    pub stats: Arc<RecvStats>,
    pub started: Instant,
    stop: Arc<AtomicBool>,
}

impl NullReceiver {
    pub fn start() -> Result<NullReceiver> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(RecvStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let (st, sp) = (stats.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = serve_conn(conn, &st, started);
                });
            }
        });
        Ok(NullReceiver {
            addr,
            stats,
            started,
            stop,
        })
    }

    /// Seconds from `t0` to the end of the last request received.
    pub fn last_request_since(&self, t0: Instant) -> f64 {
        let last = self.started + Duration::from_nanos(self.stats.last_ns.load(Relaxed));
        last.saturating_duration_since(t0).as_secs_f64()
    }
}

impl Drop for NullReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve_conn(conn: TcpStream, st: &RecvStats, started: Instant) -> Result<()> {
    conn.set_nodelay(true)?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::with_capacity(1 << 20, conn);
    let mut first = String::new();
    let mut body = Vec::with_capacity(2 << 20);
    while let Some((len, chunked)) = read_headers(&mut r, &mut first)? {
        read_body(&mut r, len, chunked, &mut body)?;
        if first.starts_with("POST") {
            match count_log_records(&body) {
                Some(n) => st.records.fetch_add(n, Relaxed),
                None => st.bad_bodies.fetch_add(1, Relaxed),
            };
            st.bytes.fetch_add(body.len() as u64, Relaxed);
            st.requests.fetch_add(1, Relaxed);
            st.last_ns
                .store(started.elapsed().as_nanos() as u64, Relaxed);
        }
        w.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n",
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nested_records() {
        // resource_logs { scope_logs { log_records{} log_records{} } } resource_logs { scope_logs { log_records{} } }
        let sl1 = [0x12, 0x00, 0x12, 0x00];
        let rl1 = [&[0x12, sl1.len() as u8][..], &sl1].concat();
        let sl2 = [0x12, 0x00];
        let rl2 = [&[0x12, sl2.len() as u8][..], &sl2].concat();
        let body = [
            &[0x0a, rl1.len() as u8][..],
            &rl1,
            &[0x0a, rl2.len() as u8][..],
            &rl2,
        ]
        .concat();
        assert_eq!(count_log_records(&body), Some(3));
        assert_eq!(count_log_records(&[0x0a, 0x05]), None);
    }
}
