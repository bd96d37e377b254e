//! `live-bench discussion`: the Discussion under load. N participants join one session; first
//! `--probes` posts go out one at a time, each timed until every phone has it, beside the bare
//! broadcast of a message of the same size; then `--posts` participants post within `--seconds`
//! while likes arrive at `--likes-per-second`: every answer is timed, a host's socket times each
//! post's arrival, and the like counts the host sees at the end are compared with the likes sent.
use crate::client::{http_post, http_post_kept, join_baseline, now_nanos, open_socket, Owner};
use crate::figures::{settle_memory, EventFigures};
use crate::waves::{join_all, measure, Wave};
use bench::{arg, cpu_seconds, ms, percentile, Error, KeptAlive, Reply};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Requests in flight at most while posts and likes are fired.
const IN_FLIGHT: usize = 512;

struct Options {
    targets: Vec<SocketAddr>,
    pids: Vec<u32>,
    baseline: SocketAddr,
    baseline_pid: u32,
    participants: usize,
    probes: usize,
    posts: usize,
    seconds: f64,
    likes_per_second: f64,
    /// Messages the session holds when memory is measured.
    messages: usize,
    /// How posts and likes reach the servers.
    calls: Calls,
}

/// How posts and likes reach the servers (`--connections`): `kept`, on connections kept alive
/// and reused as a phone's browser does (or a proxy's upstream pool), or `fresh`, a new connection
/// each, as behind a proxy that opens one per request.
#[derive(Clone)]
struct Calls(Option<Arc<HashMap<SocketAddr, KeptAlive>>>);

impl Calls {
    fn new(how: &str, targets: &[SocketAddr]) -> Result<Self, Error> {
        match how {
            "kept" => Ok(Self::kept(targets)),
            "fresh" => Ok(Self(None)),
            other => Err(format!("--connections {other}: kept or fresh").into()),
        }
    }

    /// Another pool of the same kind, for requests made on other threads (`devices`).
    fn apart(&self, targets: &[SocketAddr]) -> Self {
        match self.0 {
            Some(_) => Self::kept(targets),
            None => Self(None),
        }
    }

    /// A pool of kept-alive connections to each server.
    fn kept(targets: &[SocketAddr]) -> Self {
        Self(Some(Arc::new(targets.iter().map(|t| (*t, KeptAlive::new(*t))).collect())))
    }

    fn name(&self) -> &'static str {
        if self.0.is_some() {
            "kept alive"
        } else {
            "a new one per request"
        }
    }

    async fn call(&self, target: SocketAddr, path: &str, form: &[(&str, &str)], cookie: &str) -> Result<Reply, Error> {
        match self.0.as_ref().and_then(|kept| kept.get(&target)) {
            Some(kept) => http_post_kept(kept, path, form, Some(cookie)).await,
            None => http_post(target, path, form, Some(cookie)).await,
        }
    }
}

/// What the host's socket saw: when each post (by its text) arrived, and the latest like counts.
#[derive(Default)]
struct HostSeen {
    arrived: HashMap<String, u64>,
    likes: HashMap<String, u64>,
}

