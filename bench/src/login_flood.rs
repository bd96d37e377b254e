//! Log-in flood (`scripts/bench-login.sh` runs it; it prints figures and asserts nothing): one
//! client fires N wrong-password `POST /api/log_in` at once against a running Ruche, while
//! `GET /` is timed every 10 ms and the server's memory is sampled from /proc.
//!
//! The flood comes from 127.0.0.1, which the server must trust as a proxy (`TRUSTED_PROXIES`),
//! so that each request's `X-Forwarded-For` (one of `--addresses` addresses in 198.18.0.0/15,
//! the benchmarking range) is its client address. With `--unknown-accounts` each request also
//! names an e-mail of its own that has no account: neither a per-address nor a per-account limit
//! then stops anything, and only the bound on password hashes running at once protects the
//! server. `GET /` goes from 127.0.0.2, a client of its own.
use bench::{arg, connect, exchange, get_request, ms, percentile, post_request, proc_status_kib, Error};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const FLOOD_SOURCE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const PROBE_SOURCE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const PROBE_EVERY: Duration = Duration::from_millis(10);
const IDLE_PROBES: usize = 100;
const MEMORY_EVERY: Duration = Duration::from_millis(5);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "the benchmark's password";

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "--help") {
        return Err(
            "usage: login-flood --ruche ADDR --pid PID [--logins N] [--addresses K] [--unknown-accounts] [--label L]"
                .into(),
        );
    }
    let options = Options {
        target: arg(&args, "--ruche")?.parse()?,
        pid: arg(&args, "--pid")?.parse()?,
        logins: arg(&args, "--logins").ok().map(|n| n.parse()).transpose()?.unwrap_or(1000),
        addresses: arg(&args, "--addresses").ok().map(|n| n.parse()).transpose()?.unwrap_or(16),
        unknown_accounts: args.iter().any(|a| a == "--unknown-accounts"),
    };
    let label = arg(&args, "--label").unwrap_or_else(|_| "Ruche".into());
    if options.addresses == 0 || options.logins == 0 {
        return Err("--logins and --addresses must be at least 1".into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(options, &label))
}

struct Options {
    target: SocketAddr,
    pid: u32,
    logins: usize,
    addresses: usize,
    unknown_accounts: bool,
}

/// The i-th address of the benchmarking range 198.18.0.0/15.
fn client_address(i: usize) -> String {
    format!("198.{}.{}.{}", 18 + (i >> 16) % 2, (i >> 8) & 0xff, i & 0xff)
}

