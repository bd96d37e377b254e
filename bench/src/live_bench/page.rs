//! The participant page, loaded apart from the joins: a phone loads it between the code and the
//! socket, but the raw baseline has nothing like it, so it is measured on its own and its
//! figures are printed apart.
use crate::client::next_source;
use crate::waves::{Wave, JOIN_CONCURRENCY};
use bench::{connect, cpu_seconds, exchange, get_request, ms, percentile, Error};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Participants of the first wave who then load the participant page, each once (`--page-loads`).
pub(crate) const PAGE_LOADS: usize = 1000;

/// What a phone's browser accepts (Chrome's list): the page comes compressed, as phones get it.
const PHONE_ENCODINGS: &str = "gzip, deflate, br, zstd";

/// The participant page, loaded by each kept visitor (`JOIN_CONCURRENCY` at a time, each on a
/// connection of its own, as the bench's other requests), its session open and showing a slide.
/// A phone loads it between the code and the socket; the joins (`waves.rs`) leave it out, as the
/// raw baseline has nothing like it. Returns pages a second, latency p50 and p99, and the
/// servers' CPU time per page.
pub(crate) async fn page_figures(wave: &Wave, pids: &[u32]) -> Result<[f64; 4], Error> {
    let cookies: Vec<String> = std::mem::take(&mut *wave.cookies.lock().unwrap_or_else(|p| p.into_inner()));
    let n = cookies.len();
    let path = format!("/p/{}", wave.session);
    // Once uncompressed, untimed: the participant's own view (its nickname form), not a refusal.
    if let Some(cookie) = cookies.first() {
        let request = get_request(wave.targets[0], &path, &[("Cookie", cookie)]);
        let reply = exchange(connect(wave.targets[0], next_source()).await?, &request).await?;
        if reply.status != 200 || !reply.body.contains("Save nickname") {
            return Err(format!(
                "participant page: {} {}",
                reply.status,
                reply.body.chars().take(300).collect::<String>()
            )
            .into());
        }
    }
    let requests: Arc<[(SocketAddr, String)]> = cookies
        .iter()
        .enumerate()
        .map(|(i, cookie)| {
            let target = wave.targets[i % wave.targets.len()];
            (target, get_request(target, &path, &[("Cookie", cookie), ("Accept-Encoding", PHONE_ENCODINGS)]))
        })
        .collect();
    let next = Arc::new(AtomicUsize::new(0));
    let (cpu_before, started) = (cpu_seconds(pids), Instant::now());
    let mut workers = Vec::new();
    for _ in 0..JOIN_CONCURRENCY.min(n) {
        let (requests, next) = (requests.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((target, request)) = requests.get(i) else { return Ok::<_, Error>(latencies) };
                let t0 = Instant::now();
                let reply = exchange(connect(*target, next_source()).await?, request).await?;
                latencies.push(t0.elapsed().as_nanos() as u64);
                if reply.status != 200 || reply.body.is_empty() {
                    return Err(format!("participant page {i}: {}", reply.status).into());
                }
            }
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let (cpu, wall) = (cpu_seconds(pids) - cpu_before, started.elapsed().as_secs_f64());
    latencies.sort_unstable();
    Ok([
        n as f64 / wall,
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        cpu * 1e6 / n.max(1) as f64,
    ])
}
