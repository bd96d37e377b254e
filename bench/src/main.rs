//! Load generator for Ruche's live channel (`scripts/bench-live.sh` runs it; it prints figures
//! and asserts nothing).
//!
//! `live-bench run`: N participants join one session over the real protocol (the code, through
//! the home page banner's `/join?code=…`, then the participant WebSocket), spread over one or more
//! Ruche instances; then the owner closes, opens and gives the session a new code, round after
//! round, and every participant's arrival time is recorded. The same N connections and the same
//! message sizes then go through a bare tokio broadcast server (`live-bench baseline`: each event
//! serialized once and its bytes shared through a `tokio::sync::broadcast`, over the same
//! WebSocket stack; the physical limit of this machine), and Ruche's figures are printed beside it.
//!
//! Joins are measured twice on each server. The first wave joins as fast as it can,
//! `JOIN_CONCURRENCY` at a time: the rate it reaches is the server's capacity. A second wave of as
//! many (to a new session, the first wave's sockets closed) arrives at a fixed rate, `--join-rate`
//! (default 5,000 a second), as a room does: its latencies are the server's at that rate.
//!
//! A phone loads the participant page between the code and the socket. The joins leave it out
//! (the baseline has nothing like it); the first `--page-loads` participants of the first wave
//! load it afterwards, each once, and its figures are printed apart.
//!
//! Sockets are spread over source addresses 127.0.0.1–127.0.0.64: one source address runs out of
//! ephemeral ports (and slows to a crawl searching for them) past about 14,000 connections, and
//! Ruche holds one client address to 3,000 connections and 2,000 new participants (the README's
//! Limits), so that two waves of 19,500 from fewer addresses would be refused as an attack.
//!
//! The parts are in `bench/src/live_bench/`, one file per job: `baseline.rs` the raw broadcast
//! server; `client.rs` the client side of Ruche's protocol (source addresses, the owner's calls,
//! a participant's join, arrival times); `waves.rs` the waves of joins and the events measured on
//! them; `page.rs` the participant page's loads; `figures.rs` what a run's measurements add up to.
//! This file keeps the command line and the order of a run.

// In a folder of their own, these modules do not read as parts of the library both binaries share
// (`lib.rs`) nor of the other binary (`login_flood.rs`).
#[path = "live_bench/baseline.rs"]
mod baseline;
#[path = "live_bench/client.rs"]
mod client;
#[path = "live_bench/discussion.rs"]
mod discussion;
#[path = "live_bench/figures.rs"]
mod figures;
#[path = "live_bench/page.rs"]
mod page;
#[path = "live_bench/waves.rs"]
mod waves;

use baseline::serve_baseline;
use bench::{arg, cpu_seconds, list, Error};
use client::{http_post, join_baseline, Owner};
use figures::{finish, join_figures, paced_figures, settle_memory, EventFigures, RunFigures};
use page::{page_figures, PAGE_LOADS};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;
use waves::{join_all, measure, Wave};

// The load generator shares the cores with the servers it measures: with glibc's allocator it took
// more of them (see the README's Architecture), and the raw baseline runs on the same allocator as Ruche.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EVENT_PAUSE: Duration = Duration::from_millis(500);

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match args.first().map(String::as_str) {
        Some("baseline") => runtime.block_on(serve_baseline(arg(&args, "--addr")?.parse()?)),
        Some("run") => runtime.block_on(run(&args)),
        Some("discussion") => runtime.block_on(discussion::run(&args)),
        _ => Err("usage: live-bench baseline --addr A | live-bench run --ruche A[,B] --ruche-pids P[,Q] --baseline A --baseline-pid P --participants N[,N…] [--rounds R] [--join-rate J] [--page-loads L] | live-bench discussion --ruche A[,B] --ruche-pids P[,Q] --baseline A --baseline-pid P [--participants N] [--probes K] [--posts M] [--seconds S] [--likes-per-second L]".into()),
    }
}

