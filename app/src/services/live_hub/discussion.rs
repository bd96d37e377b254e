//! The Discussion's live log in one session's topic: two numbered streams of events, one for
//! hosts (every message) and one for participants (published messages only), each event
//! serialized once for every socket of its audience. A socket that starts, or misses an event,
//! is sent a snapshot (the settings and the newest messages), read from storage once per
//! position of the log and shared by every socket asking for it at that position. Likes are
//! coalesced: a session's counts go out at most every `LIKES_INTERVAL`, read from storage when
//! they go, so the last count sent is the stored one.
//!
//! The participants' events go out together at most every `PUBLIC_EVENTS_INTERVAL` per session:
//! the first after a quiet spell at once, those that follow it closely in one frame when the
//! interval is over, so that a room posting a hundred messages a second costs each phone a few
//! frames a second, not a hundred (every frame goes to every phone). While more come in an
//! interval than one message holds, each flush is a snapshot, and they go every
//! `SNAPSHOTS_INTERVAL` instead.
//!
//! The participants' last `RECENT_EVENTS` events are kept: a socket that missed a few (it could
//! not take them in time, or its tab reconnected saying where it was) gets them in one message
//! (`DiscussionMessage::Since`) instead of a snapshot. Each log numbers from a random start, so
//! that a position from another log (the topic was dropped, or another process served the tab)
//! is never taken for one of its own.
use crate::ids::{MessageId, SessionId};
use crate::live_protocol::{DiscussionEvent, DiscussionMessage, HostMessage, ParticipantMessage};
use crate::rules::discussion::MESSAGES_PER_PAGE;
use crate::storage::{Db, Seen};
use axum::extract::ws::Utf8Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// How often a session's like counts go out at most, however fast likes come.
pub const LIKES_INTERVAL: Duration = Duration::from_millis(250);
/// Host events a host socket may fall behind on before it is sent a snapshot instead.
const HOST_EVENTS_BUFFER: usize = 64;
/// Participants' events kept for sockets that missed some: more missed, and a snapshot is sent.
pub const RECENT_EVENTS: usize = 64;
/// How often a session's participants are sent its events at most.
pub const PUBLIC_EVENTS_INTERVAL: Duration = Duration::from_millis(200);
/// How often at most while they come faster than one message holds, each flush then a snapshot
/// for every phone: the newest messages twice a second are as many as a person reads, and every
/// flush is a write to every socket of the room, on the cores that answer posts and likes.
pub const SNAPSHOTS_INTERVAL: Duration = Duration::from_millis(500);
/// The largest Discussion message a participant's socket is sent (events together, a catch-up,
/// a snapshot): every socket of the room holds it in the kernel's send buffer until its phone
/// has read it, and a phone on a slow network takes it in one go. Events that would not fit are
/// replaced by a snapshot cut to fit (its oldest messages left for "Show older messages").
pub const PUBLIC_MESSAGE_MAX_BYTES: usize = 2 * 1024;

/// Events as sent: the numbers of the first and the last in their stream (the same for one
/// event), and their bytes.
#[derive(Clone, Debug)]
pub struct EventFrame {
    pub first: u64,
    pub seq: u64,
    pub text: Utf8Bytes,
}

/// What goes to every participant's socket.
#[derive(Debug)]
pub enum Flush {
    Events(Arc<EventFrame>),
    /// Too many events at once to send in one message: each socket catches up, with a snapshot.
    TooLarge,
}

/// What becomes of a participants' event once numbered.
#[derive(Debug)]
pub enum Outgoing {
    /// It goes to every socket now.
    Now(Flush),
    /// It goes with the others at this instant: the caller sets a timer and then `flush`es.
    At(tokio::time::Instant),
    /// It goes with the next flush, already set, or it is not for participants.
    Later,
}

/// What a host socket receives: an event, or "take a snapshot" (the log was reset).
pub type HostEvent = Option<Arc<EventFrame>>;

pub struct DiscussionLog {
    seqs: Mutex<Seqs>,
    host_events: broadcast::Sender<HostEvent>,
    public_snapshot: tokio::sync::Mutex<Option<(u64, Utf8Bytes)>>,
    host_snapshot: tokio::sync::Mutex<Option<(u64, Utf8Bytes)>>,
    /// Messages whose likes changed since the last flush, and whether the change was made here.
    likes_pending: Mutex<HashMap<MessageId, bool>>,
    likes_armed: AtomicBool,
}

