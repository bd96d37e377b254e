//! The live hub of one server instance: per session, the latest state for hosts and for
//! participants, each serialized once and shared by every socket that sends it, and the count
//! of connected participants. Sockets (`server/src/live_sockets.rs`) watch these; server functions call
//! `changed` after each mutation has committed. With PostgreSQL, `changed` and the counts also go
//! to the other instances (LISTEN/NOTIFY), which re-read the session once each.
//!
//! States are held in `tokio::sync::watch` channels: a socket always sends the newest state and
//! skips the ones it had no time to send, so a slow phone never makes the server queue events.
//! Participants' sockets are not woken one by one for a new state: the hub writes it to them
//! itself, a few hundred sockets per task (`Outlet`), and only a socket that cannot take it at
//! once has its own task catch up with the newest state.
pub mod discussion;

use crate::ids::{MessageId, SessionId, UserId};
use crate::live_protocol::{DiscussionEvent, HostMessage, ParticipantMessage};
use crate::services::ServerContext;
use crate::states::HostState;
use crate::states::{PublicState, PublicView};
use crate::storage::now_micros;
use axum::extract::ws::Utf8Bytes;
use discussion::{DiscussionLog, EventFrame, HostEvent, Stream, LIKES_INTERVAL};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};
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
const FAN_OUT_CHUNK: usize = 256;

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
    view: PublicView,
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
    /// A host banned this visitor from the session: if the socket is theirs, it closes.
    fn ban(&self, visitor_digest: &str);
    /// Whatever this socket holds of the Discussion, it must start again from a snapshot.
    fn catch_up(&self);
}

/// One session's live state in this instance; it exists while a socket follows the session.
pub struct Topic {
    host: watch::Sender<Option<Arc<HostFrame>>>,
    public: watch::Sender<Option<Arc<PublicFrame>>>,
    /// The total count, and its message for hosts.
    presence: watch::Sender<(u32, Utf8Bytes)>,
    local_participants: AtomicU32,
    /// Other instances' counts, with when they were last heard of.
    remote: Mutex<HashMap<Uuid, (u32, Instant)>>,
    presence_pending: AtomicBool,
    /// Sockets following the session here; changed only under the hub's map lock.
    sockets: Mutex<usize>,
    /// Participants' sockets, to which new public states are written.
    outlets: Mutex<slab::Slab<Arc<dyn Outlet>>>,
    discussion: DiscussionLog,
}

impl Topic {
    fn new() -> Self {
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

    /// Hands a new public state to every participant's socket, `FAN_OUT_CHUNK` sockets per task,
    /// so that both cores write and the change's own request is answered without waiting.
    fn fan_out(&self, frame: &Arc<PublicFrame>) {
        let frame = frame.clone();
        self.fan_out_with(move |outlet| outlet.offer(&frame.frame));
    }

    /// Runs `offer` on every participant's socket, `FAN_OUT_CHUNK` sockets per task.
    fn fan_out_with(&self, offer: impl Fn(&dyn Outlet) + Clone + Send + 'static) {
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
            tokio::spawn(tokio::task::unconstrained(async move {
                for outlet in chunk {
                    offer(&*outlet);
                }
            }));
        }
    }

    fn total_participants(&self, now: Instant) -> u32 {
        let mut remote = lock(&self.remote);
        remote.retain(|_, (_, at)| now.duration_since(*at) < REMOTE_PRESENCE_TTL);
        self.local_participants.load(Ordering::Relaxed) + remote.values().map(|(n, _)| n).sum::<u32>()
    }

