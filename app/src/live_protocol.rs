//! The live channel's protocol, shared by the server and the browser: one WebSocket per tab,
//! on plain axum routes beside the Leptos ones (`server/src/live_sockets.rs`). The server speaks, the tab
//! listens: on every (re)connection the server first sends the whole current state, then each
//! change as it happens, so a tab that was away (server restart, network change, a phone waking)
//! is up to date again with its first message.
use crate::ids::{MessageId, SessionId};
use crate::rules::discussion::DiscussionSettings;
use crate::states::{HostState, MessageView, PublicState};
use serde::{Deserialize, Serialize};

/// What a host's tab receives (`/live/s/<session>`). Externally tagged (`{"State":{…}}`), the
/// serde default: an internally tagged enum would pull serde's buffering code into the wasm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Made once per change and serialized at once, never held in numbers: boxing the state would
// only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum HostMessage {
    /// The whole session as hosts see it, after any change.
    State(HostState),
    /// Participants connected right now, over every server instance.
    Presence { participants: u32 },
    /// The owner deleted the session: the last message, then the socket closes (`CLOSE_DENIED`).
    Deleted,
    /// The Discussion as hosts see it: every message, whatever its state.
    Discussion(DiscussionMessage),
}

/// What a participant's tab receives (`/live/p/<session>`): never anything host-only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParticipantMessage {
    State(PublicState),
    /// The Discussion as participants see it: published messages only.
    Discussion(DiscussionMessage),
}

/// The Discussion goes as a log, not as whole states: a tab starts from a snapshot, then
/// applies each event after it, in order. Events carry absolute values (a message as it now is,
/// a count as it now is), so one applied twice changes nothing. A socket that misses an event
/// (it could not take it in time) is sent those it missed in one message (`Since`), or a fresh
/// snapshot when it missed many. A tab that reconnects says where it was (`participant_path`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiscussionMessage {
    /// Where to start from: the settings, and the newest messages (newest first) with whether
    /// older ones are there to read (by a cursor, `functions::discussion`).
    Snapshot { seq: u64, settings: DiscussionSettings, messages: Vec<MessageView>, more: bool },
    /// The event numbered `seq`, the one after the tab's.
    Event { seq: u64, event: DiscussionEvent },
    /// The events after `seq`, in order (numbered `seq + 1`…): what a tab that was at `seq`
    /// missed, in one message, when it missed only a few.
    Since { seq: u64, events: Vec<DiscussionEvent> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiscussionEvent {
    /// A message posted, or changed (edited, moderated, pinned, answered): as it now is.
    Message(MessageView),
    /// Messages gone: deleted, or (for participants) no longer published.
    Removed(Vec<MessageId>),
    /// Likes counted since the last such event, a few times a second at most per session.
    Likes(Vec<(MessageId, u32)>),
    Settings(DiscussionSettings),
    /// Every message was deleted.
    Cleared,
}

/// What a tab holds of the Discussion, kept up to date by the live channel's messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscussionList {
    pub settings: DiscussionSettings,
    /// Newest first.
    pub messages: Vec<MessageView>,
    /// Older messages than these are there to read.
    pub more: bool,
    /// The number of the last snapshot or event applied; none for a list read otherwise (the
    /// page as the server rendered it).
    pub seq: Option<u64>,
}

impl DiscussionList {
    pub fn new(settings: DiscussionSettings, messages: Vec<MessageView>, more: bool) -> Self {
        Self { settings, messages, more, seq: None }
    }

    /// Applies a message of the live channel. Events carry absolute values: applying one twice,
    /// or one a snapshot already holds, changes nothing.
    pub fn apply(&mut self, message: DiscussionMessage) {
        match message {
            DiscussionMessage::Snapshot { seq, settings, messages, more } => {
                *self = Self { seq: Some(seq), ..Self::new(settings, messages, more) }
            }
            DiscussionMessage::Event { seq, event } => {
                self.apply_event(event);
                self.seq = Some(seq);
            }
            DiscussionMessage::Since { seq, events } => {
                let missed = events.len() as u64;
                for event in events {
                    self.apply_event(event);
                }
                self.seq = Some(seq + missed);
            }
        }
    }

    fn apply_event(&mut self, event: DiscussionEvent) {
        match event {
            DiscussionEvent::Message(message) => match self.messages.iter_mut().find(|m| m.id == message.id) {
                Some(held) => *held = message,
                None => {
                    let at = self.messages.partition_point(|m| (m.posted_at, m.id) > (message.posted_at, message.id));
                    self.messages.insert(at, message);
                }
            },
            DiscussionEvent::Removed(ids) => self.messages.retain(|m| !ids.contains(&m.id)),
            DiscussionEvent::Likes(counts) => {
                for (id, likes) in counts {
                    if let Some(held) = self.messages.iter_mut().find(|m| m.id == id) {
                        held.likes = likes;
                    }
                }
            }
            DiscussionEvent::Settings(settings) => self.settings = settings,
            DiscussionEvent::Cleared => {
                self.messages.clear();
                self.more = false;
            }
        }
    }

    /// Older messages read by a cursor, added after those held.
    pub fn add_older(&mut self, older: Vec<MessageView>, more: bool) {
        for message in older {
            if !self.messages.iter().any(|m| m.id == message.id) {
                self.messages.push(message);
            }
        }
        self.more = more;
    }
}

/// Close code for a tab that may not (or may no longer) follow this session: a host removed by
/// the owner, a participant who never joined. The tab stops reconnecting.
pub const CLOSE_DENIED: u16 = 4403;
/// Close code when the login a host's tab follows with has ended (logged out here or everywhere,
/// a password changed or reset): the tab stops and says "You were logged out.".
pub const CLOSE_LOGGED_OUT: u16 = 4401;
/// Close code when the server stops; the tab reconnects to whichever instance comes up.
pub const CLOSE_RESTARTING: u16 = 1012;

