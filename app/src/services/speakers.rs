//! Who calls the Discussion, looked up for many callers at once (`group_commit`): a room liking
//! at thousands a second costs the database one query per group instead of one per like. Nothing
//! is kept in memory: each caller's answer is read by a query that began after their call
//! arrived, so a ban, the padlock and the settings hold from the moment they committed, on every
//! instance alike.
use super::group_commit::{GroupCommit, Grouped};
use crate::ids::SessionId;
use crate::storage::{Db, SpeakerRecord};
use sea_orm::DbErr;

/// Callers looked up together at most.
pub const SPEAKERS_PER_LOOKUP: usize = 512;

struct SpeakerLookups;

impl Grouped for SpeakerLookups {
    type Write = (SessionId, String);
    type Written = Option<SpeakerRecord>;
    const PER_WRITE: usize = SPEAKERS_PER_LOOKUP;

    async fn write(db: &Db, asks: &[Self::Write]) -> Result<Vec<Option<SpeakerRecord>>, DbErr> {
        let asks: Vec<(SessionId, &str)> = asks.iter().map(|(session, visitor)| (*session, visitor.as_str())).collect();
        db.speakers(&asks).await
    }
}

#[derive(Debug)]
pub struct Speakers(GroupCommit<SpeakerLookups>);

impl Speakers {
    pub fn new(db: Db) -> Self {
        Self(GroupCommit::new(db))
    }

    /// `Db::speaker`, read with the other callers of the moment.
    pub async fn find(&self, session: SessionId, visitor_digest: &str) -> Result<Option<SpeakerRecord>, DbErr> {
        self.0.write((session, visitor_digest.to_owned())).await
    }
}
