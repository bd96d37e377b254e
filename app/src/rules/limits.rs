//! What one client may try, and how fast: failed joins, failed log-ins, sign-ups, and how many
//! password hashes run at once. Each budget is a token bucket per key (a client address, a
//! visitor, an account): `burst` attempts at once, then one more every `every`. An attempt is taken
//! from the budget *before* the work it guards (so a burst of parallel requests cannot all slip
//! through while the first ones are still being checked) and given back when it turns out not to
//! count (a right code, a right password).
//!
//! Why not the `governor` crate: its limiters cannot give an attempt back, and failures must be
//! reserved before the lookup and returned on success; the bucket below is the same algorithm
//! (GCRA is a token bucket) with that one extra operation, and with a bounded key map.
use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Attempts allowed at once.
    pub burst: u32,
    /// After the burst, one more attempt every `every`.
    pub every: Duration,
}

/// Failed code lookups one visitor (browser) may make: someone who mistypes a few times, or tried
/// before the host opened the session, is never slowed by a guesser in the same room.
pub const JOIN_FAILURES_PER_VISITOR: Budget = Budget { burst: 10, every: Duration::from_secs(60) };
/// Failed code and link lookups one client address (an IPv6 /64) may make. Large enough for a room
/// of 100 people behind one school or office address to mistype twice each; a guesser behind one
/// address gets 200 guesses, then one every 3 seconds (28,800 a day).
pub const JOIN_FAILURES_PER_ADDRESS: Budget = Budget { burst: 200, every: Duration::from_secs(3) };
/// Failed code and link lookups one IPv6 /56 may make, over all its /64s: a home line holding
/// a /56 gets 1,000 guesses, then one a second, not 256 times one address's budget.
pub const JOIN_FAILURES_PER_56: Budget = Budget { burst: 1_000, every: Duration::from_secs(1) };
/// The same for an IPv6 /48 (a site or a small provider's customer: 65,536 /64s).
pub const JOIN_FAILURES_PER_48: Budget = Budget { burst: 2_000, every: Duration::from_millis(500) };
/// Failed code and link lookups this instance takes from everyone before it considers itself
/// swept (guesses spread over many addresses, each within its own budget). Past it, every
/// failure is answered `SWEPT_FAILURE_DELAY` late, while right codes and links still go in at
/// once; a room mistyping never comes near it.
pub const JOIN_FAILURES_PER_INSTANCE: Budget = Budget { burst: 10_000, every: Duration::from_millis(10) };
/// How late a failed lookup is answered while the instance is being swept.
pub const SWEPT_FAILURE_DELAY: Duration = Duration::from_secs(2);
/// Participants one client address may bring into sessions (a browser that joined a session
/// before does not count again): a room of 1,000 phones behind one school's address gets in at
/// once, while a script joining in a loop without ever following the session adds one a second,
/// not a row per request.
pub const NEW_PARTICIPANTS_PER_ADDRESS: Budget = Budget { burst: 2_000, every: Duration::from_secs(1) };
/// Failed log-ins one client address may make, whatever the accounts.
pub const LOGIN_FAILURES_PER_ADDRESS: Budget = Budget { burst: 20, every: Duration::from_secs(30) };
/// Failed log-ins into one account (or one address without an account, so that the answer does not
/// tell which addresses have accounts), from anywhere: 10, then one a minute. This slows guessing
/// down to 1,440 a day without ever making the owner wait more than a minute.
pub const LOGIN_FAILURES_PER_ACCOUNT: Budget = Budget { burst: 10, every: Duration::from_secs(60) };
/// Log-ins into one account from one client address, whatever their outcome: a right password
/// still costs a hash and a login, so a loop of right log-ins stops here too, while the owner
/// logging in from elsewhere (and everyone else behind the address) is not held back.
pub const LOGINS_PER_ACCOUNT_AND_ADDRESS: Budget = Budget { burst: 10, every: Duration::from_secs(60) };
/// Changes one account may make (sessions, slides, sharing): a person clicking through a talk
/// never comes near it; a script writing in a loop keeps SQLite's one writer to 10 a second.
pub const CHANGES_PER_ACCOUNT: Budget = Budget { burst: 300, every: Duration::from_millis(100) };
/// Failed log-ins from a browser where the account logged in before (its device cookie, as OWASP
/// recommends): such a browser is held to this budget alone, not to the account's nor to its
/// address's, so that someone guessing the password elsewhere, or colleagues mistyping theirs
/// behind the same address, never lock the owner out of their own browser.
pub const LOGIN_FAILURES_PER_DEVICE: Budget = Budget { burst: 10, every: Duration::from_secs(60) };
/// Sign-ups one client address may make: a school's staff signing up on the same morning fits.
pub const SIGNUPS_PER_ADDRESS: Budget = Budget { burst: 30, every: Duration::from_secs(120) };
/// Account mails (password reset, "Send the verification mail again") to one address, whether it
/// has an account or not: 3 at once, then one every 20 minutes, so nobody's mailbox can be
/// flooded through Ruche.
pub const ACCOUNT_MAILS_PER_RECIPIENT: Budget = Budget { burst: 3, every: Duration::from_secs(20 * 60) };
/// Account mails one client address may ask for, to any addresses.
pub const ACCOUNT_MAILS_PER_ADDRESS: Budget = Budget { burst: 20, every: Duration::from_secs(3 * 60) };
/// Messages one participant may post in the Discussion: 3 at once, then one every 5 seconds
/// (the "slow mode" of large chats), so one phone cannot flood a room's screen.
pub const POSTS_PER_PARTICIPANT: Budget = Budget { burst: 3, every: Duration::from_secs(5) };
/// Likes (and likes taken back) one participant may give: someone reading down the list and
/// liking as they go never meets it; a script toggling a like in a loop adds 4 a second.
pub const LIKES_PER_PARTICIPANT: Budget = Budget { burst: 30, every: Duration::from_millis(250) };
/// Keys a limiter remembers at most. Beyond it, the keys whose budget is whole again are forgotten
/// first, then those not being refused; each key costs about 50 bytes.
pub const MAX_KEYS: usize = 100_000;

