//! Failed sign-ins, counted per key (an account, a client address): after
//! `limit` failures within a minute the key is locked out for a minute, and
//! each further lock-out doubles that, up to an hour. A key quiet for an hour
//! is forgotten, and with it its back-off. An address (`ip:` keys) may fail
//! [`ADDRESS_FACTOR`] times as often as an account: one person mistyping
//! their password must not lock out everyone behind the same office router.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
const FIRST_LOCK: Duration = Duration::from_secs(60);
const LONGEST_LOCK: Duration = Duration::from_secs(3600);
/// How many more failures an address may have than an account.
pub const ADDRESS_FACTOR: u32 = 4;

#[derive(Debug)]
struct Entry {
    window_start: Instant,
    failures: u32,
    locked_until: Option<Instant>,
    lockouts: u32,
}

pub struct Throttle {
    limit: u32,
    entries: moka::sync::Cache<String, Arc<Mutex<Entry>>>,
}

impl Throttle {
    pub fn new(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            entries: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(LONGEST_LOCK)
                .build(),
        }
    }

    /// How long `key` must still wait, if it is locked out.
    pub fn locked(&self, key: &str) -> Option<Duration> {
        self.locked_at(key, Instant::now())
    }

    fn locked_at(&self, key: &str, now: Instant) -> Option<Duration> {
        let entry = self.entries.get(key)?;
        let entry = entry.lock().expect("throttle entry");
        entry
            .locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Counts a failure of `key`.
    pub fn failed(&self, key: &str) {
        self.failed_at(key, Instant::now());
    }

    fn failed_at(&self, key: &str, now: Instant) {
        let entry = self.entries.get_with(key.to_owned(), || {
            Arc::new(Mutex::new(Entry {
                window_start: now,
                failures: 0,
                locked_until: None,
                lockouts: 0,
            }))
        });
        let mut entry = entry.lock().expect("throttle entry");
        if now.duration_since(entry.window_start) >= WINDOW {
            entry.window_start = now;
            entry.failures = 0;
        }
        entry.failures += 1;
        let limit = if key.starts_with("ip:") {
            self.limit.saturating_mul(ADDRESS_FACTOR)
        } else {
            self.limit
        };
        if entry.failures >= limit {
            let lock = FIRST_LOCK
                .saturating_mul(1 << entry.lockouts.min(6))
                .min(LONGEST_LOCK);
            entry.lockouts += 1;
            entry.locked_until = Some(now + lock);
            entry.window_start = now;
            entry.failures = 0;
        }
    }

    /// Forgets `key`'s failures (a successful sign-in).
    pub fn forget(&self, key: &str) {
        self.entries.invalidate(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_and_backs_off_longer_each_time() {
        let throttle = Throttle::new(5);
        let t0 = Instant::now();
        for i in 0..4 {
            throttle.failed_at("user:sam", t0 + Duration::from_secs(i));
            assert_eq!(
                throttle.locked_at("user:sam", t0 + Duration::from_secs(i)),
                None
            );
        }
        throttle.failed_at("user:sam", t0 + Duration::from_secs(4));
        let wait = throttle
            .locked_at("user:sam", t0 + Duration::from_secs(4))
            .expect("locked after 5 failures");
        assert_eq!(wait, Duration::from_secs(60));
        assert_eq!(
            throttle.locked_at("user:other", t0),
            None,
            "keys are separate"
        );

        // After the lock, five more failures lock for twice as long.
        let t1 = t0 + Duration::from_secs(70);
        assert_eq!(throttle.locked_at("user:sam", t1), None);
        for i in 0..5 {
            throttle.failed_at("user:sam", t1 + Duration::from_secs(i));
        }
        let wait = throttle
            .locked_at("user:sam", t1 + Duration::from_secs(4))
            .unwrap();
        assert_eq!(wait, Duration::from_secs(120));

        throttle.forget("user:sam");
        assert_eq!(
            throttle.locked_at("user:sam", t1 + Duration::from_secs(5)),
            None
        );
    }

    #[test]
    fn an_address_may_fail_more_often_than_one_account() {
        let throttle = Throttle::new(5);
        let t0 = Instant::now();
        for i in 0..5 {
            throttle.failed_at("user:sam", t0 + Duration::from_millis(i));
            throttle.failed_at("ip:192.0.2.1", t0 + Duration::from_millis(i));
        }
        assert!(throttle.locked_at("user:sam", t0).is_some());
        assert_eq!(throttle.locked_at("ip:192.0.2.1", t0), None);
        for i in 5..20 {
            throttle.failed_at("ip:192.0.2.1", t0 + Duration::from_millis(i));
        }
        assert!(throttle.locked_at("ip:192.0.2.1", t0).is_some());
    }

    #[test]
    fn failures_spread_over_more_than_a_minute_do_not_lock() {
        let throttle = Throttle::new(5);
        let t0 = Instant::now();
        for i in 0..20 {
            let at = t0 + Duration::from_secs(i * 15);
            throttle.failed_at("ip:192.0.2.1", at);
            assert_eq!(throttle.locked_at("ip:192.0.2.1", at), None, "failure {i}");
        }
    }

    #[test]
    fn the_lock_never_exceeds_an_hour() {
        let throttle = Throttle::new(1);
        let mut at = Instant::now();
        for _ in 0..12 {
            throttle.failed_at("k", at);
            let wait = throttle.locked_at("k", at).unwrap();
            assert!(wait <= LONGEST_LOCK);
            at += wait + Duration::from_secs(1);
        }
        throttle.failed_at("k", at);
        assert_eq!(throttle.locked_at("k", at), Some(LONGEST_LOCK));
    }
}
