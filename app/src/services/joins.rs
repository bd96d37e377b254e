//! Joins grouped into one write (group commit): while one write of participants is under way,
//! and until `WRITES_APART` after it began, the joins that arrive wait together and go in the
//! next one, so a room joining at once costs the database at most 200 writes a second instead
//! of one per person. A join waits for the end of the write before it or `WRITES_APART` past its
//! start, whichever is later, then for its own. Nothing waits when joins come further apart
//! than that. A join is answered only once its write has committed, so an answered participant
//! is never lost.
use crate::ids::SessionId;
use crate::storage::Db;
use sea_orm::DbErr;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Joins written together at most.
pub const JOINS_PER_WRITE: usize = 512;
/// The least time between the starts of two writes. A write costs far more than a row in it (a
/// commit, a statement built, a round trip to the database), so a room arriving at once is
/// cheaper written in fewer, larger groups: a few milliseconds more per join buy a good share of
/// the server's CPU at thousands of joins a second (`scripts/bench-live.sh` measures it).
pub const WRITES_APART: Duration = Duration::from_millis(5);
/// Joins waiting at most; more wait for room (each is an HTTP request in flight).
const QUEUED_MAX: usize = 4096;

type Answer = oneshot::Sender<Result<(), Failed>>;

/// Why a join was not written, as every join of a group is told.
#[derive(Clone, Debug)]
struct Failed {
    message: String,
    /// The database could not be reached: the joiner is told to wait (503), not that Ruche broke.
    unavailable: bool,
}

impl From<&DbErr> for Failed {
    fn from(e: &DbErr) -> Self {
        Self { message: e.to_string(), unavailable: crate::storage::is_unavailable(e) }
    }
}

impl From<Failed> for DbErr {
    fn from(failed: Failed) -> Self {
        if failed.unavailable {
            DbErr::Conn(sea_orm::RuntimeErr::Internal(failed.message))
        } else {
            DbErr::Custom(failed.message)
        }
    }
}

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
        answered.await.map_err(|_| gone())?.map_err(DbErr::from)
    }
}

async fn write_groups(db: Db, mut receiver: mpsc::Receiver<(SessionId, String, Answer)>) {
    let mut group = Vec::with_capacity(JOINS_PER_WRITE);
    let mut last_write = None;
    while receiver.recv_many(&mut group, JOINS_PER_WRITE).await > 0 {
        let next = last_write.map(|at: Instant| at + WRITES_APART);
        if let Some(next) = next.filter(|next| *next > Instant::now() && group.len() < JOINS_PER_WRITE) {
            tokio::time::sleep_until(next).await;
            while group.len() < JOINS_PER_WRITE {
                let Ok(join) = receiver.try_recv() else { break };
                group.push(join);
            }
        }
        last_write = Some(Instant::now());
        let joins: Vec<(SessionId, &str)> =
            group.iter().map(|(session, visitor, _)| (*session, visitor.as_str())).collect();
        match db.join_sessions(&joins).await {
            Ok(()) => {
                for (_, _, answer) in group.drain(..) {
                    let _ = answer.send(Ok(()));
                }
            }
            // One join can break a whole group (its session deleted since it was looked up: the
            // foreign key refuses its row). Each is then written alone, so that only it fails.
            Err(e) if group.len() > 1 && !crate::storage::is_unavailable(&e) => {
                tracing::debug!(error = %e, joins = group.len(), "a group of joins failed: each is written alone");
                for (session, visitor, answer) in group.drain(..) {
                    let written = db.join_sessions(&[(session, visitor.as_str())]).await;
                    let _ = answer.send(written.as_ref().map_err(Failed::from).copied());
                }
            }
            Err(e) => {
                if !crate::storage::is_unavailable(&e) {
                    tracing::error!(error = %e, joins = group.len(), "could not write a group of joins");
                }
                let failed = Failed::from(&e);
                for (_, _, answer) in group.drain(..) {
                    let _ = answer.send(Err(failed.clone()));
                }
            }
        }
    }
}