/// Live sockets (tabs following a session) one visitor's browser may hold open at once.
pub const LIVE_SOCKETS_PER_VISITOR: u32 = 8;
/// Live sockets one logged-in host may hold open at once (host tabs and projection screens of all
/// their sessions).
pub const LIVE_SOCKETS_PER_USER: u32 = 20;

/// Connections one client address (an IPv4 address, an IPv6 /64) may hold open at once: a room
/// of 1,000 phones behind one school's address holds about 1,000 live sockets, plus the
/// connections of the pages they are loading. Past it, a new connection is closed at once. A
/// process has about 20,000 files to share; connections from `TRUSTED_PROXIES` are not counted.
pub const CONNECTIONS_PER_ADDRESS: u32 = 3_000;

/// How long a client may take to send a request: its headers (and, between requests, how long a
/// kept-alive connection may stay idle), then its body. A client that sends half a request and
/// waits holds a connection only this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestDeadlines {
    pub headers: Duration,
    pub body: Duration,
}

impl Default for RequestDeadlines {
    fn default() -> Self {
        Self { headers: Duration::from_secs(10), body: Duration::from_secs(10) }
    }
}

/// Password hashes (argon2id, 19 MiB each) that run at once, per CPU core.
pub const HASHES_PER_CORE: usize = 1;
/// Requests that may wait for a hash, per CPU core; past that, "Ruche is busy" (503).
pub const HASH_QUEUE_PER_CORE: usize = 8;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The attempts a bucket holds at `now`: what it had, plus what time gave back, up to the burst.
fn refilled(budget: Budget, bucket: Bucket, now: Instant) -> f64 {
    let earned = now.saturating_duration_since(bucket.at).as_secs_f64() / budget.every.as_secs_f64();
    (bucket.tokens + earned).min(f64::from(budget.burst))
}

/// A budget per key. Memory is bounded by `MAX_KEYS` (or the cap given to `with_cap`).
#[derive(Debug)]
pub struct Limiter<K> {
    budget: Budget,
    cap: usize,
    buckets: HashMap<K, Bucket>,
}

/// An attempt taken from a budget, to give back if it turns out not to count.
#[derive(Debug)]
#[must_use = "an attempt is either kept (a failure) or given back"]
pub struct Attempt<K> {
    key: K,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(budget: Budget) -> Self {
        Self::with_cap(budget, MAX_KEYS)
    }

    pub fn with_cap(budget: Budget, cap: usize) -> Self {
        Self { budget, cap: cap.max(1), buckets: HashMap::new() }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        refilled(self.budget, bucket, now)
    }

    /// Takes one attempt from `key`'s budget, or says how long until one is free.
    pub fn take(&mut self, key: K, now: Instant) -> Result<Attempt<K>, Duration> {
        let tokens = match self.buckets.get(&key) {
            Some(bucket) => self.refilled(*bucket, now),
            None => {
                self.make_room(now);
                f64::from(self.budget.burst)
            }
        };
        if tokens < 1.0 {
            self.buckets.insert(key, Bucket { tokens, at: now });
            return Err(self.budget.every.mul_f64(1.0 - tokens));
        }
        self.buckets.insert(key.clone(), Bucket { tokens: tokens - 1.0, at: now });
        Ok(Attempt { key })
    }