async fn run_ruche(
    targets: &[SocketAddr],
    pids: &[u32],
    n: usize,
    rounds: usize,
    join_rate: f64,
    page_loads: usize,
) -> Result<RunFigures, Error> {
    let owner = Owner::sign_up(targets[0]).await?;
    let session = owner.create_session("Benchmark").await?;
    let slide = owner
        .call("add_slide", &[("id", &session), ("kind", "LinkAndQr")])
        .await?
        .as_str()
        .ok_or("no slide id")?
        .to_owned();
    owner.call("show_slide", &[("id", &session), ("slide", &slide)]).await?;
    let wave = Wave::new(targets, owner.code(&session).await?, &session, page_loads);

    let memory_before = settle_memory(pids).await;
    let cpu_before = cpu_seconds(pids);
    let mut joined = join_all(n, {
        let wave = wave.clone();
        move |i| wave.join(i)
    })
    .await?;
    let cpu = cpu_seconds(pids) - cpu_before;
    let joins = join_figures(&mut joined, n, cpu);
    let memory_after = settle_memory(pids).await;

    let mut events = vec![
        ("close", EventFigures::default()),
        ("open", EventFigures::default()),
        ("new code", EventFigures::default()),
    ];
    for _ in 0..rounds {
        for (kind, figures) in events.iter_mut() {
            let latencies = match *kind {
                "close" => {
                    measure(&joined, pids, async {
                        owner.call("set_session_open", &[("id", &session), ("open", "false")]).await.map(drop)
                    })
                    .await?
                }
                "open" => {
                    measure(&joined, pids, async {
                        owner.call("set_session_open", &[("id", &session), ("open", "true")]).await.map(drop)
                    })
                    .await?
                }
                _ => {
                    measure(&joined, pids, async {
                        owner.call("generate_new_code", &[("id", &session)]).await.map(drop)
                    })
                    .await?
                }
            };
            figures.add(latencies, joined.arrivals.last_len.load(Ordering::Relaxed));
            tokio::time::sleep(EVENT_PAUSE).await;
        }
    }
    let page = page_figures(&wave, pids).await?;
    let mut figures = finish(joined, joins, memory_after.saturating_sub(memory_before), events);
    figures.page = page;

    // The second wave goes to a session of its own, which it fills from empty as the first did.
    let session = owner.create_session("Benchmark, paced").await?;
    let wave = Wave::new(targets, owner.code(&session).await?, &session, 0);
    figures.paced = paced_figures(n, join_rate, pids, move |i| wave.join(i)).await?;
    Ok(figures)
}

async fn run_baseline(
    target: SocketAddr,
    pid: u32,
    n: usize,
    rounds: usize,
    sizes: &[usize],
    join_rate: f64,
) -> Result<RunFigures, Error> {
    let memory_before = settle_memory(&[pid]).await;
    let cpu_before = cpu_seconds(&[pid]);
    let mut joined = join_all(n, move |_| join_baseline(target)).await?;
    let joins = join_figures(&mut joined, n, cpu_seconds(&[pid]) - cpu_before);
    let memory_after = settle_memory(&[pid]).await;
    let mut events: Vec<(&'static str, EventFigures)> = vec![
        ("close", EventFigures::default()),
        ("open", EventFigures::default()),
        ("new code", EventFigures::default()),
    ];
    for _ in 0..rounds {
        for (i, (_, figures)) in events.iter_mut().enumerate() {
            let size = sizes[i];
            let latencies = measure(&joined, &[pid], async move {
                let reply = http_post(target, &format!("/fire?size={size}"), &[], None).await?;
                if reply.status != 200 {
                    return Err(format!("fire: {}", reply.status).into());
                }
                Ok(())
            })
            .await?;
            figures.add(latencies, size);
            tokio::time::sleep(EVENT_PAUSE).await;
        }
    }
    let mut figures = finish(joined, joins, memory_after.saturating_sub(memory_before), events);
    figures.paced = paced_figures(n, join_rate, &[pid], move |_| join_baseline(target)).await?;
    Ok(figures)
}