    fn publish_presence(&self, now: Instant) {
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What instances sharing a database tell each other (the NOTIFY payload).
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The sending instance: it ignores its own notices.
    pub i: Uuid,
    pub s: SessionId,
    pub k: NoticeKind,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoticeKind {
    /// The session changed: read it again.
    #[serde(rename = "c")]
    Changed,
    /// The sender has this many participants of the session connected.
    #[serde(rename = "p")]
    Presence(u32),
    /// The sender just started following the session: announce your counts.
    #[serde(rename = "q")]
    AskPresence,
    /// These logins ended (digests): close the host sockets they opened. About no session (the
    /// notice's `s` is nil).
    #[serde(rename = "l")]
    LoginsEnded(Vec<String>),
    /// A Discussion event: for hosts, and for participants when they see it.
    #[serde(rename = "d")]
    Discussion(DiscussionEvent, Option<DiscussionEvent>),
    /// These messages' likes changed: read their counts.
    #[serde(rename = "k")]
    Liked(Vec<MessageId>),
    /// The Discussion changed too much to say: every socket takes a snapshot.
    #[serde(rename = "r")]
    DiscussionReset,
    /// This visitor (digest) was banned from the session: their sockets close.
    #[serde(rename = "b")]
    Banned(String),
}

/// Message ids per `Liked` notice, under NOTIFY's 8,000 bytes.
const LIKED_PER_NOTICE: usize = 100;
/// A notice's payload at most: PostgreSQL refuses 8,000 bytes and more. A Discussion event past
/// it goes to the other instances as `DiscussionReset`.
const NOTICE_MAX_BYTES: usize = 7_900;

/// Digests per `LoginsEnded` notice: PostgreSQL's NOTIFY payload stays under its 8,000 bytes.
const LOGINS_PER_NOTICE: usize = 64;
/// Logins-ended events a host socket may fall behind on before it must reconnect (and have its
/// login checked again).
const LOGINS_ENDED_BUFFER: usize = 256;

#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    instance: Uuid,
    topics: Mutex<HashMap<SessionId, Arc<Topic>>>,
    /// Visitors known to have joined a session (by the digest of their cookie), so that their
    /// sockets open without a database query. Participants are never put out of a session, so an
    /// entry stays true; the set is simply emptied when it grows past `ADMITTED_MAX`.
    admitted: Mutex<std::collections::HashSet<(SessionId, String)>>,
    shutdown: watch::Sender<bool>,
    /// Digests of logins that just ended (logged out, everywhere, a password changed or reset):
    /// host sockets opened with one of them close.
    logins_ended: broadcast::Sender<Arc<[String]>>,
}

const ADMITTED_MAX: usize = 200_000;

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("instance", &self.inner.instance).finish_non_exhaustive()
    }
}

impl Default for Live {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                instance: Uuid::new_v4(),
                topics: Mutex::default(),
                admitted: Mutex::default(),
                shutdown: watch::Sender::new(false),
                logins_ended: broadcast::Sender::new(LOGINS_ENDED_BUFFER),
            }),
        }
    }
}

/// Whether a socket follows a session as a host or as a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Hosts,
    Participants,
}

/// A socket following a session; dropping it (the socket closed) updates the count.
pub struct Subscription {
    live: Live,
    ctx: ServerContext,
    session: SessionId,
    topic: Arc<Topic>,
    audience: Audience,
    /// Its key among the topic's outlets, once it has one.
    outlet: Option<usize>,
}

impl Subscription {
    pub fn host_states(&self) -> watch::Receiver<Option<Arc<HostFrame>>> {
        self.topic.host.subscribe()
    }

    /// From now on, every new public state is offered to this outlet. A state made before is
    /// in `public_frame`. A subscription has one outlet: it is its socket.
    pub fn deliver_to(&mut self, outlet: Arc<dyn Outlet>) {
        assert!(self.outlet.is_none(), "a subscription delivers to one socket");
        self.outlet = Some(lock(&self.topic.outlets).insert(outlet));
    }

    /// The newest public state, none until the session's first read is done.
    pub fn public_frame(&self) -> Option<Frame> {
        self.topic.public.borrow().as_ref().map(|f| f.frame.clone())
    }

    pub fn presence(&self) -> watch::Receiver<(u32, Utf8Bytes)> {
        self.topic.presence.subscribe()
    }

    /// The Discussion's events for hosts (`None`: take a snapshot).
    pub fn host_discussion_events(&self) -> broadcast::Receiver<HostEvent> {
        self.topic.discussion.host_events()
    }

