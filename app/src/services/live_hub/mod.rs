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
mod notices;
mod topic;

use crate::ids::{MessageId, SessionId};
use crate::live_protocol::{DiscussionEvent, HostMessage, ParticipantMessage};
use crate::services::ServerContext;
use crate::states::HostState;
use crate::states::{PublicState, PublicView};
use crate::storage::{now_micros, Db};
use axum::extract::ws::Utf8Bytes;
use discussion::{CatchUp, EventFrame, Flush, HostEvent, Outgoing, Stream, LIKES_INTERVAL};
pub use notices::{Notice, NoticeKind, NoticeSender};
use notices::{LIKED_PER_NOTICE, LOGINS_PER_NOTICE, NOTICE_MAX_BYTES};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{broadcast, watch};
use topic::{lock, Topic};
pub use topic::{Frame, HostFrame, Outlet, PublicFrame, PRESENCE_INTERVAL, PRESENCE_REFRESH};
use uuid::Uuid;

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

    /// The position of the participants' Discussion log now.
    pub fn discussion_seq(&self) -> u64 {
        self.topic.discussion.seq(Stream::Participants)
    }

    /// What a participant socket at `after` in the Discussion's log (none: nowhere yet) needs to
    /// be up to date, and the position it is then at: nothing, the few events it missed in one
    /// message, or a snapshot.
    pub async fn discussion_after(&self, after: Option<u64>) -> Option<(u64, Utf8Bytes)> {
        match after.map(|seq| self.topic.discussion.catch_up(seq)) {
            Some(CatchUp::UpToDate) => None,
            Some(CatchUp::Events(seq, text)) => Some((seq, text)),
            Some(CatchUp::Snapshot) | None => self.discussion_snapshot().await,
        }
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
        // The other instances are told while this one reads the session: the notice is queued
        // first and goes out beside the read, before this instance's fan-out takes its cores.
        // Told after the fan-out, the host's change was answered only once about half the room
        // had been written to.
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
        ctx.notices.send(payload).await;
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
            NoticeKind::Discussion(host, public) => self.publish_discussion(ctx, notice.s, &host, public.as_ref()),
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
        self.publish_discussion(ctx, session, &host, public.as_ref());
        if !ctx.db.is_shared() {
            return;
        }
        let notice = Notice { i: self.inner.instance, s: session, k: NoticeKind::Discussion(host, public) };
        let payload = serde_json::to_string(&notice).expect("serializable");
        if payload.len() <= NOTICE_MAX_BYTES {
            ctx.notices.send(payload).await;
        } else {
            self.notify(ctx, session, NoticeKind::DiscussionReset).await;
        }
    }

    fn publish_discussion(
        &self,
        ctx: &ServerContext,
        session: SessionId,
        host: &DiscussionEvent,
        public: Option<&DiscussionEvent>,
    ) {
        let Some(topic) = self.topic(session) else { return };
        match topic.discussion.publish(host, public) {
            Outgoing::Now(flush) => send_flush(&topic, &ctx.db, session, flush),
            Outgoing::At(when) => {
                let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
                let db = ctx.db.clone();
                runtime.spawn(async move {
                    tokio::time::sleep_until(when).await;
                    if let Some(flush) = topic.discussion.flush() {
                        send_flush(&topic, &db, session, flush);
                    }
                });
            }
            Outgoing::Later => {}
        }
    }

    /// Where the participants' Discussion log of a session is, when sockets follow it here.
    pub fn discussion_position(&self, session: SessionId) -> Option<u64> {
        self.topic(session).map(|topic| topic.discussion.position())
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
                    live.publish_discussion(&ctx, session, &event, Some(&event));
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

/// Hands participants' events to every socket of the topic, or the snapshot that replaces them.
/// The snapshot is read once, then written by the fan-out as events are: each socket's own task
/// catching up instead woke ten thousand tasks at once on the threads that answer requests, and a
/// post or a like arriving then waited behind all of them.
fn send_flush(topic: &Arc<Topic>, db: &Db, session: SessionId, flush: Flush) {
    match flush {
        Flush::Events(frame) => topic.fan_out_with(move |outlet| outlet.offer_event(&frame)),
        Flush::TooLarge => {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
            let (topic, db) = (topic.clone(), db.clone());
            runtime.spawn(async move {
                match topic.discussion.snapshot(&db, session, Stream::Participants).await {
                    Some((seq, text)) => {
                        let snapshot = Arc::new(EventFrame { first: seq, seq, text });
                        topic.fan_out_with(move |outlet| outlet.offer_snapshot(&snapshot));
                    }
                    None => topic.fan_out_with(|outlet| outlet.catch_up()),
                }
            });
        }
    }
}

fn frame(stamp: i64, message: &impl Serialize) -> Frame {
    Frame { stamp, text: serde_json::to_string(message).expect("live messages serialize").into(), last: false }
}