struct Seqs {
    public: u64,
    host: u64,
    /// The participants' newest events, oldest first, numbered up to `public`.
    recent: VecDeque<DiscussionEvent>,
    /// The participants' events not sent yet, numbered up to `public`.
    unsent: Vec<DiscussionEvent>,
    /// When participants' events last went out, how long until the next may, and whether a
    /// flush is set.
    last_sent: Option<tokio::time::Instant>,
    interval: Duration,
    flush_set: bool,
    /// The last catch-up worked out: the position it was from, the log's position then, and
    /// what it was. Sockets that fell behind together (every socket, after a flush too large to
    /// send) ask for the same one.
    last_catch_up: Option<(u64, u64, CatchUp)>,
}

/// What a participant socket at some position needs to be up to date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatchUp {
    UpToDate,
    /// The events it missed, in one message, and the position it then is at.
    Events(u64, Utf8Bytes),
    /// It missed more than is kept, or the position is not of this log: a snapshot.
    Snapshot,
}

impl Default for DiscussionLog {
    fn default() -> Self {
        // Below 2^40, so that a log numbers for ever without overflow, and far apart.
        let start = |bits: u64| bits >> 24;
        let (a, b) = uuid::Uuid::new_v4().as_u64_pair();
        Self {
            seqs: Mutex::new(Seqs {
                public: start(a),
                host: start(b),
                recent: VecDeque::new(),
                unsent: Vec::new(),
                last_sent: None,
                interval: PUBLIC_EVENTS_INTERVAL,
                flush_set: false,
                last_catch_up: None,
            }),
            host_events: broadcast::Sender::new(HOST_EVENTS_BUFFER),
            public_snapshot: tokio::sync::Mutex::default(),
            host_snapshot: tokio::sync::Mutex::default(),
            likes_pending: Mutex::default(),
            likes_armed: AtomicBool::new(false),
        }
    }
}

/// Which stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Hosts,
    Participants,
}

impl DiscussionLog {
    pub fn host_events(&self) -> broadcast::Receiver<HostEvent> {
        self.host_events.subscribe()
    }

    pub fn seq(&self, stream: Stream) -> u64 {
        let seqs = super::lock(&self.seqs);
        match stream {
            Stream::Hosts => seqs.host,
            Stream::Participants => seqs.public,
        }
    }

    /// Numbers an event for each audience; hands the hosts' to their sockets at once, and says
    /// when the participants' goes to the topic's fan-out.
    pub fn publish(&self, host: &DiscussionEvent, public: Option<&DiscussionEvent>) -> Outgoing {
        let mut seqs = super::lock(&self.seqs);
        seqs.host += 1;
        let seq = seqs.host;
        let message = HostMessage::Discussion(DiscussionMessage::Event { seq, event: host.clone() });
        // No receiver (no host socket here) is not an error.
        let _ = self.host_events.send(Some(Arc::new(EventFrame { first: seq, seq, text: text(&message) })));
        let Some(event) = public else { return Outgoing::Later };
        seqs.public += 1;
        if seqs.recent.len() == RECENT_EVENTS {
            seqs.recent.pop_front();
        }
        seqs.recent.push_back(event.clone());
        seqs.unsent.push(event.clone());
        if seqs.flush_set {
            return Outgoing::Later;
        }
        let now = tokio::time::Instant::now();
        match seqs.last_sent.map(|at| at + seqs.interval).filter(|next| *next > now) {
            Some(next) => {
                seqs.flush_set = true;
                Outgoing::At(next)
            }
            None => Outgoing::Now(take_unsent(&mut seqs, now).expect("an event was just added")),
        }
    }

    /// Where the participants' stream is now, to be given with what a page read of the
    /// Discussion afterwards (`DiscussionView::seq`).
    pub fn position(&self) -> u64 {
        self.seq(Stream::Participants)
    }

    /// The participants' events held back since the last went out, in one frame; the next
    /// event starts a new interval.
    pub fn flush(&self) -> Option<Flush> {
        let mut seqs = super::lock(&self.seqs);
        seqs.flush_set = false;
        take_unsent(&mut seqs, tokio::time::Instant::now())
    }

    /// Every socket must start again from a snapshot (what changed is too large to send as
    /// events, or was missed): both streams move on without an event, so every socket sees a
    /// gap; host sockets are told at once, participants' by the caller.
    pub fn reset(&self) {
        let mut seqs = super::lock(&self.seqs);
        seqs.host += 1;
        seqs.public += 1;
        seqs.recent.clear();
        seqs.unsent.clear();
        let _ = self.host_events.send(None);
    }