    /// The attempt did not count (the code or the password was right).
    pub fn give_back(&mut self, attempt: Attempt<K>, now: Instant) {
        if let Some(bucket) = self.buckets.get(&attempt.key).copied() {
            let tokens = self.refilled(bucket, now) + 1.0;
            self.buckets.insert(attempt.key, Bucket { tokens: tokens.min(f64::from(self.budget.burst)), at: now });
        }
    }

    /// The wait `key` would be told now, without taking anything.
    pub fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let tokens = self.refilled(*self.buckets.get(key)?, now);
        (tokens < 1.0).then(|| self.budget.every.mul_f64(1.0 - tokens))
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Forgets the keys whose budget is whole again: they behave exactly as unknown keys.
    pub fn prune(&mut self, now: Instant) {
        let budget = self.budget;
        self.buckets.retain(|_, b| refilled(budget, *b, now) < f64::from(budget.burst));
    }

    /// Keeps the map under its cap before a new key goes in. Each step frees at least a quarter of
    /// the map or moves on, so the cost stays O(1) per new key on average.
    fn make_room(&mut self, now: Instant) {
        if self.buckets.len() < self.cap {
            return;
        }
        let target = self.cap - self.cap / 4;
        self.prune(now);
        if self.buckets.len() > target {
            // Only keys being refused right now are worth remembering.
            let budget = self.budget;
            self.buckets.retain(|_, b| refilled(budget, *b, now) < 1.0);
        }
        if self.buckets.len() > target {
            // More keys refused at once than the cap: an attack from everywhere. Forgetting them
            // all keeps memory bounded; each address then has its burst again, no more.
            self.buckets.clear();
        }
    }
}

/// Seconds to tell a person: rounded up, never 0.
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Budget = Budget { burst: 3, every: Duration::from_secs(10) };

    #[test]
    fn a_burst_then_one_attempt_per_period() {
        let mut limiter = Limiter::new(B);
        let t0 = Instant::now();
        for _ in 0..3 {
            let _ = limiter.take("ip", t0).expect("within the burst");
        }
        assert_eq!(limiter.take("ip", t0).unwrap_err(), Duration::from_secs(10));
        assert!(limiter.take("other", t0).is_ok(), "other keys are not affected");
        assert_eq!(limiter.wait(&"ip", t0 + Duration::from_secs(4)), Some(Duration::from_secs(6)));
        let _ = limiter.take("ip", t0 + Duration::from_secs(10)).expect("one more after a period");
        assert!(limiter.take("ip", t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn attempts_given_back_do_not_count() {
        let mut limiter = Limiter::new(B);
        let t0 = Instant::now();
        for _ in 0..100 {
            let attempt = limiter.take("ip", t0).expect("right answers never use the budget up");
            limiter.give_back(attempt, t0);
        }
        assert_eq!(limiter.wait(&"ip", t0), None);
    }

    #[test]
    fn attempts_in_flight_count_before_they_are_known_to_fail() {
        // Parallel requests each take before their lookup: only `burst` of them get through.
        let mut limiter = Limiter::new(B);
        let t0 = Instant::now();
        let passed: Vec<_> = (0..50).filter_map(|_| limiter.take("ip", t0).ok()).collect();
        assert_eq!(passed.len(), 3);
    }

    #[test]
    fn the_key_map_stays_bounded_and_keeps_the_refused() {
        let mut limiter = Limiter::with_cap(B, 100);
        let t0 = Instant::now();
        // One key refused right now...
        for _ in 0..4 {
            let _ = limiter.take(u32::MAX, t0);
        }
        // ...then a flood of one-off keys.
        for key in 0..10_000u32 {
            let _ = limiter.take(key, t0);
            assert!(limiter.len() <= 100);
        }
        assert!(limiter.wait(&u32::MAX, t0).is_some(), "a key being refused is not forgotten for newcomers");
        limiter.prune(t0 + Duration::from_secs(3600));
        assert!(limiter.is_empty());
    }

    #[test]
    fn waits_are_told_in_whole_seconds() {
        assert_eq!(whole_seconds(Duration::from_millis(29_001)), 30);
        assert_eq!(whole_seconds(Duration::from_secs(30)), 30);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }
}
