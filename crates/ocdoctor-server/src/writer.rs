//! The upload writer: one task per instance that stores uploads in batches, one transaction
//! (one commit, one fsync on SQLite) per batch. Uploads that arrive while a commit is on its
//! way to disk form the next batch, so throughput grows with load while every upload is
//! acknowledged only after its commit.

use crate::db::{Db, NewIncident, Stored};
use tokio::sync::{mpsc, oneshot};

/// The most uploads one transaction stores.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Stored, String>>;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<(NewIncident, Reply)>,
}

/// Counts for `/metrics`.
#[derive(Default)]
pub struct WriterStats {
    pub commits: std::sync::atomic::AtomicU64,
    pub rows: std::sync::atomic::AtomicU64,
}

impl Writer {
    pub fn start(db: Db, stats: std::sync::Arc<WriterStats>) -> Writer {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, rx, stats));
        Writer { jobs }
    }

    /// Store one upload; returns once it is committed.
    pub async fn store(&self, row: NewIncident) -> Result<Stored, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((row, reply))
            .await
            .map_err(|_| "the writer stopped".to_string())?;
        answer.await.map_err(|_| "the writer stopped".to_string())?
    }
}

async fn run(
    db: Db,
    mut rx: mpsc::Receiver<(NewIncident, Reply)>,
    stats: std::sync::Arc<WriterStats>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let rows: Vec<&NewIncident> = batch.iter().map(|(r, _)| r).collect();
        match db.insert_batch(&rows).await {
            Ok(stored) => {
                stats.commits.fetch_add(1, Relaxed);
                stats.rows.fetch_add(stored.len() as u64, Relaxed);
                for ((_, reply), s) in batch.into_iter().zip(stored) {
                    let _ = reply.send(Ok(s));
                }
            }
            // One bad row must not fail the others: each alone, in its own transaction.
            Err(_) => {
                for (row, reply) in batch {
                    let result = db.insert_batch(&[&row]).await;
                    if result.is_ok() {
                        stats.commits.fetch_add(1, Relaxed);
                        stats.rows.fetch_add(1, Relaxed);
                    }
                    let _ = reply.send(result.map(|mut s| s.remove(0)).map_err(|e| e.to_string()));
                }
            }
        }
    }
}