    /// The Discussion's snapshot for this subscription's audience, at the log's present position.
    pub async fn discussion_snapshot(&self) -> Option<(u64, Utf8Bytes)> {
        let stream = match self.audience {
            Audience::Hosts => Stream::Hosts,
            Audience::Participants => Stream::Participants,
        };
        self.topic.discussion.snapshot(&self.ctx.db, self.session, stream).await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(key) = self.outlet {
            lock(&self.topic.outlets).remove(key);
        }
        if self.audience == Audience::Participants {
            self.topic.local_participants.fetch_sub(1, Ordering::Relaxed);
            self.live.schedule_presence(&self.ctx, self.session, &self.topic);
        }
        let mut topics = lock(&self.live.inner.topics);
        let mut sockets = lock(&self.topic.sockets);
        *sockets -= 1;
        if *sockets == 0 && topics.get(&self.session).is_some_and(|t| Arc::ptr_eq(t, &self.topic)) {
            topics.remove(&self.session);
        }
    }
}

impl Live {
    /// Remembers that this visitor joined this session (see `Inner::admitted`).
    pub fn admit(&self, session: SessionId, visitor_digest: &str) {
        let mut admitted = lock(&self.inner.admitted);
        if admitted.len() >= ADMITTED_MAX {
            admitted.clear();
        }
        admitted.insert((session, visitor_digest.to_owned()));
    }

    pub fn is_admitted(&self, session: SessionId, visitor_digest: &str) -> bool {
        lock(&self.inner.admitted).contains(&(session, visitor_digest.to_owned()))
    }

    /// Participants' sockets following the session, here and (as last announced) in the other
    /// instances: the people in the room, as hosts see them. 0 while no socket of the session is
    /// open here.
    pub fn participants_connected(&self, session: SessionId) -> u32 {
        let topic = lock(&self.inner.topics).get(&session).cloned();
        topic.map_or(0, |topic| topic.total_participants(Instant::now()))
    }

    /// Starts following a session for a socket whose rights were checked. The first socket of a
    /// session here reads its state once; the others get the state held.
    pub fn subscribe(&self, ctx: &ServerContext, session: SessionId, audience: Audience) -> Subscription {
        let (topic, is_new) = {
            let mut topics = lock(&self.inner.topics);
            let mut is_new = false;
            let topic = topics
                .entry(session)
                .or_insert_with(|| {
                    is_new = true;
                    Arc::new(Topic::new())
                })
                .clone();
            *lock(&topic.sockets) += 1;
            (topic, is_new)
        };
        if audience == Audience::Participants {
            topic.local_participants.fetch_add(1, Ordering::Relaxed);
            self.schedule_presence(ctx, session, &topic);
        }
        if is_new {
            let (live, ctx) = (self.clone(), ctx.clone());
            tokio::spawn(async move {
                live.refresh(&ctx, session).await;
                if ctx.db.is_shared() {
                    live.notify(&ctx, session, NoticeKind::AskPresence).await;
                }
            });
        }
        Subscription { live: self.clone(), ctx: ctx.clone(), session, topic, audience, outlet: None }
    }

    /// After a mutation of `session` has committed: every tab following it, in this instance
    /// and (through the database) in the others, gets the new state.
    pub async fn changed(&self, ctx: &ServerContext, session: SessionId) {
        ctx.ways_in.forget_session(session);
        // The other instances are told while this one reads the session: they read it beside
        // it, and the notice is mostly acknowledged before this instance's fan-out takes its
        // cores. Told after the fan-out, the host's change was answered only once about half the
        // room had been written to.
        tokio::join!(self.notify(ctx, session, NoticeKind::Changed), self.refresh(ctx, session));
    }

