//! This process's budgets (`rules::limits`): who may try a code or a password now, and the gate
//! every password hash goes through. They are kept per process: behind a load balancer, each
//! instance counts its own, so the budgets multiply by the number of instances.
use super::client_ip::limit_key;
use crate::ids::SessionId;
use crate::rules::limits::*;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Debug)]
pub struct Limits {
    /// Visitors and accounts are remembered by a keyed hash: 8 bytes instead of a 64-byte digest
    /// or an address of up to 254 characters, and nothing readable in a memory dump.
    hasher: RandomState,
    join_by_visitor: Mutex<Limiter<u64>>,
    join_by_address: Mutex<Limiter<IpAddr>>,
    login_by_address: Mutex<Limiter<IpAddr>>,
    login_by_account: Mutex<Limiter<u64>>,
    signup_by_address: Mutex<Limiter<IpAddr>>,
    account_mail_by_recipient: Mutex<Limiter<u64>>,
    account_mail_by_address: Mutex<Limiter<IpAddr>>,
    pub hashes: HashGate,
    pub participants: ParticipantCounts,
    sockets: Arc<Mutex<HashMap<u64, u32>>>,
    /// Set by tests: the budgets' clock stands still, so that a slow machine's requests do not
    /// refill a budget in the middle of a test (200 lookups have taken over the 3 s refill).
    frozen_at: Option<Instant>,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Self::with_hash_gate(HashGate::new(cores * HASHES_PER_CORE, cores * HASH_QUEUE_PER_CORE))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One attempt from each of two budgets, both or neither: the second refusing gives the first
/// back, so that a refused request costs nothing.
fn take_both<A: Hash + Eq + Clone, B: Hash + Eq + Clone>(
    now: Instant,
    (first, a): (&Mutex<Limiter<A>>, A),
    (second, b): (&Mutex<Limiter<B>>, B),
) -> Result<(Attempt<A>, Attempt<B>), Duration> {
    let a = lock(first).take(a, now)?;
    match lock(second).take(b, now) {
        Ok(b) => Ok((a, b)),
        Err(wait) => {
            lock(first).give_back(a, now);
            Err(wait)
        }
    }
}

fn give_back_both<A: Hash + Eq + Clone, B: Hash + Eq + Clone>(
    now: Instant,
    (first, a): (&Mutex<Limiter<A>>, Attempt<A>),
    (second, b): (&Mutex<Limiter<B>>, Attempt<B>),
) {
    lock(first).give_back(a, now);
    lock(second).give_back(b, now);
}

/// A failed-join attempt taken from a visitor's and an address's budgets.
#[derive(Debug)]
#[must_use = "an attempt is kept (a failure) or given back"]
pub struct JoinAttempt {
    visitor: Attempt<u64>,
    address: Attempt<IpAddr>,
}

#[derive(Debug)]
#[must_use = "an attempt is kept (a failure) or given back"]
pub struct LoginAttempt {
    account: Attempt<u64>,
    address: Attempt<IpAddr>,
}

impl Limits {
    pub fn with_hash_gate(hashes: HashGate) -> Self {
        Self {
            hasher: RandomState::new(),
            join_by_visitor: Mutex::new(Limiter::new(JOIN_FAILURES_PER_VISITOR)),
            join_by_address: Mutex::new(Limiter::new(JOIN_FAILURES_PER_ADDRESS)),
            login_by_address: Mutex::new(Limiter::new(LOGIN_FAILURES_PER_ADDRESS)),
            login_by_account: Mutex::new(Limiter::new(LOGIN_FAILURES_PER_ACCOUNT)),
            signup_by_address: Mutex::new(Limiter::new(SIGNUPS_PER_ADDRESS)),
            account_mail_by_recipient: Mutex::new(Limiter::new(ACCOUNT_MAILS_PER_RECIPIENT)),
            account_mail_by_address: Mutex::new(Limiter::new(ACCOUNT_MAILS_PER_ADDRESS)),
            hashes,
            participants: ParticipantCounts::default(),
            sockets: Arc::default(),
            frozen_at: None,
        }
    }

    /// These budgets with their clock stopped: for tests, where an emptied budget must stay
    /// empty however slow the machine.
    pub fn with_frozen_clock(self) -> Self {
        Self { frozen_at: Some(Instant::now()), ..self }
    }