async fn run(options: Options, label: &str) -> Result<(), Error> {
    let target = options.target;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let email = format!("flood-{stamp}@example.org");
    // From an address outside the flood's, so that a limit on sign-ups cannot interfere.
    let signup = post_request(
        target,
        "/api/sign_up",
        &[("email", &email), ("display_name", "Flood"), ("password", PASSWORD)],
        &[("X-Forwarded-For", "198.19.255.254")],
    );
    let reply = exchange(connect(target, FLOOD_SOURCE).await?, &signup).await?;
    if !(200..400).contains(&reply.status) {
        return Err(format!("sign-up: {} {}", reply.status, reply.body).into());
    }

    let idle = probe_for(target, Probes::Count(IDLE_PROBES)).await;

    let peak_rss = Arc::new(AtomicU64::new(0));
    let rss_before = proc_status_kib(options.pid, "VmRSS");
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak_rss, sampling, pid) = (peak_rss.clone(), sampling.clone(), options.pid);
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak_rss.fetch_max(proc_status_kib(pid, "VmRSS"), Ordering::Relaxed);
                tokio::time::sleep(MEMORY_EVERY).await;
            }
        })
    };

    // Every request's connection is open before the first is sent, so that they all arrive at
    // once rather than as fast as this client can connect.
    let (go, ready) = watch::channel(false);
    let connected = Arc::new(AtomicUsize::new(0));
    let mut flood = Vec::with_capacity(options.logins);
    for i in 0..options.logins {
        let email = if options.unknown_accounts { format!("nobody-{stamp}-{i}@example.org") } else { email.clone() };
        let forwarded = client_address(i % options.addresses);
        let request = post_request(
            target,
            "/api/log_in",
            &[("email", &email), ("password", "not the password")],
            &[("X-Forwarded-For", &forwarded)],
        );
        let (mut ready, connected) = (ready.clone(), connected.clone());
        flood.push(tokio::spawn(async move {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, connect(target, FLOOD_SOURCE)).await;
            connected.fetch_add(1, Ordering::Relaxed);
            let stream = match stream {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return (format!("connect: {}", kind(&e)), Duration::ZERO),
                Err(_) => return ("connect: timed out".to_owned(), Duration::ZERO),
            };
            let _ = ready.wait_for(|go| *go).await;
            let sent = Instant::now();
            let outcome = match tokio::time::timeout(ANSWER_TIMEOUT, exchange(stream, &request)).await {
                Ok(Ok(reply)) => reply.status.to_string(),
                Ok(Err(e)) => format!("no answer: {}", kind(&e)),
                Err(_) => "no answer: timed out".to_owned(),
            };
            (outcome, sent.elapsed())
        }));
    }
    while connected.load(Ordering::Relaxed) < options.logins {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let flooding = Arc::new(AtomicBool::new(true));
    let probes = tokio::spawn(probe_for(target, Probes::While(flooding.clone())));
    let started = Instant::now();
    go.send(true)?;
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    let mut login_times = Vec::with_capacity(options.logins);
    for task in flood {
        let (outcome, took) = task.await?;
        *answers.entry(outcome).or_default() += 1;
        login_times.push(took.as_nanos() as u64);
    }
    let total = started.elapsed();
    flooding.store(false, Ordering::Relaxed);
    let during = probes.await?;
    sampling.store(false, Ordering::Relaxed);
    sampler.await?;
    let hwm = proc_status_kib(options.pid, "VmHWM");
    login_times.sort_unstable();

    let from = match options.addresses {
        1 => "all from one client address".to_owned(),
        n if n >= options.logins => "each from a client address of its own".to_owned(),
        n => format!("from {n} client addresses"),
    };
    let to =
        if options.unknown_accounts { "each for an e-mail of its own without an account" } else { "for one account" };
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!("\n## {label}: {} concurrent wrong log-ins, {from}, {to}", options.logins);
    println!("| figure | value |");
    println!("|---|---|");
    println!("| server memory before | {:.1} MiB |", mib(rss_before));
    println!(
        "| server memory peak: VmRSS sampled every 5 ms / VmHWM | {:.1} MiB / {:.1} MiB |",
        mib(peak_rss.load(Ordering::Relaxed)),
        mib(hwm)
    );
    println!("| `GET /` idle, {} requests: p50 / p99 / max | {} |", idle.times.len(), idle.summary());
    println!("| `GET /` during the flood, {} requests: p50 / p99 / max | {} |", during.times.len(), during.summary());
    println!("| `GET /` answers during the flood | {} |", counts(&during.statuses));
    println!("| log-in answers | {} |", counts(&answers));
    println!(
        "| log-in answer time: p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        ms(percentile(&login_times, 50.0)),
        ms(percentile(&login_times, 99.0)),
        ms(*login_times.last().unwrap_or(&0))
    );
    println!("| total time, first request sent to last answer | {:.2} s |", total.as_secs_f64());
    Ok(())
}

fn kind(e: &Error) -> String {
    match e.downcast_ref::<std::io::Error>() {
        Some(io) => format!("{:?}", io.kind()),
        None => e.to_string(),
    }
}

fn counts(map: &BTreeMap<String, usize>) -> String {
    map.iter().map(|(what, n)| format!("{what}: {n}")).collect::<Vec<_>>().join(", ")
}

enum Probes {
    Count(usize),
    While(Arc<AtomicBool>),
}

struct Probed {
    times: Vec<u64>,
    statuses: BTreeMap<String, usize>,
}

impl Probed {
    fn summary(&self) -> String {
        format!(
            "{:.1} / {:.1} / {:.1} ms",
            ms(percentile(&self.times, 50.0)),
            ms(percentile(&self.times, 99.0)),
            ms(*self.times.last().unwrap_or(&0))
        )
    }
}

/// `GET /` every 10 ms, each on a connection of its own and without waiting for the previous
/// one: a stalled server shows as many slow answers, not as one.
async fn probe_for(target: SocketAddr, probes: Probes) -> Probed {
    let results = Arc::new(Mutex::new(Probed { times: Vec::new(), statuses: BTreeMap::new() }));
    let mut tasks = Vec::new();
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let more = match &probes {
            Probes::Count(n) => tasks.len() < *n,
            Probes::While(going) => going.load(Ordering::Relaxed),
        };
        if !more {
            break;
        }
        tick.tick().await;
        let results = results.clone();
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let outcome = match connect(target, PROBE_SOURCE).await {
                Ok(stream) => {
                    match tokio::time::timeout(ANSWER_TIMEOUT, exchange(stream, &get_request(target, "/", &[]))).await {
                        Ok(Ok(reply)) => reply.status.to_string(),
                        Ok(Err(e)) => format!("no answer: {}", kind(&e)),
                        Err(_) => "no answer: timed out".to_owned(),
                    }
                }
                Err(e) => format!("connect: {}", kind(&e)),
            };
            let took = sent.elapsed().as_nanos() as u64;
            let mut results = results.lock().unwrap();
            results.times.push(took);
            *results.statuses.entry(outcome).or_default() += 1;
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let mut probed =
        std::mem::replace(&mut *results.lock().unwrap(), Probed { times: Vec::new(), statuses: BTreeMap::new() });
    probed.times.sort_unstable();
    probed
}