async fn run(args: &[String]) -> Result<(), Error> {
    let targets: Vec<SocketAddr> = list(&arg(args, "--ruche")?)?;
    let pids: Vec<u32> = list(&arg(args, "--ruche-pids")?)?;
    let baseline: SocketAddr = arg(args, "--baseline")?.parse()?;
    let baseline_pid: u32 = arg(args, "--baseline-pid")?.parse()?;
    let sizes: Vec<usize> = list(&arg(args, "--participants")?)?;
    let rounds: usize = arg(args, "--rounds").ok().map(|r| r.parse()).transpose()?.unwrap_or(10);
    let join_rate: f64 = arg(args, "--join-rate").ok().map(|r| r.parse()).transpose()?.unwrap_or(5000.0);
    let page_loads: usize = arg(args, "--page-loads").ok().map(|r| r.parse()).transpose()?.unwrap_or(PAGE_LOADS);
    let label = arg(args, "--label").unwrap_or_else(|_| format!("{} instance(s)", targets.len()));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());

    for n in sizes {
        println!("\n## {label}: {n} participants in one session, {rounds} rounds of each event");
        let page_loads = page_loads.min(n);
        let mut ruche = run_ruche(&targets, &pids, n, rounds, join_rate, page_loads).await?;
        // Let the closed sockets go before the baseline opens as many.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let message_sizes: Vec<usize> = ruche.events.iter().map(|(_, f)| f.size).collect();
        let mut raw = run_baseline(baseline, baseline_pid, n, rounds, &message_sizes, join_rate).await?;
        tokio::time::sleep(Duration::from_secs(3)).await;

        println!("| figure | Ruche | raw broadcast | Ruche / raw |");
        println!("|---|---|---|---|");
        let ratio = |r: f64, b: f64| if b > 0.0 { r / b } else { f64::NAN };
        let row = |name: &str, r: f64, b: f64, unit: &str| {
            println!("| {name} | {r:.1} {unit} | {b:.1} {unit} | {:.2} |", ratio(r, b));
        };
        row("joins per second", ruche.joins_per_second, raw.joins_per_second, "/s");
        row("join latency p50", ruche.join_p50, raw.join_p50, "ms");
        row("join latency p99", ruche.join_p99, raw.join_p99, "ms");
        row("join: the code's request alone, p99", ruche.code_request_p99, raw.code_request_p99, "ms");
        row("join: the socket alone, p99", ruche.socket_p99, raw.socket_p99, "ms");
        row("server CPU time per join", ruche.cpu_per_join, raw.cpu_per_join, "µs");
        row(&format!("joins arriving at {join_rate} a second: rate reached"), ruche.paced[0], raw.paced[0], "/s");
        row(&format!("joins arriving at {join_rate} a second: latency p50"), ruche.paced[1], raw.paced[1], "ms");
        row(&format!("joins arriving at {join_rate} a second: latency p99"), ruche.paced[2], raw.paced[2], "ms");
        for (what, i) in [("server", 3), ("load generator", 4)] {
            let (r, b) = (ruche.paced[i], raw.paced[i]);
            println!("| joins arriving at {join_rate} a second: cores busy, {what} | {r:.2} of {cores} | {b:.2} of {cores} | {:.2} |", ratio(r, b));
        }
        if page_loads > 0 {
            let [pages, page_p50, page_p99, cpu_per_page] = ruche.page;
            println!("| the participant page, {page_loads} loads: pages a second, latency p50 / p99 | {pages:.1} /s, {page_p50:.1} / {page_p99:.1} ms | – | – |");
            println!("| the participant page: server CPU time per page (a phone's join: the code, this page, the socket) | {cpu_per_page:.1} µs | – | – |");
        }
        row(
            "server memory per participant",
            ruche.memory_per_participant / 1000.0,
            raw.memory_per_participant / 1000.0,
            "KB",
        );
        for ((kind, r), (_, b)) in ruche.events.iter_mut().zip(raw.events.iter_mut()) {
            let size = r.size;
            let (rs, bs) = (r.summary(), b.summary());
            let figures = [
                "delivery p50",
                "delivery p95",
                "delivery p99",
                "first participant reached, p50 over rounds",
                "last participant reached, p95 over rounds",
                "its request answered, p50",
            ];
            for (i, what) in figures.iter().enumerate() {
                row(&format!("{kind} ({size} B): {what}"), rs[i], bs[i], "ms");
            }
            row(&format!("{kind} ({size} B): server CPU time per message delivered"), rs[6], bs[6], "µs");
        }
    }
    Ok(())
}
