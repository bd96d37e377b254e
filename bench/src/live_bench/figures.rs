//! What a run's measurements add up to: the joins' rate, latencies, CPU time and memory, each
//! kind of event's deliveries, and the paced wave's, as `run` prints them beside the baseline's.
use crate::client::Socket;
use crate::waves::{join_at_rate, Joined, Measured};
use bench::{cpu_seconds, ms, percentile, rss_kib, Error};
use std::time::{Duration, Instant};

/// What one kind of event measured: every delivery, the first and the last participant of each
/// round, and when the event's request was answered.
#[derive(Default)]
pub(crate) struct EventFigures {
    deliveries: Vec<u64>,
    /// What a server does before its fan-out starts (the event's request, and on Ruche its
    /// commit and the state it makes), beside the fan-out itself.
    first: Vec<u64>,
    last: Vec<u64>,
    answered: Vec<u64>,
    /// Server CPU seconds over every round, and the messages delivered in them.
    cpu: f64,
    messages: usize,
    pub(crate) size: usize,
}

impl EventFigures {
    pub(crate) fn add(&mut self, (mut latencies, answered, cpu): Measured, size: usize) {
        self.answered.push(answered);
        self.cpu += cpu;
        self.messages += latencies.len();
        latencies.sort_unstable();
        self.first.push(*latencies.first().unwrap_or(&0));
        self.last.push(*latencies.last().unwrap_or(&0));
        self.deliveries.extend(latencies);
        self.size = size;
    }

    pub(crate) fn summary(&mut self) -> [f64; 7] {
        self.deliveries.sort_unstable();
        self.first.sort_unstable();
        self.last.sort_unstable();
        self.answered.sort_unstable();
        [
            ms(percentile(&self.deliveries, 50.0)),
            ms(percentile(&self.deliveries, 95.0)),
            ms(percentile(&self.deliveries, 99.0)),
            ms(percentile(&self.first, 50.0)),
            ms(percentile(&self.last, 95.0)),
            ms(percentile(&self.answered, 50.0)),
            self.cpu * 1e6 / self.messages.max(1) as f64,
        ]
    }
}

pub(crate) struct RunFigures {
    pub(crate) joins_per_second: f64,
    pub(crate) join_p50: f64,
    pub(crate) join_p99: f64,
    pub(crate) code_request_p99: f64,
    pub(crate) socket_p99: f64,
    /// Server CPU time (user and system, every process) per join.
    pub(crate) cpu_per_join: f64,
    pub(crate) memory_per_participant: f64,
    pub(crate) events: Vec<(&'static str, EventFigures)>,
    /// A second wave of as many participants, arriving at the `--join-rate` (to a new session on
    /// Ruche): the rate reached, join latency p50 and p99 counted from each one's due time, and
    /// the cores the servers and the load generator kept busy meanwhile.
    pub(crate) paced: [f64; 5],
    /// The participant page (`page_figures`); none on the baseline.
    pub(crate) page: [f64; 4],
}

/// Ends a run: its connections close, and its figures are put together.
pub(crate) fn finish(
    joined: Joined,
    [joins_per_second, join_p50, join_p99, code_request_p99, socket_p99, cpu_per_join]: [f64; 6],
    memory_kib: u64,
    events: Vec<(&'static str, EventFigures)>,
) -> RunFigures {
    for task in &joined.tasks {
        task.abort();
    }
    let memory_per_participant = memory_kib as f64 * 1024.0 / joined.arrivals.at.len() as f64;
    RunFigures {
        joins_per_second,
        join_p50,
        join_p99,
        code_request_p99,
        socket_p99,
        cpu_per_join,
        memory_per_participant,
        events,
        paced: [0.0; 5],
        page: [0.0; 4],
    }
}

/// Joins a second wave at `rate` once the first one's sockets are gone. The cores busy tell
/// whether the machine, shared with the load generator, had any to spare: a tail while they
/// fill every core is the machine's, not the server's alone (PostgreSQL's share is not counted).
pub(crate) async fn paced_figures<F, Fut>(n: usize, rate: f64, pids: &[u32], join: F) -> Result<[f64; 5], Error>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(Socket, u64), Error>> + Send + 'static,
{
    tokio::time::sleep(Duration::from_secs(3)).await;
    let me = [std::process::id()];
    let (servers_before, me_before, started) = (cpu_seconds(pids), cpu_seconds(&me), Instant::now());
    let (latencies, reached) = join_at_rate(n, rate, join).await?;
    let wall = started.elapsed().as_secs_f64();
    let cores = |before: f64, pids: &[u32]| (cpu_seconds(pids) - before) / wall;
    Ok([
        reached,
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        cores(servers_before, pids),
        cores(me_before, &me),
    ])
}

pub(crate) fn join_figures(joined: &mut Joined, n: usize, cpu: f64) -> [f64; 6] {
    for latencies in [&mut joined.latencies, &mut joined.code_requests, &mut joined.sockets] {
        latencies.sort_unstable();
    }
    [
        n as f64 / joined.elapsed.as_secs_f64(),
        ms(percentile(&joined.latencies, 50.0)),
        ms(percentile(&joined.latencies, 99.0)),
        ms(percentile(&joined.code_requests, 99.0)),
        ms(percentile(&joined.sockets, 99.0)),
        cpu * 1e6 / n as f64,
    ]
}

pub(crate) async fn settle_memory(pids: &[u32]) -> u64 {
    tokio::time::sleep(Duration::from_secs(2)).await;
    pids.iter().map(|p| rss_kib(*p)).sum()
}
