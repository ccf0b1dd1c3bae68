//! The per-token rate limit: fixed windows whose counts live in the database
//! (`rate_windows`), so every instance behind a balancer enforces one shared limit.
//!
//! Writing a count per request would make each request a commit (an fsync on SQLite). An
//! instance instead counts in memory and adds its new hits to the window's row every
//! [`FLUSH_EVERY`]; a token first seen in a window starts from the row's total. The shared
//! total can overshoot by at most what the other instances accepted since their last flush.

use crate::db::Db;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub const FLUSH_EVERY: Duration = Duration::from_millis(500);

pub struct RateLimiter {
    /// Requests per window per token.
    limit: u64,
    window_ms: i64,
    counters: Mutex<HashMap<String, Counter>>,
}

#[derive(Default, Clone, Copy)]
struct Counter {
    window: i64,
    /// The window's total over every instance, as of this instance's last flush or read.
    shared: u64,
    /// Hits this instance accepted and has not added to the database yet.
    pending: u64,
}

impl RateLimiter {
    pub fn new(limit: u64, window_secs: u64) -> RateLimiter {
        RateLimiter {
            limit,
            window_ms: (window_secs.max(1) * 1000) as i64,
            counters: Mutex::new(HashMap::new()),
        }
    }

    /// Count a request; `Err(seconds)` says when the token may try again.
    pub async fn hit(&self, db: &Db, token_hash: &str, now: i64) -> Result<(), u64> {
        let window = now.div_euclid(self.window_ms) * self.window_ms;
        let known = self
            .counters()
            .get(token_hash)
            .is_some_and(|c| c.window == window);
        if !known {
            // What the other instances counted in this window (zero on a database error:
            // the limit protects the service, a failed read should not refuse everyone).
            let shared = match db.rate_hits(token_hash, window).await {
                Ok(n) => n.max(0) as u64,
                Err(e) => {
                    eprintln!("ocdoctor serve: reading the rate-limit count: {e}");
                    0
                }
            };
            let mut map = self.counters();
            let c = map.entry(token_hash.to_string()).or_default();
            if c.window != window {
                *c = Counter {
                    window,
                    shared,
                    pending: 0,
                };
            }
        }
        let mut map = self.counters();
        let c = map.entry(token_hash.to_string()).or_default();
        if c.window != window {
            *c = Counter {
                window,
                ..Counter::default()
            };
        }
        if c.shared + c.pending >= self.limit {
            let left_ms = (window + self.window_ms - now).max(0);
            return Err(((left_ms + 999) / 1000).max(1) as u64);
        }
        c.pending += 1;
        Ok(())
    }

    /// Add the pending hits to the database and learn the shared totals (also of the tokens
    /// this instance has nothing new for: the others may have).
    pub async fn flush(&self, db: &Db) {
        let taken: Vec<(String, Counter)> = self
            .counters()
            .iter_mut()
            .map(|(k, c)| {
                let taken = *c;
                c.pending = 0;
                (k.clone(), taken)
            })
            .collect();
        for (hash, taken) in taken {
            let result = if taken.pending > 0 {
                db.rate_add(&hash, taken.window, taken.pending as i64).await
            } else {
                db.rate_hits(&hash, taken.window).await
            };
            let mut map = self.counters();
            let Some(c) = map.get_mut(&hash).filter(|c| c.window == taken.window) else {
                continue;
            };
            match result {
                Ok(total) => c.shared = c.shared.max(total.max(0) as u64),
                // Counted again next time.
                Err(e) => {
                    eprintln!("ocdoctor serve: writing the rate-limit count: {e}");
                    c.pending += taken.pending;
                }
            }
        }
    }

    /// Forget windows that are over, here and in the database.
    pub async fn prune(&self, db: &Db, now: i64) {
        let current = now.div_euclid(self.window_ms) * self.window_ms;
        self.counters()
            .retain(|_, c| c.window >= current || c.pending > 0);
        let _ = db.rate_prune(current - self.window_ms).await;
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, HashMap<String, Counter>> {
        // A panic while holding the lock leaves plain counters: still usable.
        self.counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
