//! Waves of joins, and the events measured on them: participants join one session as fast as
//! they can or at a fixed rate, then each event the owner fires is timed until every one of
//! them has it.
use crate::client::{follow, join_ruche, now_nanos, Arrivals, Socket};
use bench::{cpu_seconds, Error};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) const JOIN_CONCURRENCY: usize = 256;
const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

/// Participants joining one session by its code, the i-th at `targets[i % len]`.
#[derive(Clone)]
pub(crate) struct Wave {
    pub(crate) targets: Arc<[SocketAddr]>,
    code: Arc<str>,
    pub(crate) session: Arc<str>,
    /// The visitor cookies of the first `page_loads` participants, who load their page later.
    pub(crate) cookies: Arc<Mutex<Vec<String>>>,
    page_loads: usize,
}

impl Wave {
    pub(crate) fn new(targets: &[SocketAddr], code: String, session: &str, page_loads: usize) -> Self {
        Self {
            targets: targets.into(),
            code: code.into(),
            session: session.into(),
            cookies: Arc::default(),
            page_loads,
        }
    }

    pub(crate) fn join(
        &self,
        i: usize,
    ) -> impl std::future::Future<Output = Result<(Socket, u64), Error>> + Send + 'static {
        let wave = self.clone();
        async move {
            let keep = (i < wave.page_loads).then_some(&*wave.cookies);
            join_ruche(wave.targets[i % wave.targets.len()], &wave.code, &wave.session, keep).await
        }
    }
}

pub(crate) struct Joined {
    pub(crate) arrivals: Arc<Arrivals>,
    pub(crate) tasks: Vec<tokio::task::JoinHandle<()>>,
    pub(crate) latencies: Vec<u64>,
    /// The code's request alone, and the socket alone (until its first message): which part of
    /// a join is slow.
    pub(crate) code_requests: Vec<u64>,
    pub(crate) sockets: Vec<u64>,
    pub(crate) elapsed: Duration,
}

/// Joins `n` participants, `JOIN_CONCURRENCY` at a time; the i-th goes to `targets[i % len]`.
pub(crate) async fn join_all<F, Fut>(n: usize, join: F) -> Result<Joined, Error>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(Socket, u64), Error>> + Send,
{
    let arrivals = Arc::new(Arrivals {
        at: (0..n).map(|_| AtomicU64::new(0)).collect(),
        received: AtomicUsize::new(0),
        last_len: AtomicUsize::new(0),
    });
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..JOIN_CONCURRENCY.min(n) {
        let (next, join, arrivals) = (next.clone(), join.clone(), arrivals.clone());
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, Error>(done);
                }
                let t0 = Instant::now();
                let (socket, code_request) = join(i).await.map_err(|e| format!("participant {i}: {e}"))?;
                let latency = t0.elapsed().as_nanos() as u64;
                done.push((follow(socket, i, arrivals.clone()), latency, code_request));
            }
        }));
    }
    let (mut tasks, mut latencies, mut code_requests, mut sockets) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for worker in workers {
        for (task, latency, code_request) in worker.await?? {
            tasks.push(task);
            latencies.push(latency);
            code_requests.push(code_request);
            sockets.push(latency - code_request);
        }
    }
    Ok(Joined { arrivals, tasks, latencies, code_requests, sockets, elapsed: started.elapsed() })
}

/// Joins `n` participants arriving at `rate` a second, as a room does, whatever the server makes
/// of those before them (an open loop; at most `JOIN_CONCURRENCY` in flight, as the file limit
/// leaves room for). Each latency counts from the participant's due time, so a server falling
/// behind shows as latency, not as a slower schedule. `join_all`'s latencies cannot show a
/// server's latency at a given rate: with a fixed number in flight, their mean is that number
/// divided by the rate reached (Little's law). Returns the latencies, sorted, and the rate reached;
/// the sockets close.
pub(crate) async fn join_at_rate<F, Fut>(n: usize, rate: f64, join: F) -> Result<(Vec<u64>, f64), Error>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(Socket, u64), Error>> + Send + 'static,
{
    let in_flight = Arc::new(tokio::sync::Semaphore::new(JOIN_CONCURRENCY));
    let started = tokio::time::Instant::now();
    let mut joins = Vec::with_capacity(n);
    for i in 0..n {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due).await;
        let slot = in_flight.clone().acquire_owned().await?;
        let join = join.clone();
        joins.push(tokio::spawn(async move {
            let (socket, _) = join(i).await.map_err(|e| format!("participant {i}: {e}"))?;
            drop(slot);
            Ok::<_, Error>((socket, due.elapsed().as_nanos() as u64))
        }));
    }
    let mut sockets = Vec::with_capacity(n);
    let mut latencies = Vec::with_capacity(n);
    for join in joins {
        let (socket, latency) = join.await??;
        sockets.push(socket);
        latencies.push(latency);
    }
    let reached = n as f64 / started.elapsed().as_secs_f64();
    drop(sockets);
    latencies.sort_unstable();
    Ok((latencies, reached))
}

/// What one event measured: each delivery latency, when its request was answered, and the
/// server's CPU time from the request to the last delivery.
pub(crate) type Measured = (Vec<u64>, u64, f64);

/// Fires one event and waits for every connection to receive it.
pub(crate) async fn measure<Fut>(joined: &Joined, pids: &[u32], fire: Fut) -> Result<Measured, Error>
where
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let n = joined.arrivals.at.len();
    let before = joined.arrivals.received.load(Ordering::Acquire);
    let cpu_before = cpu_seconds(pids);
    let t0 = now_nanos();
    fire.await?;
    let answered = now_nanos() - t0;
    let deadline = Instant::now() + EVENT_TIMEOUT;
    while joined.arrivals.received.load(Ordering::Acquire) < before + n {
        if Instant::now() > deadline {
            let got = joined.arrivals.received.load(Ordering::Acquire) - before;
            return Err(format!("only {got} of {n} participants received the event within {EVENT_TIMEOUT:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let cpu = cpu_seconds(pids) - cpu_before;
    Ok((joined.arrivals.at.iter().map(|a| a.load(Ordering::Relaxed).saturating_sub(t0)).collect(), answered, cpu))
}