    fn now(&self) -> Instant {
        self.frozen_at.unwrap_or_else(Instant::now)
    }

    /// Takes one failure from both budgets before a code is looked up, or says how long to wait.
    pub fn take_join(&self, visitor_digest: &str, ip: IpAddr) -> Result<JoinAttempt, Duration> {
        let visitor = (&self.join_by_visitor, self.hasher.hash_one(visitor_digest));
        let (visitor, address) = take_both(self.now(), visitor, (&self.join_by_address, limit_key(ip)))?;
        Ok(JoinAttempt { visitor, address })
    }

    /// The lookup found an open or a closed session: not a failure.
    pub fn give_back_join(&self, attempt: JoinAttempt) {
        give_back_both(self.now(), (&self.join_by_visitor, attempt.visitor), (&self.join_by_address, attempt.address));
    }

    /// Takes one failed log-in from the address's and the account's budgets before the password is
    /// checked.
    pub fn take_login(&self, email: &str, ip: IpAddr) -> Result<LoginAttempt, Duration> {
        let account = (&self.login_by_account, self.hasher.hash_one(email));
        let (address, account) = take_both(self.now(), (&self.login_by_address, limit_key(ip)), account)?;
        Ok(LoginAttempt { account, address })
    }

    /// The password was right (or was never checked): not a failure.
    pub fn give_back_login(&self, attempt: LoginAttempt) {
        give_back_both(self.now(), (&self.login_by_address, attempt.address), (&self.login_by_account, attempt.account));
    }

    /// Every sign-up that reaches the password hash counts, whatever its outcome.
    pub fn take_signup(&self, ip: IpAddr) -> Result<(), Duration> {
        lock(&self.signup_by_address).take(limit_key(ip), self.now()).map(drop)
    }

    /// Every account mail asked for counts, whether the address has an account or not (so the
    /// answer tells nothing), against the recipient's and the client address's budgets.
    pub fn take_account_mail(&self, email: &str, ip: IpAddr) -> Result<(), Duration> {
        let recipient = (&self.account_mail_by_recipient, self.hasher.hash_one(("mail", email)));
        take_both(self.now(), (&self.account_mail_by_address, limit_key(ip)), recipient).map(drop)
    }

    /// A place for one more live socket of a logged-in host, if they have fewer than
    /// `LIVE_SOCKETS_PER_USER` open; held until the socket ends.
    pub fn open_host_socket(&self, user: crate::ids::UserId) -> Option<SocketSlot> {
        self.open_socket(self.hasher.hash_one(("user", user.0)), LIVE_SOCKETS_PER_USER)
    }

    /// The same for a participant's browser, known by its visitor cookie.
    pub fn open_participant_socket(&self, visitor_digest: &str) -> Option<SocketSlot> {
        self.open_socket(self.hasher.hash_one(("visitor", visitor_digest)), LIVE_SOCKETS_PER_VISITOR)
    }

    fn open_socket(&self, key: u64, max: u32) -> Option<SocketSlot> {
        let mut open = lock(&self.sockets);
        let count = open.entry(key).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketSlot { sockets: self.sockets.clone(), key })
    }

    /// Keys remembered, over all limiters (the housekeeping prunes them; each map is capped too).
    pub fn keys(&self) -> usize {
        lock(&self.join_by_visitor).len()
            + lock(&self.join_by_address).len()
            + lock(&self.login_by_address).len()
            + lock(&self.login_by_account).len()
            + lock(&self.signup_by_address).len()
            + lock(&self.account_mail_by_recipient).len()
            + lock(&self.account_mail_by_address).len()
    }

    /// Forgets every key whose budget is whole again.
    pub fn prune(&self) {
        let now = self.now();
        lock(&self.join_by_visitor).prune(now);
        lock(&self.join_by_address).prune(now);
        lock(&self.login_by_address).prune(now);
        lock(&self.login_by_account).prune(now);
        lock(&self.signup_by_address).prune(now);
        lock(&self.account_mail_by_recipient).prune(now);
        lock(&self.account_mail_by_address).prune(now);
    }
}

