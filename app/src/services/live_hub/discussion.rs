//! The Discussion's live log in one session's topic: two numbered streams of events, one for
//! hosts (every message) and one for participants (published messages only), each event
//! serialized once for every socket of its audience. A socket that starts, or misses an event,
//! is sent a snapshot (the settings and the newest messages), read from storage once per
//! position of the log and shared by every socket asking for it at that position. Likes are
//! coalesced: a session's counts go out at most every `LIKES_INTERVAL`, read from storage when
//! they go, so the last count sent is the stored one.
use crate::ids::{MessageId, SessionId};
use crate::live_protocol::{DiscussionEvent, DiscussionMessage, HostMessage, ParticipantMessage};
use crate::rules::discussion::MESSAGES_PER_PAGE;
use crate::storage::{Db, Seen};
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// How often a session's like counts go out at most, however fast likes come.
pub const LIKES_INTERVAL: Duration = Duration::from_millis(250);
/// Host events a host socket may fall behind on before it is sent a snapshot instead.
const HOST_EVENTS_BUFFER: usize = 64;

/// An event as sent: its number in its stream, and its bytes.
#[derive(Clone, Debug)]
pub struct EventFrame {
    pub seq: u64,
    pub text: Utf8Bytes,
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

#[derive(Default)]
struct Seqs {
    public: u64,
    host: u64,
}

impl Default for DiscussionLog {
    fn default() -> Self {
        Self {
            seqs: Mutex::default(),
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

    /// Numbers and serializes an event for each audience; hands the hosts' to their sockets and
    /// returns the participants' for the topic's fan-out.
    pub fn publish(&self, host: &DiscussionEvent, public: Option<&DiscussionEvent>) -> Option<Arc<EventFrame>> {
        let mut seqs = super::lock(&self.seqs);
        seqs.host += 1;
        let seq = seqs.host;
        let message = HostMessage::Discussion(DiscussionMessage::Event { seq, event: host.clone() });
        // No receiver (no host socket here) is not an error.
        let _ = self.host_events.send(Some(Arc::new(EventFrame { seq, text: text(&message) })));
        public.map(|event| {
            seqs.public += 1;
            let seq = seqs.public;
            let message = ParticipantMessage::Discussion(DiscussionMessage::Event { seq, event: event.clone() });
            Arc::new(EventFrame { seq, text: text(&message) })
        })
    }

    /// Every socket must start again from a snapshot (what changed is too large to send as
    /// events, or was missed): both streams move on without an event, so every socket sees a
    /// gap; host sockets are told at once, participants' by the caller.
    pub fn reset(&self) {
        let mut seqs = super::lock(&self.seqs);
        seqs.host += 1;
        seqs.public += 1;
        let _ = self.host_events.send(None);
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
        let more = messages.len() as u64 > MESSAGES_PER_PAGE;
        messages.truncate(MESSAGES_PER_PAGE as usize);
        let snapshot = DiscussionMessage::Snapshot { seq, settings, messages, more };
        let text = match stream {
            Stream::Hosts => text(&HostMessage::Discussion(snapshot)),
            Stream::Participants => text(&ParticipantMessage::Discussion(snapshot)),
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
        let public = log.publish(&settings, Some(&settings)).unwrap();
        assert_eq!(public.seq, 1);
        assert!(public.text.as_str().starts_with(r#"{"Discussion":{"Event":{"seq":1,"#), "{}", public.text.as_str());
        // A message waiting for moderation: hosts only.
        assert!(log.publish(&DiscussionEvent::Cleared, None).is_none());
        assert_eq!((log.seq(Stream::Hosts), log.seq(Stream::Participants)), (2, 1));
        assert_eq!(hosts.try_recv().unwrap().unwrap().seq, 1);
        assert_eq!(hosts.try_recv().unwrap().unwrap().seq, 2);
        log.reset();
        assert!(hosts.try_recv().unwrap().is_none(), "a reset asks hosts for a snapshot");
        assert_eq!(log.seq(Stream::Participants), 2, "and leaves participants a gap");
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
