//! Posts and likes grouped into writes (`group_commit`): a room liking at thousands a second
//! costs the database at most 200 transactions a second for each kind, each answered once
//! committed. Posts and likes queue apart, each kind in its own groups: a post never waits behind
//! a group of likes held up by the liked messages' rows, which every instance's likes change too.
use super::group_commit::{GroupCommit, Grouped};
use crate::ids::{MessageId, ParticipantId, SessionId};
use crate::storage::{Db, DiscussionWrite, DiscussionWritten, MessageRecord, NewMessage, PostRefused};
use sea_orm::DbErr;

/// Posts, or likes, written together at most.
pub const DISCUSSION_WRITES_PER_GROUP: usize = 512;

struct DiscussionWrites;

impl Grouped for DiscussionWrites {
    type Write = DiscussionWrite;
    type Written = DiscussionWritten;
    const PER_WRITE: usize = DISCUSSION_WRITES_PER_GROUP;

    async fn write(db: &Db, writes: &[DiscussionWrite]) -> Result<Vec<DiscussionWritten>, DbErr> {
        db.write_discussion(writes).await
    }
}

#[derive(Debug)]
pub struct DiscussionWriter {
    /// Posts, in groups of their own.
    posts: GroupCommit<DiscussionWrites>,
    /// Likes and likes taken back, in groups of their own.
    likes: GroupCommit<DiscussionWrites>,
}

fn unexpected() -> DbErr {
    DbErr::Custom("a Discussion write was answered as another kind".into())
}

impl DiscussionWriter {
    pub fn new(db: Db) -> Self {
        Self { posts: GroupCommit::new(db.clone()), likes: GroupCommit::new(db) }
    }

    /// Posts a message in the next group of posts; returns once it is stored.
    pub async fn post(&self, new: NewMessage) -> Result<Result<MessageRecord, PostRefused>, DbErr> {
        match self.posts.write(DiscussionWrite::Post(new)).await? {
            DiscussionWritten::Posted(posted) => Ok(posted),
            DiscussionWritten::Liked(_) => Err(unexpected()),
        }
    }

    /// Likes a published message of `session` (or takes the like back) in the next group of
    /// likes; returns its count once stored, `None` when there is no such message.
    pub async fn like(
        &self,
        session: SessionId,
        message: MessageId,
        participant: ParticipantId,
        like: bool,
    ) -> Result<Option<u32>, DbErr> {
        match self.likes.write(DiscussionWrite::Like { session, message, participant, like }).await? {
            DiscussionWritten::Liked(likes) => Ok(likes),
            DiscussionWritten::Posted(_) => Err(unexpected()),
        }
    }
}
