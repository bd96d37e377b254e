//! What instances sharing a PostgreSQL database tell each other through LISTEN/NOTIFY: a session
//! changed, counts of participants, logins that ended, the Discussion's events and bans.
use crate::ids::{MessageId, SessionId};
use crate::live_protocol::DiscussionEvent;
use crate::services::group_commit::{GroupCommit, Grouped};
use crate::storage::Db;
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

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
pub(super) const LIKED_PER_NOTICE: usize = 100;
/// A notice's payload at most: PostgreSQL refuses 8,000 bytes and more. A Discussion event past
/// it goes to the other instances as `DiscussionReset`.
pub(super) const NOTICE_MAX_BYTES: usize = 7_900;

/// Digests per `LoginsEnded` notice: PostgreSQL's NOTIFY payload stays under its 8,000 bytes.
pub(super) const LOGINS_PER_NOTICE: usize = 64;

/// Notices sent together at most.
const NOTICES_PER_SEND: usize = 256;

/// Notices waiting for the database, sent in the order they came, those of the moment in one
/// statement (`group_commit`). Whoever tells the other instances only queues: a participant's
/// post is answered once it is stored, not once the notice is, which on PostgreSQL is a commit of
/// its own (NOTIFY's commits take one lock, one after the other, for the whole database).
#[derive(Debug)]
pub struct NoticeSender(GroupCommit<Notices>);

struct Notices;

impl Grouped for Notices {
    type Write = String;
    type Written = ();
    const PER_WRITE: usize = NOTICES_PER_SEND;
    /// Sent as soon as the previous ones are: a notice is one small statement, and the other
    /// instances' sockets wait for it.
    const APART: Duration = Duration::ZERO;

    async fn write(db: &Db, payloads: &[String]) -> Result<Vec<()>, DbErr> {
        db.notify_live(payloads).await?;
        Ok(vec![(); payloads.len()])
    }
}

impl NoticeSender {
    pub fn new(db: Db) -> Self {
        Self(GroupCommit::new(db))
    }

    /// Queues a notice (a serialized `Notice`) for the other instances.
    pub async fn send(&self, payload: String) {
        if let Err(e) = self.0.send(payload).await {
            tracing::warn!(error = %e, "live: could not tell the other instances");
        }
    }
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
}
