//! This process's budgets (`rules::limits`): who may try a code or a password now, and the gate
//! every password hash goes through. They are kept per process: behind a load balancer, each
//! instance counts its own, so the budgets multiply by the number of instances.
use super::client_ip::{limit_key, network_keys};
use super::metrics::{limited, limited_slot};
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
    join_by_56: Mutex<Limiter<IpAddr>>,
    join_by_48: Mutex<Limiter<IpAddr>>,
    join_by_instance: Mutex<Limiter<()>>,
    new_participants_by_address: Mutex<Limiter<IpAddr>>,
    login_by_address: Mutex<Limiter<IpAddr>>,
    login_by_account: Mutex<Limiter<u64>>,
    logins_by_account_and_address: Mutex<Limiter<u64>>,
    login_by_device: Mutex<Limiter<u64>>,
    changes_by_account: Mutex<Limiter<u64>>,
    posts_by_participant: Mutex<Limiter<u64>>,
    likes_by_participant: Mutex<Limiter<u64>>,
    signup_by_address: Mutex<Limiter<IpAddr>>,
    account_mail_by_recipient: Mutex<Limiter<u64>>,
    account_mail_by_address: Mutex<Limiter<IpAddr>>,
    pub hashes: HashGate,
    sockets: OpenCounts<u64>,
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

/// Which budget refused an account mail, and how long it asks to wait.
#[derive(Debug, PartialEq, Eq)]
pub enum MailRefused {
    /// The client asked for too many mails, to any addresses.
    Client(Duration),
    /// The recipient was mailed enough lately, whoever asked: the latest mail's link still works.
    Recipient(Duration),
}

/// A failed-join attempt taken from a visitor's budget and those of every network its address
/// counts in (`client_ip::network_keys`).
#[derive(Debug)]
#[must_use = "an attempt is kept (a failure) or given back"]
pub struct JoinAttempt {
    visitor: Attempt<u64>,
    networks: [Option<Attempt<IpAddr>>; 3],
}

#[derive(Debug)]
#[must_use = "an attempt is kept (a failure) or given back"]
pub enum LoginAttempt {
    /// From a browser the account did not log in from before: the account's and the address's
    /// budgets.
    Stranger { account: Attempt<u64>, address: Attempt<IpAddr> },
    /// From a browser the account logged in from before: its own budget alone.
    Device(Attempt<u64>),
}