/// One open live socket, counted against its browser or host until dropped. The map holds only
/// keys with sockets open, so it is bounded by the sockets themselves.
#[derive(Debug)]
pub struct SocketSlot {
    sockets: Arc<Mutex<HashMap<u64, u32>>>,
    key: u64,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.sockets);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// How many participants each session has, as this process last counted them: checking the cap on
/// every join must not cost a count over thousands of rows. A count is trusted for a few seconds,
/// then made again (other instances add participants too); in between, every join adds one. One
/// join makes the count again while the others go on with the one held: a room of thousands
/// joining at once would otherwise have hundreds of joins in flight each count every row.
#[derive(Debug, Default)]
pub struct ParticipantCounts {
    counts: Mutex<HashMap<SessionId, (u64, Instant)>>,
}

/// How long a count is trusted before the participants are counted again.
const COUNT_FOR: Duration = Duration::from_secs(10);
/// Sessions whose count is kept; past that, all are forgotten and counted again when needed.
const COUNTED_SESSIONS_MAX: usize = 100_000;

impl ParticipantCounts {
    /// The count to check a join against at `now`, or `None` when the caller is to count: there
    /// is no count yet, or it is due again (then this caller alone is told so, until `COUNT_FOR`
    /// later: the count held serves the others meanwhile).
    pub fn recent(&self, session: SessionId, now: Instant) -> Option<u64> {
        let mut counts = lock(&self.counts);
        let (count, at) = counts.get_mut(&session)?;
        if now.saturating_duration_since(*at) < COUNT_FOR {
            return Some(*count);
        }
        *at = now;
        None
    }

    pub fn counted(&self, session: SessionId, count: u64, now: Instant) {
        let mut counts = lock(&self.counts);
        if counts.len() >= COUNTED_SESSIONS_MAX {
            counts.clear();
        }
        counts.insert(session, (count, now));
    }

    /// One more participant (or one who came back: counting them again only errs towards the
    /// recount, which comes within `COUNT_FOR`).
    pub fn add_one(&self, session: SessionId) {
        if let Some((count, _)) = lock(&self.counts).get_mut(&session) {
            *count += 1;
        }
    }
}

/// Bounds password hashing: argon2id takes 19 MiB and tens of milliseconds of a core per hash, so
/// a few hundred parallel log-ins would take gigabytes. At most `running` hashes run at once and
/// `queue` requests wait for one; past that, the caller is told Ruche is busy.
#[derive(Debug)]
pub struct HashGate {
    running: Arc<Semaphore>,
    queue: usize,
    waiting: AtomicUsize,
    /// When "busy" was last logged (seconds since the epoch): once a minute at most, however
    /// many requests are turned away.
    busy_logged_at: std::sync::atomic::AtomicU64,
}

/// No room in the queue: the request should be retried in a few seconds.
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

