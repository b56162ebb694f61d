//! Sliding-window rate limits ("at most N messages in any period"), the way chat vendors
//! count: a token bucket would let a 21st DingTalk message through within a minute of the
//! first 20, and DingTalk answers that with a 10-minute ban.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
struct Window {
    max: usize,
    period: Duration,
    /// Send times within the last period, oldest first.
    sent: VecDeque<Instant>,
}

/// Limits over several windows at once (per minute and per second).
#[derive(Debug, Default)]
pub struct Limiter {
    windows: Vec<Window>,
}

impl Limiter {
    /// `limits`: (messages, per period); a zero count or period is ignored.
    pub fn new(limits: &[(u32, Duration)]) -> Limiter {
        Limiter {
            windows: limits
                .iter()
                .filter(|(n, p)| *n > 0 && !p.is_zero())
                .map(|&(n, period)| Window {
                    max: n as usize,
                    period,
                    sent: VecDeque::with_capacity((n as usize).min(1024)),
                })
                .collect(),
        }
    }

    /// When the next message may be sent: `None` for now.
    pub fn next_slot(&mut self, now: Instant) -> Option<Instant> {
        let mut at: Option<Instant> = None;
        for w in &mut self.windows {
            while w.sent.front().is_some_and(|t| *t + w.period <= now) {
                w.sent.pop_front();
            }
            if w.sent.len() >= w.max {
                let idx = w.sent.len() - w.max;
                if let Some(t) = w.sent.get(idx) {
                    let free = *t + w.period;
                    at = Some(at.map_or(free, |a| a.max(free)));
                }
            }
        }
        at
    }

    /// Records a message sent at `now`.
    pub fn record(&mut self, now: Instant) {
        for w in &mut self.windows {
            w.sent.push_back(now);
            while w.sent.len() > w.max {
                w.sent.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_n_in_any_window() {
        let t0 = Instant::now();
        let min = Duration::from_secs(60);
        let mut l = Limiter::new(&[(3, min)]);
        for _ in 0..3 {
            assert_eq!(l.next_slot(t0), None);
            l.record(t0);
        }
        assert_eq!(l.next_slot(t0), Some(t0 + min));
        assert_eq!(l.next_slot(t0 + Duration::from_secs(59)), Some(t0 + min));
        assert_eq!(l.next_slot(t0 + min), None);
    }

    #[test]
    fn several_windows_take_the_latest_slot() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut l = Limiter::new(&[(100, Duration::from_secs(60)), (5, s)]);
        let mut now = t0;
        let mut sent = 0;
        // 20 messages as fast as allowed: 5 per second.
        while sent < 20 {
            if let Some(at) = l.next_slot(now) {
                now = at;
                continue;
            }
            l.record(now);
            sent += 1;
        }
        assert_eq!(now, t0 + Duration::from_secs(3));
        assert!(Limiter::new(&[(0, s)]).next_slot(t0).is_none());
    }
}
