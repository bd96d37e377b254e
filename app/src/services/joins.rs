//! Joins grouped into one write (`group_commit`): a room joining at once costs the database at
//! most 200 writes a second instead of one per person, and a join is answered only once its
//! participant is stored.
use super::group_commit::{GroupCommit, Grouped};
use crate::ids::SessionId;
use crate::storage::Db;
use sea_orm::DbErr;

/// Joins written together at most.
pub const JOINS_PER_WRITE: usize = 512;

struct JoinWrites;

impl Grouped for JoinWrites {
    type Write = (SessionId, String);
    type Written = ();
    const PER_WRITE: usize = JOINS_PER_WRITE;

    async fn write(db: &Db, writes: &[Self::Write]) -> Result<Vec<()>, DbErr> {
        let joins: Vec<(SessionId, &str)> =
            writes.iter().map(|(session, visitor)| (*session, visitor.as_str())).collect();
        db.join_sessions(&joins).await?;
        Ok(vec![(); writes.len()])
    }
}

#[derive(Debug)]
pub struct Joins(GroupCommit<JoinWrites>);

impl Joins {
    pub fn new(db: Db) -> Self {
        Self(GroupCommit::new(db))
    }

    /// Makes `visitor_digest` a participant of `session` (once, however often they join), in
    /// the next grouped write; returns once that write has committed.
    pub async fn join(&self, session: SessionId, visitor_digest: &str) -> Result<(), DbErr> {
        self.0.write((session, visitor_digest.to_owned())).await
    }
}