    /// Reads the session once and hands the result to every socket following it here; nothing
    /// when none does.
    pub async fn refresh(&self, ctx: &ServerContext, session: SessionId) {
        let Some(topic) = self.topic(session) else { return };
        let stamp = now_micros();
        let loaded = async {
            let Some((host, hosts)) = HostState::load_by_id(ctx, session, stamp).await? else { return Ok(None) };
            let public = PublicState::of_host(&host);
            Ok::<_, sea_orm::DbErr>(Some((host, hosts, public)))
        };
        let (host_frame, public) = match loaded.await {
            Ok(Some((host, hosts, public))) => {
                (HostFrame { frame: frame(stamp, &HostMessage::State(host)), hosts }, public)
            }
            // Sockets open only for sessions that exist: one followed and now missing was deleted.
            Ok(None) => {
                let mut host_frame = HostFrame { frame: frame(stamp, &HostMessage::Deleted), hosts: Vec::new() };
                host_frame.frame.last = true;
                (host_frame, PublicState { stamp, view: PublicView::Deleted })
            }
            Err(e) => {
                tracing::error!(error = %e, %session, "live: could not read the session");
                return;
            }
        };
        let last = host_frame.frame.last;
        topic.host.send_if_modified(|current| {
            if current.as_ref().is_some_and(|c| c.frame.stamp >= stamp) {
                return false;
            }
            *current = Some(Arc::new(host_frame));
            true
        });
        let view = public.view.clone();
        let mut made = None;
        topic.public.send_if_modified(|current| match current {
            Some(c) if c.frame.stamp >= stamp || c.view == view => false,
            _ => {
                let mut public_frame = frame(stamp, &ParticipantMessage::State(public));
                public_frame.last = last;
                let made = made.insert(Arc::new(PublicFrame { frame: public_frame, view }));
                *current = Some(made.clone());
                true
            }
        });
        if let Some(made) = made {
            topic.fan_out(&made);
        }
    }

    /// The public state held for a session that sockets here follow, as they were last sent it:
    /// what a participant page shows, without reading the session again. A room joining at once
    /// loads as many pages as it opens sockets. None until the first read is done.
    pub fn public_state(&self, session: SessionId) -> Option<PublicState> {
        let topic = self.topic(session)?;
        let held = topic.public.borrow();
        held.as_ref().map(|f| PublicState { stamp: f.frame.stamp, view: f.view.clone() })
    }

    fn topic(&self, session: SessionId) -> Option<Arc<Topic>> {
        lock(&self.inner.topics).get(&session).cloned()
    }

    /// Coalesces count changes: the first change arms one update `PRESENCE_INTERVAL` later,
    /// which carries every change made meanwhile. O(1) per join or leave.
    fn schedule_presence(&self, ctx: &ServerContext, session: SessionId, topic: &Arc<Topic>) {
        // A socket dropped while the runtime itself stops has no one left to tell.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        if topic.presence_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let (live, ctx, topic) = (self.clone(), ctx.clone(), topic.clone());
        runtime.spawn(async move {
            tokio::time::sleep(PRESENCE_INTERVAL).await;
            topic.presence_pending.store(false, Ordering::Release);
            topic.publish_presence(Instant::now());
            let local = topic.local_participants.load(Ordering::Relaxed);
            live.notify(&ctx, session, NoticeKind::Presence(local)).await;
        });
    }

    /// After logins ended (their rows deleted and committed): the host sockets they opened close,
    /// here and in the other instances, so a tab of a browser logged out stops following.
    pub async fn logins_ended(&self, ctx: &ServerContext, digests: Vec<String>) {
        if digests.is_empty() {
            return;
        }
        // No receiver (no host socket here) is not an error.
        let _ = self.inner.logins_ended.send(digests.clone().into());
        for chunk in digests.chunks(LOGINS_PER_NOTICE) {
            self.notify(ctx, SessionId(Uuid::nil()), NoticeKind::LoginsEnded(chunk.to_vec())).await;
        }
    }

    pub fn ended_logins(&self) -> broadcast::Receiver<Arc<[String]>> {
        self.inner.logins_ended.subscribe()
    }

    async fn notify(&self, ctx: &ServerContext, session: SessionId, kind: NoticeKind) {
        if !ctx.db.is_shared() {
            return;
        }
        let notice = Notice { i: self.inner.instance, s: session, k: kind };
        let payload = serde_json::to_string(&notice).expect("serializable");
        self.send_notice(ctx, &payload).await;
    }