    /// What a participant socket that is at `after` (the last event or snapshot it was sent)
    /// needs to be up to date.
    pub fn catch_up(&self, after: u64) -> CatchUp {
        let mut seqs = super::lock(&self.seqs);
        let missed = seqs.public.wrapping_sub(after);
        if missed == 0 {
            return CatchUp::UpToDate;
        } else if missed as usize > seqs.recent.len() {
            return CatchUp::Snapshot;
        }
        if let Some((from, at, caught_up)) = &seqs.last_catch_up {
            if (*from, *at) == (after, seqs.public) {
                return caught_up.clone();
            }
        }
        let mut events: Vec<_> = seqs.recent.range(seqs.recent.len() - missed as usize..).cloned().collect();
        let message = match events.len() {
            1 => DiscussionMessage::Event { seq: seqs.public, event: events.pop().expect("one event") },
            _ => DiscussionMessage::Since { seq: after, events },
        };
        let text = text(&ParticipantMessage::Discussion(message));
        let caught_up =
            if text.len() > PUBLIC_MESSAGE_MAX_BYTES { CatchUp::Snapshot } else { CatchUp::Events(seqs.public, text) };
        seqs.last_catch_up = Some((after, seqs.public, caught_up.clone()));
        caught_up
    }

    /// The snapshot of a stream at its present position: read once per position, shared.
    pub async fn snapshot(&self, db: &Db, session: SessionId, stream: Stream) -> Option<(u64, Utf8Bytes)> {
        let cache = match stream {
            Stream::Hosts => &self.host_snapshot,
            Stream::Participants => &self.public_snapshot,
        };
        let mut cache = cache.lock().await;
        // Read before storage is: an event numbered after it may already be in what storage
        // gives, and is applied again, which changes nothing (events carry absolute values).
        let seq = self.seq(stream);
        if let Some((held, text)) = cache.as_ref() {
            if *held == seq {
                return Some((seq, text.clone()));
            }
        }
        let seen = if stream == Stream::Hosts { Seen::All } else { Seen::Published };
        let read = async {
            let settings = db.discussion_settings(session).await?;
            let mut messages = db.messages(session, seen, None, MESSAGES_PER_PAGE + 1).await?;
            Ok::<_, sea_orm::DbErr>((settings, messages.drain(..).map(|m| m.view).collect::<Vec<_>>()))
        };
        let (settings, mut messages) = match read.await {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(error = %e, %session, "live: could not read the Discussion");
                return None;
            }
        };
        let mut more = messages.len() as u64 > MESSAGES_PER_PAGE;
        messages.truncate(MESSAGES_PER_PAGE as usize);
        let text = loop {
            let snapshot = DiscussionMessage::Snapshot { seq, settings, messages: messages.clone(), more };
            match stream {
                Stream::Hosts => break text(&HostMessage::Discussion(snapshot)),
                Stream::Participants => {
                    let text = text(&ParticipantMessage::Discussion(snapshot));
                    // Cut to fit, a quarter of the messages at a time (one message always fits).
                    if text.len() <= PUBLIC_MESSAGE_MAX_BYTES || messages.len() <= 1 {
                        break text;
                    }
                    messages.truncate(messages.len() - messages.len().div_ceil(4));
                    more = true;
                }
            }
        };
        *cache = Some((seq, text.clone()));
        Some((seq, text))
    }

    /// Marks a message's likes as changed; true when the caller must arm the flush (none is
    /// armed yet).
    pub fn like_changed(&self, message: MessageId, local: bool) -> bool {
        *super::lock(&self.likes_pending).entry(message).or_default() |= local;
        !self.likes_armed.swap(true, Ordering::AcqRel)
    }

    /// The messages whose likes changed since the last flush, and those of them changed here;
    /// the next change arms a new flush.
    pub fn take_likes(&self) -> (Vec<MessageId>, Vec<MessageId>) {
        self.likes_armed.store(false, Ordering::Release);
        let pending: Vec<(MessageId, bool)> = super::lock(&self.likes_pending).drain().collect();
        let local = pending.iter().filter(|(_, local)| *local).map(|(m, _)| *m).collect();
        (pending.into_iter().map(|(m, _)| m).collect(), local)
    }
}

