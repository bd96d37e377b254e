//! Joins grouped into one write (group commit): while one write of participants is under way,
//! the joins that arrive wait together and go in the next one, so a room joining at once costs
//! the database a few writes a second instead of one per person, and a join waits for at most
//! the write under way and its own. Nothing waits when joins are rare: a lone join is written at
//! once. A join is answered only once its write has committed, so an answered participant is
//! never lost.
use crate::ids::SessionId;
use crate::storage::Db;
use sea_orm::DbErr;
use std::sync::OnceLock;
use tokio::sync::{mpsc, oneshot};

/// Joins written together at most.
pub const JOINS_PER_WRITE: usize = 512;
/// Joins waiting at most; more wait for room (each is an HTTP request in flight).
const QUEUED_MAX: usize = 4096;

type Answer = oneshot::Sender<Result<(), String>>;

#[derive(Debug)]
pub struct Joins {
    db: Db,
    /// Started by the first join: its writer task needs the runtime, which `new` may lack.
    queue: OnceLock<mpsc::Sender<(SessionId, String, Answer)>>,
}

impl Joins {
    pub fn new(db: Db) -> Self {
        Self { db, queue: OnceLock::new() }
    }

    /// Makes `visitor_digest` a participant of `session` (once, however often they join), in
    /// the next grouped write; returns once that write has committed.
    pub async fn join(&self, session: SessionId, visitor_digest: &str) -> Result<(), DbErr> {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUED_MAX);
            tokio::spawn(write_groups(self.db.clone(), receiver));
            sender
        });
        let (answer, answered) = oneshot::channel();
        let gone = || DbErr::Custom("the writer of joins has stopped".into());
        queue.send((session, visitor_digest.to_owned(), answer)).await.map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?.map_err(DbErr::Custom)
    }
}

async fn write_groups(db: Db, mut receiver: mpsc::Receiver<(SessionId, String, Answer)>) {
    let mut group = Vec::with_capacity(JOINS_PER_WRITE);
    while receiver.recv_many(&mut group, JOINS_PER_WRITE).await > 0 {
        let joins: Vec<(SessionId, &str)> = group.iter().map(|(session, visitor, _)| (*session, visitor.as_str())).collect();
        let written = db.join_sessions(&joins).await.map_err(|e| {
            tracing::error!(error = %e, joins = group.len(), "could not write a group of joins");
            e.to_string()
        });
        for (_, _, answer) in group.drain(..) {
            let _ = answer.send(written.clone());
        }
    }
}