    async fn send_notice(&self, ctx: &ServerContext, payload: &str) {
        if let Err(e) = ctx.db.notify_live(payload).await {
            tracing::warn!(error = %e, "live: could not tell the other instances");
        }
    }

    /// A notice from another instance (see `server/src/live_sockets.rs`, which listens).
    pub async fn receive(&self, ctx: &ServerContext, notice: Notice) {
        if notice.i == self.inner.instance {
            return;
        }
        match notice.k {
            NoticeKind::Changed => {
                ctx.ways_in.forget_session(notice.s);
                self.refresh(ctx, notice.s).await
            }
            NoticeKind::Presence(n) => {
                if let Some(topic) = self.topic(notice.s) {
                    lock(&topic.remote).insert(notice.i, (n, Instant::now()));
                    topic.publish_presence(Instant::now());
                }
            }
            NoticeKind::LoginsEnded(digests) => {
                let _ = self.inner.logins_ended.send(digests.into());
            }
            NoticeKind::Discussion(host, public) => self.publish_discussion(notice.s, &host, public.as_ref()),
            NoticeKind::Liked(messages) => {
                self.count_likes(ctx, notice.s, &messages, false);
            }
            NoticeKind::DiscussionReset => self.reset_discussion(notice.s),
            NoticeKind::Banned(visitor_digest) => self.ban_here(notice.s, &visitor_digest),
            NoticeKind::AskPresence => {
                if let Some(topic) = self.topic(notice.s) {
                    let local = topic.local_participants.load(Ordering::Relaxed);
                    if local > 0 {
                        self.notify(ctx, notice.s, NoticeKind::Presence(local)).await;
                    }
                }
            }
        }
    }

    /// Every `PRESENCE_REFRESH`: counts of stopped instances expire, and this instance's counts
    /// are announced again, so that the total stays right without anyone leaving or joining.
    pub async fn refresh_presence(&self, ctx: &ServerContext) {
        let topics: Vec<(SessionId, Arc<Topic>)> =
            lock(&self.inner.topics).iter().map(|(s, t)| (*s, t.clone())).collect();
        let now = Instant::now();
        for (session, topic) in topics {
            topic.publish_presence(now);
            let local = topic.local_participants.load(Ordering::Relaxed);
            if local > 0 {
                self.notify(ctx, session, NoticeKind::Presence(local)).await;
            }
        }
    }

    /// Events from other instances may have been missed (the listening connection was lost):
    /// every session followed here is read again, and no way in held in memory is trusted.
    pub async fn refresh_all(&self, ctx: &ServerContext) {
        ctx.ways_in.forget_all();
        let sessions: Vec<SessionId> = lock(&self.inner.topics).keys().copied().collect();
        for session in sessions {
            self.refresh(ctx, session).await;
            self.reset_discussion(session);
        }
    }

    /// After a change of the Discussion has committed: hosts get `host`, participants `public`
    /// (none when they do not see the change, a message waiting for moderation), here and in the
    /// other instances.
    pub async fn discussion(
        &self,
        ctx: &ServerContext,
        session: SessionId,
        host: DiscussionEvent,
        public: Option<DiscussionEvent>,
    ) {
        self.publish_discussion(session, &host, public.as_ref());
        if !ctx.db.is_shared() {
            return;
        }
        let notice = Notice { i: self.inner.instance, s: session, k: NoticeKind::Discussion(host, public) };
        let payload = serde_json::to_string(&notice).expect("serializable");
        if payload.len() <= NOTICE_MAX_BYTES {
            self.send_notice(ctx, &payload).await;
        } else {
            self.notify(ctx, session, NoticeKind::DiscussionReset).await;
        }
    }

    fn publish_discussion(&self, session: SessionId, host: &DiscussionEvent, public: Option<&DiscussionEvent>) {
        let Some(topic) = self.topic(session) else { return };
        if let Some(frame) = topic.discussion.publish(host, public) {
            topic.fan_out_with(move |outlet| outlet.offer_event(&frame));
        }
    }

