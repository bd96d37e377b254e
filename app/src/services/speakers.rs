//! Who calls the Discussion, looked up for many callers at once (`group_commit`): a room liking
//! at thousands a second costs the database one query per group instead of one per like. Nothing
//! is kept in memory: each caller's answer is read by a query that began after their call
//! arrived, so a ban, the padlock and the settings hold from the moment they committed, on every
//! instance alike.
//!
//! Posts are looked up in groups of their own, each sent as soon as the one before it is
//! answered: a participant posts at most every few seconds, so a room's posts come a few at a
//! time, and the 5 ms between the groups of the likes' lookups (and the wait behind a group of
//! them) would be most of a post's answer. A flood of posts still costs one query per group.
use super::group_commit::{GroupCommit, Grouped, WRITES_APART};
use crate::ids::SessionId;
use crate::storage::{Db, SpeakerRecord};
use sea_orm::DbErr;
use std::time::Duration;

/// Callers looked up together at most.
pub const SPEAKERS_PER_LOOKUP: usize = 512;

/// Callers looked up together, each group at least `APART_MS` milliseconds after the one before.
struct Lookups<const APART_MS: u64>;

impl<const APART_MS: u64> Grouped for Lookups<APART_MS> {
    type Write = (SessionId, String);
    type Written = Option<SpeakerRecord>;
    const PER_WRITE: usize = SPEAKERS_PER_LOOKUP;
    const APART: Duration = Duration::from_millis(APART_MS);

    async fn write(db: &Db, asks: &[Self::Write]) -> Result<Vec<Option<SpeakerRecord>>, DbErr> {
        let asks: Vec<(SessionId, &str)> = asks.iter().map(|(session, visitor)| (*session, visitor.as_str())).collect();
        db.speakers(&asks).await
    }
}

#[derive(Debug)]
pub struct Speakers {
    /// Everyone but those posting: likes, reads, sockets following the session.
    others: GroupCommit<Lookups<{ WRITES_APART.as_millis() as u64 }>>,
    /// Those posting.
    posters: GroupCommit<Lookups<0>>,
}

impl Speakers {
    pub fn new(db: Db) -> Self {
        Self { others: GroupCommit::new(db.clone()), posters: GroupCommit::new(db) }
    }

    /// `Db::speaker`, read with the other callers of the moment.
    pub async fn find(&self, session: SessionId, visitor_digest: &str) -> Result<Option<SpeakerRecord>, DbErr> {
        self.others.write((session, visitor_digest.to_owned())).await
    }

    /// `Db::speaker` for someone posting, read with the others posting at the moment.
    pub async fn find_poster(&self, session: SessionId, visitor_digest: &str) -> Result<Option<SpeakerRecord>, DbErr> {
        self.posters.write((session, visitor_digest.to_owned())).await
    }
}