pub(crate) async fn run(args: &[String]) -> Result<(), Error> {
    let number = |name: &str, default: f64| -> Result<f64, Error> {
        Ok(arg(args, name).ok().map(|v| v.parse()).transpose()?.unwrap_or(default))
    };
    let targets: Vec<SocketAddr> = bench::list(&arg(args, "--ruche")?)?;
    let calls = Calls::new(&arg(args, "--connections").unwrap_or_else(|_| "kept".into()), &targets)?;
    let o = Options {
        calls,
        targets,
        pids: bench::list(&arg(args, "--ruche-pids")?)?,
        baseline: arg(args, "--baseline")?.parse()?,
        baseline_pid: arg(args, "--baseline-pid")?.parse()?,
        participants: number("--participants", 10_000.0)? as usize,
        probes: number("--probes", 10.0)? as usize,
        posts: number("--posts", 1_000.0)? as usize,
        seconds: number("--seconds", 10.0)?,
        likes_per_second: number("--likes-per-second", 5_000.0)?,
        messages: number("--messages", 10_000.0)? as usize,
    };
    let n = o.participants;
    let label = arg(args, "--label").unwrap_or_else(|_| format!("{} instance(s)", o.targets.len()));
    println!("\n## {label}: the Discussion with {n} participants (connections: {})", o.calls.name());

    let owner = Owner::sign_up(o.targets[0]).await?;
    let session = owner.create_session("Discussion benchmark").await?;
    let wave = Wave::new(&o.targets, owner.code(&session).await?, &session, n);
    let memory_before = settle_memory(&o.pids).await;
    let joined = join_all(n, {
        let wave = wave.clone();
        move |i| wave.join(i)
    })
    .await?;
    let cookies: Vec<String> = wave.cookies.lock().unwrap_or_else(|p| p.into_inner()).clone();

    // The host's laptop and the phones that post and like are other devices than the thousands
    // that follow: the host's socket and the posts and likes run on threads of their own here.
    // On the followers' threads, a post's answer waited unread behind the thousands of sockets
    // each flush makes readable at once, and that wait was timed as the server's.
    let devices =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("devices").enable_all().build()?;
    let seen = Arc::new(Mutex::new(HostSeen::default()));
    let (target, path, cookie) = (o.targets[0], format!("/live/s/{session}"), owner.cookie().to_owned());
    let mut host = devices.spawn(async move { open_socket(target, &path, Some(&cookie)).await }).await??;
    let host_reader = devices.spawn({
        let seen = seen.clone();
        async move {
            while let Some(Ok(message)) = host.next().await {
                if let Message::Text(text) = message {
                    host_saw(&seen, &text, now_nanos());
                }
            }
        }
    });

    // Probes: one post at a time, timed until every phone has it.
    let mut probe = EventFigures::default();
    let mut probe_ids = Vec::new();
    let mut probe_texts = Vec::new();
    for k in 0..o.probes {
        let text = format!("Probe {k}: {}", "a question of typical length, ".repeat(4));
        let (target, cookie) = (o.targets[k % o.targets.len()], cookies[k % cookies.len()].clone());
        let id = Arc::new(Mutex::new(String::new()));
        let latencies = measure(&joined, &o.pids, {
            let (text, id, session, calls) = (text.clone(), id.clone(), session.clone(), o.calls.clone());
            async move {
                *id.lock().unwrap_or_else(|p| p.into_inner()) = post(&calls, target, &session, &cookie, &text).await?.1;
                Ok(())
            }
        })
        .await?;
        probe.add(latencies, joined.arrivals.last_len.load(std::sync::atomic::Ordering::Relaxed));
        probe_ids.push(id.lock().unwrap_or_else(|p| p.into_inner()).clone());
        probe_texts.push(text);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let memory_after = settle_memory(&o.pids).await;

    // Load: posts spread over the seconds given, likes at their rate on the probes' messages, each
    // (participant, message) pair once, so that every like counts.
    let likes_total = (o.likes_per_second * o.seconds) as usize;
    let likes_total = likes_total.min(n * probe_ids.len().max(1));
    let gate = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let me = [std::process::id()];
    let (servers_before, me_before) = (cpu_seconds(&o.pids), cpu_seconds(&me));
    let started = tokio::time::Instant::now();
    let calls = o.calls.apart(&o.targets);
    let mut posts = Vec::new();
    let sent_at = Arc::new(Mutex::new(HashMap::<String, u64>::new()));
    for p in 0..o.posts.min(n) {
        let due = started + Duration::from_secs_f64(p as f64 * o.seconds / o.posts.max(1) as f64);
        let i = (o.probes + p) % n;
        let (target, cookie, gate, sent_at) =
            (o.targets[i % o.targets.len()], cookies[i].clone(), gate.clone(), sent_at.clone());
        let (session, calls) = (session.clone(), calls.clone());
        posts.push(devices.spawn(async move {
            tokio::time::sleep_until(due).await;
            let _slot = gate.acquire_owned().await?;
            let text = format!("Post {p} from participant {i}");
            sent_at.lock().unwrap_or_else(|e| e.into_inner()).insert(text.clone(), now_nanos());
            let t0 = now_nanos();
            post(&calls, target, &session, &cookie, &text).await?;
            Ok::<_, Error>(now_nanos() - t0)
        }));
    }
    let mut likes = Vec::new();
    if !probe_ids.is_empty() {
        for k in 0..likes_total {
            let due = started + Duration::from_secs_f64(k as f64 / o.likes_per_second);
            let i = k % n;
            let message = probe_ids[(k / n) % probe_ids.len()].clone();
            let (target, cookie, gate) = (o.targets[i % o.targets.len()], cookies[i].clone(), gate.clone());
            let (session, calls) = (session.clone(), calls.clone());
            likes.push(devices.spawn(async move {
                tokio::time::sleep_until(due).await;
                let _slot = gate.acquire_owned().await?;
                let t0 = now_nanos();
                let form = [("id", session.as_str()), ("message", &message), ("like", "true")];
                let reply = calls.call(target, "/api/like_message", &form, &cookie).await?;
                if reply.status != 200 {
                    return Err(format!("like: {} {}", reply.status, reply.body).into());
                }
                Ok::<_, Error>(now_nanos() - t0)
            }));
        }
    }
    let mut post_answers = Vec::new();
    for p in posts {
        post_answers.push(p.await??);
    }
    let mut like_answers = Vec::new();
    for l in likes {
        like_answers.push(l.await??);
    }
    let load_seconds = started.elapsed().as_secs_f64();
    // The cores busy meanwhile: when the servers and the load generator fill the machine between
    // them, the answers' tail is the shared machine's (PostgreSQL's share is not counted).
    let servers_cores = (cpu_seconds(&o.pids) - servers_before) / load_seconds;
    let me_cores = (cpu_seconds(&me) - me_before) / load_seconds;
    // The last like counts go out within 250 ms; the host socket has them well within a second.
    tokio::time::sleep(Duration::from_secs(2)).await;
    host_reader.abort();
    devices.shutdown_background();
    let (mut host_latencies, host_missing, counted) = {
        let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        let sent_at = sent_at.lock().unwrap_or_else(|p| p.into_inner());
        let latencies: Vec<u64> =
            sent_at.iter().filter_map(|(text, at)| seen.arrived.get(text).map(|got| got.saturating_sub(*at))).collect();
        let missing = sent_at.len() - latencies.len();
        let counted: u64 = probe_ids.iter().map(|id| seen.likes.get(id).copied().unwrap_or(0)).sum();
        (latencies, missing, counted)
    };
    post_answers.sort_unstable();
    like_answers.sort_unstable();
    host_latencies.sort_unstable();

    // The session filled up to `--messages` (but the 3 posts below), the phones still there:
    // memory then.
    let held = o.probes + post_answers.len();
    let mut fills = Vec::new();
    for k in 0..o.messages.saturating_sub(held + 3) {
        let i = k % n;
        let (target, cookie, gate) = (o.targets[i % o.targets.len()], cookies[i].clone(), gate.clone());
        let (session, calls) = (session.clone(), o.calls.clone());
        fills.push(tokio::spawn(async move {
            let _slot = gate.acquire_owned().await?;
            post(
                &calls,
                target,
                &session,
                &cookie,
                &format!("Filling, {k}: {}", "a comment of typical length, ".repeat(2)),
            )
            .await
        }));
    }
    for fill in fills {
        fill.await??;
    }
    let memory_full = settle_memory(&o.pids).await;

    // A phone that reconnects after missing a few posts, beside one that starts from a snapshot.
    let (first_snapshot, missed_bytes) = {
        let (target, cookie) = (o.targets[0], cookies[0].as_str());
        let mut phone = open_socket(target, &format!("/live/p/{session}"), Some(cookie)).await?;
        let (seq, snapshot_bytes) = loop {
            let Some(Ok(Message::Text(text))) = phone.next().await else { return Err("no snapshot".into()) };
            let value: serde_json::Value = serde_json::from_str(&text)?;
            if let Some(seq) = value["Discussion"]["Snapshot"]["seq"].as_u64() {
                break (seq, text.len());
            }
        };
        drop(phone);
        for k in 0..3 {
            post(&o.calls, o.targets[0], &session, &cookies[(k + 1) % n], &format!("Missed {k}")).await?;
        }
        let mut phone = open_socket(target, &format!("/live/p/{session}?since={seq}"), Some(cookie)).await?;
        let missed = loop {
            let Some(Ok(Message::Text(text))) = phone.next().await else { return Err("no catch-up".into()) };
            if text.contains(r#"{"Discussion":"#) {
                break text.len();
            }
        };
        (snapshot_bytes, missed)
    };
    // The phones go before the baseline opens as many sockets: their tasks hold them.
    for task in &joined.tasks {
        task.abort();
    }
    drop(joined);

    // The bare broadcast of a message as large as a post's event, to the same number of phones.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let size = probe.size;
    let raw_joined = join_all(n, move |_| join_baseline(o.baseline)).await?;
    let mut raw = EventFigures::default();
    for _ in 0..o.probes {
        let latencies = measure(&raw_joined, &[o.baseline_pid], async move {
            let reply = http_post(o.baseline, &format!("/fire?size={size}"), &[], None).await?;
            if reply.status != 200 {
                return Err(format!("fire: {}", reply.status).into());
            }
            Ok(())
        })
        .await?;
        raw.add(latencies, size);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for task in &raw_joined.tasks {
        task.abort();
    }

    let (p, r) = (probe.summary(), raw.summary());
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    println!("| figure | Ruche | raw broadcast | Ruche / raw |");
    println!("|---|---|---|---|");
    for (i, what) in ["delivery p50", "delivery p95", "delivery p99", "last phone reached, p95 over posts"]
        .iter()
        .enumerate()
        .map(|(i, w)| (if i == 3 { 4 } else { i }, w))
    {
        println!(
            "| a post ({size} B) published at once, {n} phones: {what} | {:.1} ms | {:.1} ms | {:.2} |",
            p[i],
            r[i],
            ratio(p[i], r[i])
        );
    }
    let rate = |count: usize| count as f64 / load_seconds;
    println!("| {} posts and {} likes in {load_seconds:.1} s ({:.0} posts/s, {:.0} likes/s): post answered p50 / p99 | {:.1} / {:.1} ms | – | – |",
        post_answers.len(), like_answers.len(), rate(post_answers.len()), rate(like_answers.len()),
        ms(percentile(&post_answers, 50.0)), ms(percentile(&post_answers, 99.0)));
    println!(
        "| cores busy meanwhile, of {}: servers / load generator | {servers_cores:.2} / {me_cores:.2} | – | – |",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| like answered p50 / p99 | {:.1} / {:.1} ms | – | – |",
        ms(percentile(&like_answers, 50.0)),
        ms(percentile(&like_answers, 99.0))
    );
    println!(
        "| a post on a host's socket, p50 / p95 (missing: {host_missing}) | {:.1} / {:.1} ms | – | – |",
        ms(percentile(&host_latencies, 50.0)),
        ms(percentile(&host_latencies, 95.0))
    );
    println!("| likes sent / counted on the host's socket | {} / {counted} | – | – |", like_answers.len());
    let per_participant = |after: u64| after.saturating_sub(memory_before) as f64 * 1024.0 / n as f64 / 1000.0;
    println!(
        "| server memory per participant (with {held} messages) | {:.1} KB | – | – |",
        per_participant(memory_after)
    );
    println!(
        "| server memory per participant (with {} messages) | {:.1} KB | – | – |",
        o.messages.max(held),
        per_participant(memory_full)
    );
    println!(
        "| a phone reconnecting after missing 3 posts: one message of | {missed_bytes} B (a snapshot: {first_snapshot} B) | – | – |"
    );
    Ok(())
}

/// Posts `text` as the participant of `cookie`; the answer's time and the message's id.
async fn post(
    calls: &Calls,
    target: SocketAddr,
    session: &str,
    cookie: &str,
    text: &str,
) -> Result<(u64, String), Error> {
    let t0 = now_nanos();
    let reply = calls
        .call(target, "/api/post_message", &[("id", session), ("text", text), ("nickname", "Bench")], cookie)
        .await?;
    if reply.status != 200 {
        return Err(format!("post: {} {}", reply.status, reply.body).into());
    }
    let answer: serde_json::Value = serde_json::from_str(&reply.body)?;
    Ok((now_nanos() - t0, answer["id"].as_str().ok_or("no message id")?.to_owned()))
}

/// Records what a host's socket received: a post's arrival, and like counts.
fn host_saw(seen: &Mutex<HostSeen>, text: &str, at: u64) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    let event = &value["Discussion"]["Event"]["event"];
    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(body) = event["Message"]["body"].as_str() {
        seen.arrived.entry(body.to_owned()).or_insert(at);
    }
    if let Some(counts) = event["Likes"].as_array() {
        for pair in counts {
            if let (Some(id), Some(likes)) = (pair[0].as_str(), pair[1].as_u64()) {
                seen.likes.insert(id.to_owned(), likes);
            }
        }
    }
}