    /// Every socket of the session, here and in the other instances, starts the Discussion again
    /// from a snapshot: after a change too large to send as an event.
    pub async fn discussion_reset(&self, ctx: &ServerContext, session: SessionId) {
        self.reset_discussion(session);
        self.notify(ctx, session, NoticeKind::DiscussionReset).await;
    }

    fn reset_discussion(&self, session: SessionId) {
        let Some(topic) = self.topic(session) else { return };
        topic.discussion.reset();
        topic.fan_out_with(|outlet| outlet.catch_up());
    }

    /// After a like (or a like taken back) has committed: the message's count goes out with the
    /// others of the session, at most every `LIKES_INTERVAL`, here and in the other instances.
    pub async fn liked(&self, ctx: &ServerContext, session: SessionId, message: MessageId) {
        if !self.count_likes(ctx, session, &[message], true) {
            // Nobody follows the session here: the other instances are told at once.
            self.notify(ctx, session, NoticeKind::Liked(vec![message])).await;
        }
    }

    /// Counts the likes in this instance's next flush, which tells the other instances of those
    /// made here (`local`). False when no socket follows the session here.
    fn count_likes(&self, ctx: &ServerContext, session: SessionId, messages: &[MessageId], local: bool) -> bool {
        let Some(topic) = self.topic(session) else { return false };
        let mut arm = false;
        for message in messages {
            arm |= topic.discussion.like_changed(*message, local);
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return true };
        if !arm {
            return true;
        }
        let (live, ctx) = (self.clone(), ctx.clone());
        runtime.spawn(async move {
            tokio::time::sleep(LIKES_INTERVAL).await;
            let (changed, local) = topic.discussion.take_likes();
            for ids in local.chunks(LIKED_PER_NOTICE) {
                live.notify(&ctx, session, NoticeKind::Liked(ids.to_vec())).await;
            }
            match ctx.db.like_counts(&changed).await {
                Ok(counts) if !counts.is_empty() => {
                    let event = DiscussionEvent::Likes(counts);
                    live.publish_discussion(session, &event, Some(&event));
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, %session, "live: could not read like counts"),
            }
        });
        true
    }

    /// After a ban has committed: the banned visitor's sockets of the session close, here and in
    /// the other instances, and they are no longer taken for a participant without a look at
    /// storage (which refuses them).
    pub async fn banned(&self, ctx: &ServerContext, session: SessionId, visitor_digest: &str) {
        self.ban_here(session, visitor_digest);
        self.notify(ctx, session, NoticeKind::Banned(visitor_digest.to_owned())).await;
    }

    fn ban_here(&self, session: SessionId, visitor_digest: &str) {
        lock(&self.inner.admitted).remove(&(session, visitor_digest.to_owned()));
        let Some(topic) = self.topic(session) else { return };
        let digest: Arc<str> = visitor_digest.into();
        topic.fan_out_with(move |outlet| outlet.ban(&digest));
    }

    /// Fires when the server stops, so that sockets close cleanly and tabs reconnect.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    pub fn shut_down(&self) {
        self.inner.shutdown.send_replace(true);
    }
}

fn frame(stamp: i64, message: &impl Serialize) -> Frame {
    Frame { stamp, text: serde_json::to_string(message).expect("live messages serialize").into(), last: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_stay_small() {
        let notice = Notice { i: Uuid::new_v4(), s: SessionId(Uuid::new_v4()), k: NoticeKind::Presence(19_500) };
        let text = serde_json::to_string(&notice).unwrap();
        assert!(text.len() < 120, "{text}");
        assert_eq!(serde_json::from_str::<Notice>(&text).unwrap(), notice);
        let digests = vec![
            crate::rules::secrets::login_token_digest(&crate::rules::secrets::new_login_token());
            LOGINS_PER_NOTICE
        ];
        let notice = Notice { i: Uuid::new_v4(), s: SessionId(Uuid::nil()), k: NoticeKind::LoginsEnded(digests) };
        let text = serde_json::to_string(&notice).unwrap();
        assert!(text.len() < 8000, "NOTIFY takes at most 8,000 bytes: {}", text.len());
        assert_eq!(serde_json::from_str::<Notice>(&text).unwrap(), notice);
    }

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
