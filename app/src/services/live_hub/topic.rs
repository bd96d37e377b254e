//! One session's live state in this instance: its latest host and participant states, the
//! count of its participants here and elsewhere, the participants' sockets a new state (or a
//! Discussion event) is written to, and its Discussion log.
use super::discussion::{DiscussionLog, EventFrame};
use crate::ids::UserId;
use crate::live_protocol::HostMessage;
use crate::states::PublicView;
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use uuid::Uuid;

/// Hosts hear of the participant count at most this often per session, however fast people
/// come and go.
pub const PRESENCE_INTERVAL: Duration = Duration::from_millis(250);
/// Each instance re-announces its counts this often; a count not heard of for
/// `REMOTE_PRESENCE_TTL` is dropped, as its instance has stopped.
pub const PRESENCE_REFRESH: Duration = Duration::from_secs(5);
const REMOTE_PRESENCE_TTL: Duration = Duration::from_secs(16);

/// Participants' sockets written by one task when a new state goes out. A task waking per socket
/// (as hosts' sockets do) cost the fan-out a schedule, a poll and a waiter list per message.
pub(super) const FAN_OUT_CHUNK: usize = 256;

/// Where fan-outs run: threads of their own, as many as the cores. On the server's own threads,
/// a request arriving during a fan-out (a post, a like, a join) waited behind every chunk queued
/// before it; apart, the kernel shares the cores between both, and wakes a thread with a
/// request to answer at once.
fn fan_out_runtime() -> &'static tokio::runtime::Handle {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
                .thread_name("ruche-fan-out")
                .build()
                .expect("the fan-out threads start")
        })
        .handle()
}

/// A message as sent: serialized once, its bytes shared by every socket.
#[derive(Clone, Debug)]
pub struct Frame {
    pub stamp: i64,
    pub text: Utf8Bytes,
    /// The session is gone: sockets send this frame, then close.
    pub last: bool,
}

#[derive(Debug)]
pub struct HostFrame {
    pub frame: Frame,
    /// Who may hold the host view now; a socket of anyone else is closed on receiving this.
    pub hosts: Vec<UserId>,
}

#[derive(Debug)]
pub struct PublicFrame {
    pub frame: Frame,
    pub(super) view: PublicView,
}

/// A participant's socket as the hub writes to it (`server/src/live_sockets.rs` makes them).
pub trait Outlet: Send + Sync + 'static {
    /// A new public state. Must return at once: a socket that cannot take it now leaves it to its
    /// own task, which sends the newest state there is. States may be offered out of order
    /// (two changes in a row), so the outlet keeps the newest stamp it sent.
    fn offer(&self, frame: &Frame);
    /// The participants' next Discussion event. Must return at once, as `offer`: a socket that
    /// cannot take it now, or missed the one before, has its own task send a snapshot.
    fn offer_event(&self, event: &EventFrame);
    /// The participants' snapshot at `snapshot.seq`, for a socket not there yet. Must return at
    /// once, as `offer`: a socket that cannot take it now has its own task catch up.
    fn offer_snapshot(&self, snapshot: &EventFrame);
    /// A host banned this visitor from the session: if the socket is theirs, it closes.
    fn ban(&self, visitor_digest: &str);
    /// Whatever this socket holds of the Discussion, it must start again from a snapshot.
    fn catch_up(&self);
}

/// One session's live state in this instance; it exists while a socket follows the session.
pub struct Topic {
    pub(super) host: watch::Sender<Option<Arc<HostFrame>>>,
    pub(super) public: watch::Sender<Option<Arc<PublicFrame>>>,
    /// The total count, and its message for hosts.
    pub(super) presence: watch::Sender<(u32, Utf8Bytes)>,
    pub(super) local_participants: AtomicU32,
    /// Other instances' counts, with when they were last heard of.
    pub(super) remote: Mutex<HashMap<Uuid, (u32, Instant)>>,
    pub(super) presence_pending: AtomicBool,
    /// Sockets following the session here; changed only under the hub's map lock.
    pub(super) sockets: Mutex<usize>,
    /// Participants' sockets, to which new public states are written.
    pub(super) outlets: Mutex<slab::Slab<Arc<dyn Outlet>>>,
    pub(super) discussion: DiscussionLog,
}

impl Topic {
    pub(super) fn new() -> Self {
        Self {
            host: watch::Sender::new(None),
            public: watch::Sender::new(None),
            presence: watch::Sender::new((0, presence_text(0))),
            local_participants: AtomicU32::new(0),
            remote: Mutex::default(),
            presence_pending: AtomicBool::new(false),
            sockets: Mutex::new(0),
            outlets: Mutex::default(),
            discussion: DiscussionLog::default(),
        }
    }

    /// Hands a new public state to every participant's socket, `FAN_OUT_CHUNK` sockets per task
    /// on the fan-out threads, so that every core writes and the change's own request (and any
    /// other) is answered without waiting.
    pub(super) fn fan_out(&self, frame: &Arc<PublicFrame>) {
        let frame = frame.clone();
        self.fan_out_with(move |outlet| outlet.offer(&frame.frame));
    }

