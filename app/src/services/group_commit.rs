//! Writes grouped into one transaction (group commit): while one write is under way, and until
//! `WRITES_APART` after it began, the writes that arrive wait together and go in the next one, so
//! a room acting at once costs the database at most 200 transactions a second instead of one per
//! person. A write waits for the end of the write before it or `WRITES_APART` past its start,
//! whichever is later, then for its own. Nothing waits when writes come further apart than that.
//! Each caller is answered only once its group has committed, so nothing answered is ever lost.
//! Reads that many make at once go the same way, one query per group (`speakers`), and so do
//! the notices to the other instances, whose senders only queue them (`send`).
use crate::storage::Db;
use sea_orm::DbErr;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// The least time between the starts of two writes. A transaction costs far more than a row in
/// it (a commit, statements built, round trips to the database), so people arriving at once are
/// cheaper written in fewer, larger groups: a few milliseconds more each buy a good share of the
/// server's CPU at thousands of writes a second (`scripts/bench-live.sh` and
/// `scripts/bench-discussion.sh` measure it).
pub const WRITES_APART: Duration = Duration::from_millis(5);
/// Writes waiting at most; more wait for room (each is an HTTP request in flight).
const QUEUED_MAX: usize = 4096;

/// One kind of write that can be grouped: how a group goes to storage.
pub trait Grouped: Send + Sync + 'static {
    type Write: Send + Sync + 'static;
    type Written: Send + 'static;
    /// Writes in one group at most.
    const PER_WRITE: usize;
    /// The least time between the starts of two groups.
    const APART: Duration = WRITES_APART;
    /// Writes a group in one transaction; answers each write, in order. When it fails, each write
    /// of the group is tried again alone, so that one bad write fails only its own caller.
    fn write(db: &Db, writes: &[Self::Write]) -> impl Future<Output = Result<Vec<Self::Written>, DbErr>> + Send;
}

type Answer<T> = oneshot::Sender<Result<T, Failed>>;
/// A write waiting in the queue, with where its answer goes.
type Queued<G> = (<G as Grouped>::Write, Answer<<G as Grouped>::Written>);

/// Why a write failed, as every write of a group is told.
#[derive(Clone, Debug)]
struct Failed {
    message: String,
    /// The database could not be reached: the caller is told to wait (503), not that Ruche broke.
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

pub struct GroupCommit<G: Grouped> {
    db: Db,
    /// Started by the first write: its writer task needs the runtime, which `new` may lack.
    queue: OnceLock<mpsc::Sender<Queued<G>>>,
}

impl<G: Grouped> std::fmt::Debug for GroupCommit<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("type", &std::any::type_name::<G>()).finish()
    }
}

impl<G: Grouped> GroupCommit<G> {
    pub fn new(db: Db) -> Self {
        Self { db, queue: OnceLock::new() }
    }

    /// Writes in the next group; returns once that group has committed.
    pub async fn write(&self, write: G::Write) -> Result<G::Written, DbErr> {
        let (answer, answered) = oneshot::channel();
        self.queue(write, answer).await?;
        answered.await.map_err(|_| self.gone())?.map_err(DbErr::from)
    }

    /// Queues a write for the next group and returns at once: writes go in the order they were
    /// queued, and a failed one is logged by the writer, not told to its caller.
    pub async fn send(&self, write: G::Write) -> Result<(), DbErr> {
        let (answer, _) = oneshot::channel();
        self.queue(write, answer).await
    }

    async fn queue(&self, write: G::Write, answer: Answer<G::Written>) -> Result<(), DbErr> {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUED_MAX);
            tokio::spawn(write_groups::<G>(self.db.clone(), receiver));
            sender
        });
        queue.send((write, answer)).await.map_err(|_| self.gone())
    }

    fn gone(&self) -> DbErr {
        DbErr::Custom(format!("the writer of {} has stopped", std::any::type_name::<G>()))
    }
}

async fn write_groups<G: Grouped>(db: Db, mut receiver: mpsc::Receiver<Queued<G>>) {
    let mut group = Vec::with_capacity(G::PER_WRITE);
    let mut last_write = None;
    while receiver.recv_many(&mut group, G::PER_WRITE).await > 0 {
        let next = last_write.map(|at: Instant| at + G::APART);
        if let Some(next) = next.filter(|next| *next > Instant::now() && group.len() < G::PER_WRITE) {
            tokio::time::sleep_until(next).await;
            while group.len() < G::PER_WRITE {
                let Ok(write) = receiver.try_recv() else { break };
                group.push(write);
            }
        }
        last_write = Some(Instant::now());
        let (writes, answers): (Vec<_>, Vec<_>) = group.drain(..).unzip();
        match G::write(&db, &writes).await {
            Ok(written) if written.len() == writes.len() => {
                for (answer, written) in answers.into_iter().zip(written) {
                    tell(answer, Ok(written));
                }
            }
            Ok(written) => {
                tracing::error!(writes = writes.len(), answers = written.len(), "a group write answered wrongly");
                let failed = Failed { message: "a group write answered wrongly".into(), unavailable: false };
                for answer in answers {
                    tell(answer, Err(failed.clone()));
                }
            }
            // One write can break a whole group (its session deleted since it was looked up: a
            // foreign key refuses its row). Each is then written alone, so that only it fails.
            Err(e) if writes.len() > 1 && !crate::storage::is_unavailable(&e) => {
                tracing::debug!(error = %e, writes = writes.len(), "a group write failed: each is written alone");
                for (write, answer) in writes.iter().zip(answers) {
                    let written = G::write(&db, std::slice::from_ref(write)).await;
                    let one = written.map_err(|e| Failed::from(&e)).and_then(|mut w| {
                        w.pop().ok_or(Failed { message: "a write was not answered".into(), unavailable: false })
                    });
                    tell(answer, one);
                }
            }
            Err(e) => {
                if !crate::storage::is_unavailable(&e) {
                    tracing::error!(error = %e, writes = writes.len(), "could not write a group");
                }
                let failed = Failed::from(&e);
                for answer in answers {
                    tell(answer, Err(failed.clone()));
                }
            }
        }
    }
}

/// Answers a write's caller. A write only queued (`send`) has none waiting: its failure is logged.
fn tell<T>(answer: Answer<T>, result: Result<T, Failed>) {
    if let Err(Err(failed)) = answer.send(result) {
        tracing::warn!(error = %failed.message, "a queued write failed");
    }
}