/// The unsent events in one frame: one event as such, several as `Since`; too many for one
/// message, a snapshot for each socket, and the next flush waits `SNAPSHOTS_INTERVAL`.
fn take_unsent(seqs: &mut Seqs, now: tokio::time::Instant) -> Option<Flush> {
    let mut events = std::mem::take(&mut seqs.unsent);
    let seq = seqs.public;
    let first = seq + 1 - events.len() as u64;
    let message = match events.len() {
        0 => return None,
        1 => DiscussionMessage::Event { seq, event: events.pop().expect("one event") },
        _ => DiscussionMessage::Since { seq: first - 1, events },
    };
    seqs.last_sent = Some(now);
    let text = text(&ParticipantMessage::Discussion(message));
    if text.len() > PUBLIC_MESSAGE_MAX_BYTES {
        seqs.interval = SNAPSHOTS_INTERVAL;
        return Some(Flush::TooLarge);
    }
    seqs.interval = PUBLIC_EVENTS_INTERVAL;
    Some(Flush::Events(Arc::new(EventFrame { first, seq, text })))
}

fn text(message: &impl serde::Serialize) -> Utf8Bytes {
    serde_json::to_string(message).expect("live messages serialize").into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::discussion::DiscussionSettings;

    #[test]
    fn each_stream_numbers_its_own_events_and_hosts_hear_every_one() {
        let log = DiscussionLog::default();
        let mut hosts = log.host_events();
        let settings = DiscussionEvent::Settings(DiscussionSettings::default());
        let (host_start, public_start) = (log.seq(Stream::Hosts), log.seq(Stream::Participants));
        assert_ne!(host_start, public_start, "each log numbers from its own random start");
        assert_ne!(DiscussionLog::default().seq(Stream::Participants), public_start);
        let Outgoing::Now(Flush::Events(public)) = log.publish(&settings, Some(&settings)) else {
            panic!("the first goes at once")
        };
        assert_eq!(public.seq, public_start + 1);
        let expected = format!(r#"{{"Discussion":{{"Event":{{"seq":{},"#, public_start + 1);
        assert!(public.text.as_str().starts_with(&expected), "{}", public.text.as_str());
        // A message waiting for moderation: hosts only.
        assert!(matches!(log.publish(&DiscussionEvent::Cleared, None), Outgoing::Later));
        assert_eq!((log.seq(Stream::Hosts), log.seq(Stream::Participants)), (host_start + 2, public_start + 1));
        assert_eq!(hosts.try_recv().unwrap().unwrap().seq, host_start + 1);
        assert_eq!(hosts.try_recv().unwrap().unwrap().seq, host_start + 2);
        log.reset();
        assert!(hosts.try_recv().unwrap().is_none(), "a reset asks hosts for a snapshot");
        assert_eq!(log.seq(Stream::Participants), public_start + 2, "and leaves participants a gap");
    }

    #[test]
    fn events_close_together_go_to_participants_in_one_frame() {
        let log = DiscussionLog::default();
        let start = log.seq(Stream::Participants);
        let settings = |open| DiscussionEvent::Settings(DiscussionSettings { open, ..Default::default() });
        let Outgoing::Now(Flush::Events(first)) = log.publish(&settings(true), Some(&settings(true))) else {
            panic!("the first after a quiet spell goes at once")
        };
        assert_eq!((first.first, first.seq), (start + 1, start + 1));
        let Outgoing::At(when) = log.publish(&settings(false), Some(&settings(false))) else {
            panic!("the next waits for the interval")
        };
        assert!(when <= tokio::time::Instant::now() + PUBLIC_EVENTS_INTERVAL);
        assert!(matches!(log.publish(&DiscussionEvent::Cleared, Some(&DiscussionEvent::Cleared)), Outgoing::Later));
        let Some(Flush::Events(together)) = log.flush() else { panic!("two events held back") };
        assert_eq!((together.first, together.seq), (start + 2, start + 3));
        let sent: ParticipantMessage = serde_json::from_str(together.text.as_str()).unwrap();
        let expected =
            DiscussionMessage::Since { seq: start + 1, events: vec![settings(false), DiscussionEvent::Cleared] };
        assert_eq!(sent, ParticipantMessage::Discussion(expected));
        assert!(log.flush().is_none(), "nothing left to send");
        assert_eq!(log.catch_up(start + 1), CatchUp::Events(start + 3, together.text.clone()), "the same message");

        // More at once than one message holds: every socket takes a snapshot instead, and so
        // does one catching up.
        let long = DiscussionEvent::Message(crate::states::MessageView {
            id: MessageId(uuid::Uuid::nil()),
            author: None,
            body: "a long message ".repeat(33),
            state: crate::rules::discussion::MessageState::Published,
            pinned: false,
            answered: false,
            likes: 0,
            posted_at: 0,
            edited: false,
        });
        assert!(matches!(log.publish(&long, Some(&long)), Outgoing::At(_)));
        for _ in 0..9 {
            log.publish(&long, Some(&long));
        }
        assert!(matches!(log.flush(), Some(Flush::TooLarge)));
        assert_eq!(log.catch_up(start + 3), CatchUp::Snapshot);
        assert!(matches!(log.catch_up(start + 12), CatchUp::Events(..)), "one long message fits");
        // Worked out once for every socket at the same place, until the log moves on.
        let CatchUp::Events(at, two) = log.catch_up(start + 11) else { panic!("two long messages fit") };
        assert_eq!((at, log.catch_up(start + 11)), (start + 13, CatchUp::Events(start + 13, two.clone())));
        log.publish(&DiscussionEvent::Cleared, Some(&DiscussionEvent::Cleared));
        let CatchUp::Events(at, three) = log.catch_up(start + 11) else { panic!("three events fit") };
        assert_eq!(at, start + 14);
        assert_ne!(three, two, "the event since is in it");
        assert!(matches!(log.flush(), Some(Flush::Events(_))));

        // While more come than one message holds, the snapshots go out less often than events:
        // the flush after one too large waits `SNAPSHOTS_INTERVAL`, the one after it did not.
        for _ in 0..10 {
            log.publish(&long, Some(&long));
        }
        assert!(matches!(log.flush(), Some(Flush::TooLarge)));
        let Outgoing::At(when) = log.publish(&long, Some(&long)) else { panic!("the next waits") };
        let now = tokio::time::Instant::now();
        assert!(when > now + PUBLIC_EVENTS_INTERVAL && when <= now + SNAPSHOTS_INTERVAL);
        assert!(matches!(log.flush(), Some(Flush::Events(_))), "one long message fits");
        let Outgoing::At(when) = log.publish(&long, Some(&long)) else { panic!("the next waits") };
        assert!(when <= tokio::time::Instant::now() + PUBLIC_EVENTS_INTERVAL, "events again: the usual interval");
    }

    #[test]
    fn a_socket_a_few_events_behind_catches_up_in_one_message() {
        let log = DiscussionLog::default();
        let start = log.seq(Stream::Participants);
        assert_eq!(log.catch_up(start), CatchUp::UpToDate);
        let settings = |open| DiscussionEvent::Settings(DiscussionSettings { open, ..Default::default() });
        log.publish(&settings(false), Some(&settings(false)));
        log.publish(&DiscussionEvent::Cleared, Some(&DiscussionEvent::Cleared));
        let CatchUp::Events(at, text) = log.catch_up(start) else { panic!("two events are kept") };
        assert_eq!(at, start + 2);
        let sent: ParticipantMessage = serde_json::from_str(text.as_str()).unwrap();
        let expected = DiscussionMessage::Since { seq: start, events: vec![settings(false), DiscussionEvent::Cleared] };
        assert_eq!(sent, ParticipantMessage::Discussion(expected));
        let CatchUp::Events(_, text) = log.catch_up(start + 1) else { panic!("one event is kept") };
        let one = format!(r#"{{"Discussion":{{"Event":{{"seq":{},"event":"Cleared"}}}}}}"#, start + 2);
        assert_eq!(text.as_str(), one, "one event missed goes as such");
        assert_eq!(log.catch_up(start + 2), CatchUp::UpToDate);
        assert_eq!(log.catch_up(start + 3), CatchUp::Snapshot, "a position this log never reached");
        assert_eq!(log.catch_up(12), CatchUp::Snapshot, "a position of another log");
        for _ in 0..RECENT_EVENTS {
            log.publish(&settings(true), Some(&settings(true)));
        }
        assert_eq!(log.catch_up(start + 1), CatchUp::Snapshot, "more missed than is kept");
        let now = log.seq(Stream::Participants);
        assert!(matches!(log.catch_up(now - 3), CatchUp::Events(..)), "a few of those kept");
        assert_eq!(log.catch_up(start + 2), CatchUp::Snapshot, "all those kept: too large for one message");
        log.reset();
        assert_eq!(log.catch_up(start + 2 + RECENT_EVENTS as u64), CatchUp::Snapshot, "a reset is a gap");
    }

    #[test]
    fn likes_arm_one_flush_at_a_time() {
        let log = DiscussionLog::default();
        let (a, b) = (MessageId(uuid::Uuid::from_u128(1)), MessageId(uuid::Uuid::from_u128(2)));
        assert!(log.like_changed(a, false));
        assert!(!log.like_changed(b, true));
        assert!(!log.like_changed(a, false));
        let (mut taken, local) = log.take_likes();
        taken.sort();
        assert_eq!((taken, local), (vec![a, b], vec![b]), "only likes made here are told to the others");
        assert!(log.like_changed(a, true), "the next like arms the next flush");
    }
}