/// Counts a request waiting for a hash until it gets one or gives up (a client that goes away).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashGate {
    pub fn new(running: usize, queue: usize) -> Self {
        Self {
            running: Arc::new(Semaphore::new(running.max(1))),
            queue,
            waiting: AtomicUsize::new(0),
            busy_logged_at: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn report_busy(&self) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let last = self.busy_logged_at.load(Ordering::Relaxed);
        if now >= last + 60 && self.busy_logged_at.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            tracing::warn!("password hashing is saturated: log-ins and sign-ups are answered \"Ruche is busy\" (503)");
        }
    }

    /// Runs `hash` on the blocking pool once a slot is free. The slot is held until the hash ends,
    /// even if the request is dropped meanwhile, so the bound holds for the work actually running.
    pub async fn run<T: Send + 'static>(&self, hash: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let permit = match self.running.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    self.report_busy();
                    return Err(Busy);
                }
                let _waiting = Waiting(&self.waiting);
                self.running.clone().acquire_owned().await.map_err(|_| Busy)?
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash()
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing task failed");
            Busy
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_hash_gate_runs_a_few_queues_a_few_and_refuses_the_rest() {
        let gate = Arc::new(HashGate::new(1, 2));
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let started = Arc::new(AtomicUsize::new(0));
        let mut calls = Vec::new();
        for _ in 0..10 {
            let (gate, held, started) = (gate.clone(), held.clone(), started.clone());
            calls.push(tokio::spawn(async move {
                gate.run(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    let _ = lock(&held).recv();
                })
                .await
            }));
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(started.load(Ordering::SeqCst), 1, "one hash at a time");
        for _ in 0..10 {
            let _ = release.send(());
        }
        let mut results = Vec::new();
        for call in calls {
            results.push(call.await.unwrap());
        }
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3, "one running and two waiting");
        assert_eq!(results.iter().filter(|r| **r == Err(Busy)).count(), 7);
        assert_eq!(gate.waiting.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_room_behind_one_address_is_not_held_back_by_one_guesser() {
        let limits = Limits::default();
        let school: IpAddr = "203.0.113.7".parse().unwrap();
        // A guesser in the room uses up their own budget...
        let mut refused = 0;
        for _ in 0..50 {
            if limits.take_join("guesser", school).is_err() {
                refused += 1;
            }
        }
        assert_eq!(refused, 50 - JOIN_FAILURES_PER_VISITOR.burst as usize);
        // ...while 100 others each mistype once (or try before the host opened the session, which
        // is given back), and still get in.
        for person in 0..100 {
            let _ = limits.take_join(&format!("person {person}"), school).expect("a room is not slowed");
            let closed = limits.take_join(&format!("person {person}"), school).expect("a room is not slowed");
            limits.give_back_join(closed);
            let right = limits.take_join(&format!("person {person}"), school).expect("a right code goes in");
            limits.give_back_join(right);
        }
    }

    #[test]
    fn a_guesser_with_fresh_cookies_is_held_by_the_address() {
        let limits = Limits::default();
        let ip: IpAddr = "2001:db8:1:2::7".parse().unwrap();
        let next_door: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let passed = (0..1000).filter(|n| limits.take_join(&format!("cookie {n}"), ip).is_ok()).count();
        assert_eq!(passed, JOIN_FAILURES_PER_ADDRESS.burst as usize);
        assert!(limits.take_join("new cookie", next_door).is_err(), "an IPv6 /64 counts as one address");
    }

    #[test]
    fn live_sockets_are_capped_per_browser_and_freed_when_they_end() {
        let limits = Limits::default();
        let tabs: Vec<_> = (0..LIVE_SOCKETS_PER_VISITOR).map(|_| limits.open_participant_socket("phone").unwrap()).collect();
        assert!(limits.open_participant_socket("phone").is_none());
        assert!(limits.open_participant_socket("another phone").is_some());
        drop(tabs);
        assert!(limits.open_participant_socket("phone").is_some());
        assert_eq!(lock(&limits.sockets).len(), 0, "closed sockets leave nothing behind");
    }

    #[test]
    fn one_join_makes_a_due_count_while_the_others_go_on_with_the_one_held() {
        let counts = ParticipantCounts::default();
        let session = SessionId(uuid::Uuid::new_v4());
        let start = Instant::now();
        assert_eq!(counts.recent(session, start), None, "never counted");
        counts.counted(session, 10, start);
        counts.add_one(session);
        assert_eq!(counts.recent(session, start + COUNT_FOR / 2), Some(11));
        let due = start + COUNT_FOR;
        assert_eq!(counts.recent(session, due), None, "the first join once the count is due makes it");
        for _ in 0..100 {
            assert_eq!(counts.recent(session, due + Duration::from_millis(5)), Some(11), "the others do not count too");
        }
        counts.counted(session, 12, due + Duration::from_millis(10));
        assert_eq!(counts.recent(session, due + COUNT_FOR / 2), Some(12));
    }

    #[test]
    fn failed_log_ins_slow_an_account_down_and_right_ones_are_free() {
        let limits = Limits::default();
        let burst = LOGIN_FAILURES_PER_ACCOUNT.burst as u8;
        for n in 0..burst {
            let _ = limits.take_login("ada@example.org", [198, 51, 100, n].into()).expect("within the budget");
        }
        let wait = limits.take_login("ada@example.org", [198, 51, 100, 200].into()).unwrap_err();
        assert!(wait <= LOGIN_FAILURES_PER_ACCOUNT.every, "the owner waits a minute at most");
        for _ in 0..100 {
            let right = limits.take_login("bob@example.org", [198, 51, 100, 201].into()).unwrap();
            limits.give_back_login(right);
        }
    }
}
