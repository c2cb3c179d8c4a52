//! Batches: many requests answered in one round trip. Inside a batch every read
//! sees one snapshot; an atomic batch also runs every write in one writer
//! session, so they commit together or not at all.

use std::future::Future;
use std::sync::Arc;

use super::{App, AppError};
use crate::store::{ReadTx, Session};

tokio::task_local! {
    static BATCH: Scope;
}

#[derive(Clone)]
struct Scope {
    snapshot: Arc<ReadTx>,
    session: Option<Arc<Session>>,
}

/// The context of one batch: run each sub-request in it, then finish it.
pub struct Batch {
    scope: Scope,
}

impl Batch {
    /// Runs `work` (a sub-request) inside the batch.
    pub async fn run<F: Future>(&self, work: F) -> F::Output {
        BATCH.scope(self.scope.clone(), work).await
    }

    pub fn is_atomic(&self) -> bool {
        self.scope.session.is_some()
    }

    /// Commits (durably) or rolls back an atomic batch's writes; nothing to do
    /// for a plain one.
    pub async fn finish(self, commit: bool) -> Result<(), AppError> {
        match &self.scope.session {
            Some(session) => Ok(session.finish(commit).await?),
            None => Ok(()),
        }
    }
}

impl App {
    /// Starts a batch: takes the snapshot its reads share and, when `atomic`,
    /// opens the writer session its writes share.
    pub async fn begin_batch(&self, atomic: bool) -> Result<Batch, AppError> {
        let store = self.inner.store.clone();
        let snapshot = tokio::task::spawn_blocking(move || store.read())
            .await
            .map_err(|e| AppError::Internal(format!("read task failed: {e}")))??;
        let session = if atomic {
            Some(Arc::new(self.inner.writer.session().await?))
        } else {
            None
        };
        Ok(Batch {
            scope: Scope {
                snapshot: Arc::new(snapshot),
                session,
            },
        })
    }
}

/// The snapshot of the batch this task runs in, if any.
pub(super) fn snapshot() -> Option<Arc<ReadTx>> {
    BATCH.try_with(|scope| scope.snapshot.clone()).ok()
}

/// The writer session of the atomic batch this task runs in, if any.
pub(super) fn session() -> Option<Arc<Session>> {
    BATCH.try_with(|scope| scope.session.clone()).ok().flatten()
}