/// How the server keeps a quiet socket: a ping every `ping_every`, so that NAT mappings and
/// proxies do not drop it; a tab heard nothing from (not even the ping's pong, which browsers send
/// by themselves) for `silence_limit` is gone, and its socket is let go. A host's tab that does
/// not take a state within `write_within` is let go too: a host state can be close to a
/// megabyte (100 slides), and sockets that stopped reading must not hold them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    pub ping_every: std::time::Duration,
    pub silence_limit: std::time::Duration,
    pub write_within: std::time::Duration,
}

impl Default for Keepalive {
    fn default() -> Self {
        Self {
            ping_every: std::time::Duration::from_secs(25),
            silence_limit: std::time::Duration::from_secs(60),
            write_within: std::time::Duration::from_secs(20),
        }
    }
}

pub fn host_path(session: SessionId) -> String {
    format!("/live/s/{session}")
}

/// A participant's socket; `since`: the last Discussion event the tab applied, so that a tab
/// that reconnects is sent only what it missed.
pub fn participant_path(session: SessionId, since: Option<u64>) -> String {
    match since {
        Some(seq) => format!("/live/p/{session}?since={seq}"),
        None => format!("/live/p/{session}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::discussion::MessageState;
    use crate::states::PublicView;

    fn message(n: u128, posted_at: i64) -> MessageView {
        MessageView {
            id: MessageId(uuid::Uuid::from_u128(n)),
            author: None,
            body: format!("message {n}"),
            state: MessageState::Published,
            pinned: false,
            answered: false,
            likes: 0,
            posted_at,
            edited: false,
        }
    }

    #[test]
    fn a_tab_applies_events_in_any_repetition_and_keeps_newest_first() {
        let mut list = DiscussionList::default();
        let event = |event| DiscussionMessage::Event { seq: 1, event };
        list.apply(event(DiscussionEvent::Message(message(1, 10))));
        list.apply(event(DiscussionEvent::Message(message(3, 30))));
        list.apply(event(DiscussionEvent::Message(message(2, 20))));
        list.apply(event(DiscussionEvent::Message(message(2, 20))));
        assert_eq!(list.messages.iter().map(|m| m.posted_at).collect::<Vec<_>>(), [30, 20, 10]);
        let two = message(2, 20).id;
        list.apply(event(DiscussionEvent::Likes(vec![(two, 5)])));
        list.apply(event(DiscussionEvent::Likes(vec![(two, 5)])));
        assert_eq!(list.messages[1].likes, 5);
        list.apply(event(DiscussionEvent::Removed(vec![two])));
        assert_eq!(list.messages.len(), 2);
        let snapshot = DiscussionMessage::Snapshot {
            seq: 9,
            settings: DiscussionSettings { open: false, ..Default::default() },
            messages: vec![message(4, 40)],
            more: true,
        };
        list.apply(snapshot);
        assert_eq!((list.messages.len(), list.more, list.settings.open), (1, true, false));
        list.add_older(vec![message(4, 40), message(0, 5)], false);
        assert_eq!((list.messages.len(), list.more), (2, false));
        list.apply(event(DiscussionEvent::Cleared));
        assert!(list.messages.is_empty());
    }

    #[test]
    fn a_tab_knows_where_it_is_in_the_log() {
        let mut list = DiscussionList::new(DiscussionSettings::default(), vec![message(1, 10)], false);
        assert_eq!(list.seq, None, "a list the server rendered is at no position");
        list.apply(DiscussionMessage::Snapshot {
            seq: 40,
            settings: DiscussionSettings::default(),
            messages: vec![],
            more: false,
        });
        list.apply(DiscussionMessage::Event { seq: 41, event: DiscussionEvent::Message(message(2, 20)) });
        assert_eq!(list.seq, Some(41));
        let missed = vec![DiscussionEvent::Message(message(3, 30)), DiscussionEvent::Removed(vec![message(2, 20).id])];
        list.apply(DiscussionMessage::Since { seq: 41, events: missed });
        assert_eq!(list.seq, Some(43));
        assert_eq!(list.messages.iter().map(|m| m.posted_at).collect::<Vec<_>>(), [30]);
        assert_eq!(participant_path(SessionId(uuid::Uuid::nil()), list.seq).split_once('?').unwrap().1, "since=43");
    }

    #[test]
    fn messages_are_small_json_that_reads_back() {
        let presence = HostMessage::Presence { participants: 3 };
        let text = serde_json::to_string(&presence).unwrap();
        assert_eq!(text, r#"{"Presence":{"participants":3}}"#);
        assert_eq!(serde_json::from_str::<HostMessage>(&text).unwrap(), presence);
        let closed = ParticipantMessage::State(PublicState { stamp: 7, view: PublicView::Closed });
        let text = serde_json::to_string(&closed).unwrap();
        assert_eq!(text, r#"{"State":{"stamp":7,"view":"Closed"}}"#);
        assert_eq!(serde_json::from_str::<ParticipantMessage>(&text).unwrap(), closed);
        assert_eq!(serde_json::to_string(&HostMessage::Deleted).unwrap(), r#""Deleted""#);
        let deleted = ParticipantMessage::State(PublicState { stamp: 8, view: PublicView::Deleted });
        assert_eq!(serde_json::to_string(&deleted).unwrap(), r#"{"State":{"stamp":8,"view":"Deleted"}}"#);
    }
}
