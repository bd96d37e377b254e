//! The live channel's protocol, shared by the server and the browser: one WebSocket per tab,
//! on plain axum routes beside the Leptos ones (`server/src/live_sockets.rs`). The server speaks, the tab
//! listens: on every (re)connection the server first sends the whole current state, then each
//! change as it happens, so a tab that was away (server restart, network change, a phone waking)
//! is up to date again with its first message.
use crate::ids::SessionId;
use crate::states::HostState;
use crate::states::PublicState;
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
}

/// What a participant's tab receives (`/live/p/<session>`): never anything host-only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParticipantMessage {
    State(PublicState),
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

pub fn participant_path(session: SessionId) -> String {
    format!("/live/p/{session}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::states::PublicView;

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