impl Limits {
    pub fn with_hash_gate(hashes: HashGate) -> Self {
        Self {
            hasher: RandomState::new(),
            join_by_visitor: Mutex::new(Limiter::new(JOIN_FAILURES_PER_VISITOR)),
            join_by_address: Mutex::new(Limiter::new(JOIN_FAILURES_PER_ADDRESS)),
            join_by_56: Mutex::new(Limiter::new(JOIN_FAILURES_PER_56)),
            join_by_48: Mutex::new(Limiter::new(JOIN_FAILURES_PER_48)),
            join_by_instance: Mutex::new(Limiter::new(JOIN_FAILURES_PER_INSTANCE)),
            new_participants_by_address: Mutex::new(Limiter::new(NEW_PARTICIPANTS_PER_ADDRESS)),
            login_by_address: Mutex::new(Limiter::new(LOGIN_FAILURES_PER_ADDRESS)),
            login_by_account: Mutex::new(Limiter::new(LOGIN_FAILURES_PER_ACCOUNT)),
            logins_by_account_and_address: Mutex::new(Limiter::new(LOGINS_PER_ACCOUNT_AND_ADDRESS)),
            login_by_device: Mutex::new(Limiter::new(LOGIN_FAILURES_PER_DEVICE)),
            changes_by_account: Mutex::new(Limiter::new(CHANGES_PER_ACCOUNT)),
            posts_by_participant: Mutex::new(Limiter::new(POSTS_PER_PARTICIPANT)),
            likes_by_participant: Mutex::new(Limiter::new(LIKES_PER_PARTICIPANT)),
            signup_by_address: Mutex::new(Limiter::new(SIGNUPS_PER_ADDRESS)),
            account_mail_by_recipient: Mutex::new(Limiter::new(ACCOUNT_MAILS_PER_RECIPIENT)),
            account_mail_by_address: Mutex::new(Limiter::new(ACCOUNT_MAILS_PER_ADDRESS)),
            hashes,
            sockets: OpenCounts::default(),
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

    /// The budgets of an address's networks, in the order of `client_ip::network_keys`.
    fn join_networks(&self) -> [&Mutex<Limiter<IpAddr>>; 3] {
        [&self.join_by_address, &self.join_by_56, &self.join_by_48]
    }

    /// Takes one failure from the visitor's budget and its address's networks' before a code is
    /// looked up, or says how long to wait; all or none.
    pub fn take_join(&self, visitor_digest: &str, ip: IpAddr) -> Result<JoinAttempt, Duration> {
        limited("failed_joins", self.take_join_budgets(visitor_digest, ip))
    }

    fn take_join_budgets(&self, visitor_digest: &str, ip: IpAddr) -> Result<JoinAttempt, Duration> {
        let now = self.now();
        let visitor = lock(&self.join_by_visitor).take(self.hasher.hash_one(visitor_digest), now)?;
        let mut attempt = JoinAttempt { visitor, networks: [None, None, None] };
        for ((limiter, key), taken) in self.join_networks().into_iter().zip(network_keys(ip)).zip(0..) {
            let Some(key) = key else { continue };
            match lock(limiter).take(key, now) {
                Ok(network) => attempt.networks[taken] = Some(network),
                Err(wait) => {
                    self.give_back_join(attempt);
                    return Err(wait);
                }
            }
        }
        Ok(attempt)
    }

    /// The lookup found an open or a closed session: not a failure.
    pub fn give_back_join(&self, attempt: JoinAttempt) {
        let now = self.now();
        lock(&self.join_by_visitor).give_back(attempt.visitor, now);
        for (limiter, network) in self.join_networks().into_iter().zip(attempt.networks) {
            if let Some(network) = network {
                lock(limiter).give_back(network, now);
            }
        }
    }

    /// A lookup failed: how late to answer it, if this instance is being swept (more failures
    /// from everyone than `JOIN_FAILURES_PER_INSTANCE`).
    pub fn failure_delay(&self) -> Option<Duration> {
        lock(&self.join_by_instance).take((), self.now()).err().map(|_| SWEPT_FAILURE_DELAY)
    }

    /// These budgets with each account's budget of changes set to `budget` (tests about
    /// something else that make many changes).
    pub fn with_changes_per_account(self, budget: Budget) -> Self {
        Self { changes_by_account: Mutex::new(Limiter::new(budget)), ..self }
    }

    /// These budgets with the instance's budget of failed lookups set to `budget` (tests).
    pub fn with_instance_join_failures(self, budget: Budget) -> Self {
        Self { join_by_instance: Mutex::new(Limiter::new(budget)), ..self }
    }

    /// One more participant let into a session from `ip` (someone who joined before does not
    /// count), or how long to wait.
    pub fn take_new_participant(&self, ip: IpAddr) -> Result<(), Duration> {
        limited("new_participants", lock(&self.new_participants_by_address).take(limit_key(ip), self.now()).map(drop))
    }

    /// Takes one failed log-in before the password is checked, after one log-in of this account
    /// from this address, whatever its outcome: from the address's and the account's budgets, or
    /// from `device`'s alone when the account logged in from this browser before (its device
    /// cookie's digest).
    pub fn take_login(&self, email: &str, ip: IpAddr, device: Option<&str>) -> Result<LoginAttempt, Duration> {
        limited("failed_logins", self.take_login_budgets(email, ip, device))
    }

    fn take_login_budgets(&self, email: &str, ip: IpAddr, device: Option<&str>) -> Result<LoginAttempt, Duration> {
        let pair = self.hasher.hash_one(("login", email, limit_key(ip)));
        lock(&self.logins_by_account_and_address).take(pair, self.now()).map(drop)?;
        if let Some(device) = device {
            return lock(&self.login_by_device)
                .take(self.hasher.hash_one(("device", device)), self.now())
                .map(LoginAttempt::Device);
        }
        let account = (&self.login_by_account, self.hasher.hash_one(email));
        let (address, account) = take_both(self.now(), (&self.login_by_address, limit_key(ip)), account)?;
        Ok(LoginAttempt::Stranger { account, address })
    }

    /// The password was right (or was never checked): not a failure.
    pub fn give_back_login(&self, attempt: LoginAttempt) {
        match attempt {
            LoginAttempt::Stranger { account, address } => {
                give_back_both(self.now(), (&self.login_by_address, address), (&self.login_by_account, account))
            }
            LoginAttempt::Device(device) => lock(&self.login_by_device).give_back(device, self.now()),
        }
    }

    /// One change by `user` (a session, its slides, its sharing), or how long to wait.
    pub fn take_change(&self, user: crate::ids::UserId) -> Result<(), Duration> {
        limited(
            "changes",
            lock(&self.changes_by_account).take(self.hasher.hash_one(("change", user.0)), self.now()).map(drop),
        )
    }

    /// One message posted to the Discussion by `participant`, or how long to wait.
    pub fn take_post(&self, participant: crate::ids::ParticipantId) -> Result<(), Duration> {
        limited(
            "posts",
            lock(&self.posts_by_participant).take(self.hasher.hash_one(("post", participant.0)), self.now()).map(drop),
        )
    }

    /// One like (or like taken back) by `participant`, or how long to wait.
    pub fn take_like(&self, participant: crate::ids::ParticipantId) -> Result<(), Duration> {
        limited(
            "likes",
            lock(&self.likes_by_participant).take(self.hasher.hash_one(("like", participant.0)), self.now()).map(drop),
        )
    }

    /// Every sign-up that reaches the password hash counts, whatever its outcome.
    pub fn take_signup(&self, ip: IpAddr) -> Result<(), Duration> {
        limited("signups", lock(&self.signup_by_address).take(limit_key(ip), self.now()).map(drop))
    }

    /// Every account mail asked for counts, whether the address has an account or not (so the
    /// answer tells nothing), against the recipient's and the client address's budgets.
    pub fn take_account_mail(&self, email: &str, ip: IpAddr) -> Result<(), MailRefused> {
        limited("account_mails", self.take_account_mail_budgets(email, ip))
    }

    fn take_account_mail_budgets(&self, email: &str, ip: IpAddr) -> Result<(), MailRefused> {
        let now = self.now();
        let client = lock(&self.account_mail_by_address).take(limit_key(ip), now).map_err(MailRefused::Client)?;
        match lock(&self.account_mail_by_recipient).take(self.hasher.hash_one(("mail", email)), now) {
            Ok(_) => Ok(()),
            Err(wait) => {
                lock(&self.account_mail_by_address).give_back(client, now);
                Err(MailRefused::Recipient(wait))
            }
        }
    }

    /// A place for one more live socket of a logged-in host, if they have fewer than
    /// `LIVE_SOCKETS_PER_USER` open; held until the socket ends.
    pub fn open_host_socket(&self, user: crate::ids::UserId) -> Option<SocketSlot> {
        limited_slot("host_sockets", self.open_socket(self.hasher.hash_one(("user", user.0)), LIVE_SOCKETS_PER_USER))
    }

    /// The same for a participant's browser, known by its visitor cookie.
    pub fn open_participant_socket(&self, visitor_digest: &str) -> Option<SocketSlot> {
        limited_slot(
            "participant_sockets",
            self.open_socket(self.hasher.hash_one(("visitor", visitor_digest)), LIVE_SOCKETS_PER_VISITOR),
        )
    }

    fn open_socket(&self, key: u64, max: u32) -> Option<SocketSlot> {
        self.sockets.open(key, max)
    }

    /// Keys remembered, over all limiters (the housekeeping prunes them; each map is capped too).
    pub fn keys(&self) -> usize {
        lock(&self.join_by_visitor).len()
            + lock(&self.join_by_address).len()
            + lock(&self.join_by_56).len()
            + lock(&self.join_by_48).len()
            + lock(&self.new_participants_by_address).len()
            + lock(&self.login_by_address).len()
            + lock(&self.login_by_account).len()
            + lock(&self.logins_by_account_and_address).len()
            + lock(&self.login_by_device).len()
            + lock(&self.changes_by_account).len()
            + lock(&self.posts_by_participant).len()
            + lock(&self.likes_by_participant).len()
            + lock(&self.signup_by_address).len()
            + lock(&self.account_mail_by_recipient).len()
            + lock(&self.account_mail_by_address).len()
    }

    /// Forgets every key whose budget is whole again.
    pub fn prune(&self) {
        let now = self.now();
        lock(&self.join_by_visitor).prune(now);
        lock(&self.join_by_address).prune(now);
        lock(&self.join_by_56).prune(now);
        lock(&self.join_by_48).prune(now);
        lock(&self.join_by_instance).prune(now);
        lock(&self.new_participants_by_address).prune(now);
        lock(&self.login_by_address).prune(now);
        lock(&self.login_by_account).prune(now);
        lock(&self.logins_by_account_and_address).prune(now);
        lock(&self.login_by_device).prune(now);
        lock(&self.changes_by_account).prune(now);
        lock(&self.posts_by_participant).prune(now);
        lock(&self.likes_by_participant).prune(now);
        lock(&self.signup_by_address).prune(now);
        lock(&self.account_mail_by_recipient).prune(now);
        lock(&self.account_mail_by_address).prune(now);
    }
}

/// One open live socket, counted against its browser or host until dropped.
pub type SocketSlot = Held<u64>;

/// What is held open per key (live sockets per browser or host, connections per client
/// address), each counted until it is dropped. The map holds only keys with something open, so it
/// is bounded by what is open.
#[derive(Debug)]
pub struct OpenCounts<K> {
    open: Arc<Mutex<HashMap<K, u32>>>,
}

impl<K> Default for OpenCounts<K> {
    fn default() -> Self {
        Self { open: Arc::default() }
    }
}

impl<K: Hash + Eq + Clone> OpenCounts<K> {
    /// One more for `key`, if it holds fewer than `max`; counted until the `Held` is dropped.
    pub fn open(&self, key: K, max: u32) -> Option<Held<K>> {
        let mut open = lock(&self.open);
        let count = open.entry(key.clone()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Held { open: self.open.clone(), key })
    }

    /// Keys with something open.
    pub fn keys(&self) -> usize {
        lock(&self.open).len()
    }
}

/// One thing held open against its key (`OpenCounts`), until dropped.
#[derive(Debug)]
pub struct Held<K: Hash + Eq> {
    open: Arc<Mutex<HashMap<K, u32>>>,
    key: K,
}

impl<K: Hash + Eq> Drop for Held<K> {
    fn drop(&mut self) {
        let mut open = lock(&self.open);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
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
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let last = self.busy_logged_at.load(Ordering::Relaxed);
        if now >= last + 60
            && self.busy_logged_at.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        {
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
                    return limited("password_hashing", Err(Busy));
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
    fn an_ipv6_56_and_48_get_their_own_budgets_not_one_per_64() {
        let limits = Limits::default().with_frozen_clock();
        let v6 = |s: String| -> IpAddr { s.parse().unwrap() };
        // Every /64 of one /56, each guessing with fresh cookies.
        let passed = (0..256u32)
            .flat_map(|n| (0..10).map(move |i| (n, i)))
            .filter(|(n, i)| limits.take_join(&format!("{n} {i}"), v6(format!("2001:db8:aa:bb{n:02x}::1"))).is_ok())
            .count();
        assert_eq!(passed, JOIN_FAILURES_PER_56.burst as usize);
        // The other /56s of that /48 share what the /48 has left.
        let passed = (0..16u32)
            .flat_map(|m| (0..200).map(move |i| (m, i)))
            .filter(|(m, i)| {
                limits.take_join(&format!("{m} {i} more"), v6(format!("2001:db8:aa:{m:02x}01::1"))).is_ok()
            })
            .count();
        assert_eq!(passed, (JOIN_FAILURES_PER_48.burst - JOIN_FAILURES_PER_56.burst) as usize);
        assert!(limits.take_join("elsewhere", v6("2001:db8:ab::1".into())).is_ok(), "another /48 is not held back");
        // A right code gives every budget back.
        let right = limits.take_join("elsewhere", v6("2001:db8:ab::1".into())).unwrap();
        limits.give_back_join(right);
    }

    #[test]
    fn a_swept_instance_slows_failures_down() {
        let limits = Limits::default()
            .with_frozen_clock()
            .with_instance_join_failures(Budget { burst: 3, every: Duration::from_secs(60) });
        for _ in 0..3 {
            assert_eq!(limits.failure_delay(), None);
        }
        assert_eq!(limits.failure_delay(), Some(SWEPT_FAILURE_DELAY));
    }

    #[test]
    fn a_known_browser_has_a_budget_of_its_own() {
        let limits = Limits::default().with_frozen_clock();
        // The account and the address are held back by failures from elsewhere...
        for n in 0..LOGIN_FAILURES_PER_ACCOUNT.burst as u8 {
            let _ = limits.take_login("ada@example.org", [198, 51, 100, n].into(), None).unwrap();
        }
        assert!(limits.take_login("ada@example.org", [198, 51, 100, 99].into(), None).is_err());
        // ...not the browser she logged in from, which has its own.
        let office: IpAddr = [198, 51, 100, 1].into();
        let right = limits.take_login("ada@example.org", office, Some("laptop")).expect("a known browser goes on");
        limits.give_back_login(right);
        let passed = (0..LOGIN_FAILURES_PER_DEVICE.burst + 5)
            .filter(|n| limits.take_login("ada@example.org", [198, 51, 102, *n as u8].into(), Some("laptop")).is_ok())
            .count();
        assert_eq!(passed, LOGIN_FAILURES_PER_DEVICE.burst as usize);
    }

    #[test]
    fn live_sockets_are_capped_per_browser_and_freed_when_they_end() {
        let limits = Limits::default();
        let tabs: Vec<_> =
            (0..LIVE_SOCKETS_PER_VISITOR).map(|_| limits.open_participant_socket("phone").unwrap()).collect();
        assert!(limits.open_participant_socket("phone").is_none());
        assert!(limits.open_participant_socket("another phone").is_some());
        drop(tabs);
        assert!(limits.open_participant_socket("phone").is_some());
        assert_eq!(limits.sockets.keys(), 0, "closed sockets leave nothing behind");
    }

    #[test]
    fn failed_log_ins_slow_an_account_down_and_right_ones_are_free() {
        let limits = Limits::default();
        let burst = LOGIN_FAILURES_PER_ACCOUNT.burst as u8;
        for n in 0..burst {
            let _ = limits.take_login("ada@example.org", [198, 51, 100, n].into(), None).expect("within the budget");
        }
        let wait = limits.take_login("ada@example.org", [198, 51, 100, 200].into(), None).unwrap_err();
        assert!(wait <= LOGIN_FAILURES_PER_ACCOUNT.every, "the owner waits a minute at most");
        for n in 0..100 {
            let right = limits.take_login("bob@example.org", [198, 51, 101, n].into(), None).unwrap();
            limits.give_back_login(right);
        }
    }
}