    /// Runs `offer` on every participant's socket, `FAN_OUT_CHUNK` sockets per task.
    pub(super) fn fan_out_with(&self, offer: impl Fn(&dyn Outlet) + Clone + Send + 'static) {
        let chunks: Vec<Vec<Arc<dyn Outlet>>> = {
            let outlets = lock(&self.outlets);
            let mut chunks = Vec::with_capacity(outlets.len().div_ceil(FAN_OUT_CHUNK));
            let mut all = outlets.iter().map(|(_, o)| o.clone());
            loop {
                let chunk: Vec<_> = all.by_ref().take(FAN_OUT_CHUNK).collect();
                if chunk.is_empty() {
                    break chunks;
                }
                chunks.push(chunk);
            }
        };
        for chunk in chunks {
            let offer = offer.clone();
            // Unconstrained: tokio's cooperative budget would have every socket write past the
            // 128th of a task's poll report "not ready", and hand it to that socket's task.
            fan_out_runtime().spawn(tokio::task::unconstrained(async move {
                for outlet in chunk {
                    offer(&*outlet);
                }
            }));
        }
    }

    pub(super) fn total_participants(&self, now: Instant) -> u32 {
        let mut remote = lock(&self.remote);
        remote.retain(|_, (_, at)| now.duration_since(*at) < REMOTE_PRESENCE_TTL);
        self.local_participants.load(Ordering::Relaxed) + remote.values().map(|(n, _)| n).sum::<u32>()
    }

    pub(super) fn publish_presence(&self, now: Instant) {
        let total = self.total_participants(now);
        self.presence.send_if_modified(|current| {
            if current.0 == total {
                return false;
            }
            *current = (total, presence_text(total));
            true
        });
    }
}

fn presence_text(participants: u32) -> Utf8Bytes {
    serde_json::to_string(&HostMessage::Presence { participants }).expect("serializable").into()
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A participant's socket whose writes succeed while tokio lets the task do I/O: each polls a
    /// tokio resource, which counts against the task's cooperative budget as a socket's write does.
    struct Socket {
        ready: Mutex<tokio::sync::mpsc::Receiver<()>>,
        offered: AtomicU32,
        written: AtomicU32,
    }

    impl Outlet for Socket {
        fn offer(&self, _: &Frame) {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            if lock(&self.ready).poll_recv(&mut cx).is_ready() {
                self.written.fetch_add(1, Ordering::Relaxed);
            }
            self.offered.fetch_add(1, Ordering::Relaxed);
        }

        fn offer_event(&self, _: &EventFrame) {}

        fn offer_snapshot(&self, _: &EventFrame) {}

        fn ban(&self, _: &str) {}

        fn catch_up(&self) {}
    }

    impl Socket {
        /// A socket that takes three writes.
        fn new() -> Arc<Self> {
            let (tx, rx) = tokio::sync::mpsc::channel(3);
            for _ in 0..3 {
                tx.try_send(()).unwrap();
            }
            Arc::new(Socket { ready: Mutex::new(rx), offered: AtomicU32::new(0), written: AtomicU32::new(0) })
        }
    }

    /// Fans a state out, then waits until `sockets` were each offered `times` states in all.
    async fn fan_out(topic: &Topic, stamp: i64, sockets: &[Arc<Socket>], times: u32) {
        let frame = Frame { stamp, text: "{}".into(), last: false };
        topic.fan_out(&Arc::new(PublicFrame { frame, view: PublicView::Closed }));
        for _ in 0..500 {
            if sockets.iter().all(|s| s.offered.load(Ordering::Relaxed) == times) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let offered: Vec<u32> = sockets.iter().map(|s| s.offered.load(Ordering::Relaxed)).collect();
        assert!(offered.iter().all(|&n| n == times), "each socket is offered each state once: {offered:?}");
        let written = sockets.iter().filter(|s| s.written.load(Ordering::Relaxed) == times).count();
        assert_eq!(written, sockets.len(), "no write is left to the sockets' own tasks");
    }

    #[tokio::test]
    async fn a_new_state_is_written_to_every_participant_socket_by_the_hub() {
        let topic = Topic::new();
        let mut sockets: Vec<Arc<Socket>> = (0..3 * FAN_OUT_CHUNK + 1).map(|_| Socket::new()).collect();
        let mut keys: Vec<usize> = sockets.iter().map(|s| lock(&topic.outlets).insert(s.clone())).collect();
        fan_out(&topic, 1, &sockets, 1).await;

        // A socket that came since is offered the next state; one that went, nothing more.
        let came = Socket::new();
        came.offered.store(1, Ordering::Relaxed);
        came.written.store(1, Ordering::Relaxed);
        lock(&topic.outlets).insert(came.clone());
        sockets.push(came);
        fan_out(&topic, 2, &sockets, 2).await;
        let gone = sockets.remove(0);
        lock(&topic.outlets).remove(keys.remove(0));
        fan_out(&topic, 3, &sockets, 3).await;
        assert_eq!(gone.offered.load(Ordering::Relaxed), 2, "a socket gone is offered nothing more");
    }

    #[test]
    fn stale_remote_counts_expire() {
        let topic = Topic::new();
        topic.local_participants.store(2, Ordering::Relaxed);
        let now = Instant::now();
        lock(&topic.remote).insert(Uuid::new_v4(), (5, now));
        assert_eq!(topic.total_participants(now), 7);
        assert_eq!(topic.total_participants(now + REMOTE_PRESENCE_TTL), 2);
    }
}
