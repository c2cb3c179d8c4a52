//! Long work started over HTTP (imports, backups) runs as a job: it goes on
//! when the request that started it ends, says how far it has got, and keeps
//! the answer it ended with for an hour, for whoever started it (or an owner)
//! to collect at `/api/v1/jobs/{id}`.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt as _;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tracing::Instrument as _;
use utoipa::ToSchema;

use super::{App, AppError, CLIENT, Principal};
use crate::domain::accounts::{Actor, Role};
use crate::store::StoreError;

/// How long a finished job's answer is kept.
const KEEP_FINISHED: SignedDuration = SignedDuration::from_hours(1);
/// Jobs running (or receiving their upload) at once; more are refused until
/// one ends.
const MAX_RUNNING: usize = 8;
/// Jobs remembered at once (running and finished); the oldest finished ones
/// are forgotten first.
const MAX_KEPT: usize = 256;

/// What a job's progress counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProgressUnit {
    /// Bytes of an uploaded file read.
    Bytes,
    /// Database entries copied.
    Entries,
}

/// How far a piece of work has got: `done` of `total` (0 while unknown);
/// and, for an import, the file of every bad row it found.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    bad_rows: Mutex<Option<tempfile::TempPath>>,
}

impl Progress {
    pub fn set(&self, done: u64, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        // Released after `total`: whoever sees this `done` sees its total.
        self.done.store(done.min(total), Ordering::Release);
    }

    pub fn set_done(&self, done: u64) {
        let total = self.total.load(Ordering::Relaxed);
        self.done.store(done.min(total), Ordering::Release);
    }

    /// Keeps `file` (CSV: every bad row) for as long as the job is kept.
    pub fn keep_bad_rows(&self, file: tempfile::TempPath) {
        *self.bad_rows.lock().unwrap_or_else(PoisonError::into_inner) = Some(file);
    }

    fn bad_rows(&self) -> Option<std::path::PathBuf> {
        self.bad_rows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_deref()
            .map(std::path::Path::to_path_buf)
    }

    fn get(&self) -> (u64, u64) {
        let done = self.done.load(Ordering::Acquire);
        let total = self.total.load(Ordering::Relaxed);
        (done.min(total), total)
    }
}

/// The answer a job ended with: what the request that started it would have
/// answered had it waited.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
}

#[derive(Debug)]
struct Finished {
    at: Timestamp,
    answer: Answer,
}

/// One piece of long work.
#[derive(Debug)]
pub struct Job {
    id: String,
    kind: String,
    actor: Actor,
    started_at: Timestamp,
    unit: ProgressUnit,
    progress: Arc<Progress>,
    finished: watch::Sender<Option<Arc<Finished>>>,
}

impl Job {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The CSV file of every bad row an import found, once it has finished.
    pub fn bad_rows(&self) -> Option<std::path::PathBuf> {
        self.finished_at()?;
        self.progress.bad_rows()
    }

    /// Waits for the job to end; answers what it ended with.
    pub async fn answer(&self) -> Answer {
        let mut finished = self.finished.subscribe();
        let done = finished
            .wait_for(Option::is_some)
            .await
            .expect("the job holds its own sender");
        done.as_ref().expect("waited for it").answer.clone()
    }

    fn finished_at(&self) -> Option<Timestamp> {
        self.finished.borrow().as_ref().map(|f| f.at)
    }

    pub fn view(&self) -> JobView {
        let finished = self.finished.borrow().clone();
        let (done, total) = self.progress.get();
        JobView {
            id: self.id.clone(),
            kind: self.kind.clone(),
            state: if finished.is_some() {
                JobState::Finished
            } else {
                JobState::Running
            },
            started_at: self.started_at,
            finished_at: finished.as_ref().map(|f| f.at),
            progress: JobProgress {
                done,
                total,
                unit: self.unit,
            },
            status: finished.as_ref().map(|f| f.answer.status),
            result: finished.map(|f| f.answer.body.clone()),
            bad_rows: self
                .bad_rows()
                .map(|_| format!("/api/v1/jobs/{}/bad-rows", self.id)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Running,
    Finished,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobProgress {
    pub done: u64,
    /// 0 while not known yet.
    pub total: u64,
    pub unit: ProgressUnit,
}

/// A job as its starter sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// Look the job up at `/api/v1/jobs/{id}`.
    pub id: String,
    /// `import.products`, `import.stock`, `import.movements` or `backup`.
    pub kind: String,
    pub state: JobState,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
    pub progress: JobProgress,
    /// Once finished: the HTTP status the request would have answered with
    /// had it waited (e.g. 200, 201, 422).
    pub status: Option<u16>,
    /// Once finished: that answer's body (an import report, a backup, or
    /// `{"error": …}`).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Once an import with bad rows has finished: where to download every
    /// one of them as CSV (`row,column,reason`; the report lists the first
    /// 1,000).
    pub bad_rows: Option<String>,
}

/// The jobs the server remembers.
#[derive(Debug)]
pub struct Jobs {
    jobs: Mutex<HashMap<String, Arc<Job>>>,
    /// One permit per job running or receiving its upload.
    slots: Arc<Semaphore>,
}

impl Default for Jobs {
    fn default() -> Self {
        Self {
            jobs: Mutex::default(),
            slots: Arc::new(Semaphore::new(MAX_RUNNING)),
        }
    }
}

/// A place among the jobs that may run at once: taken before an upload is
/// received, held until the job ends.
#[derive(Debug)]
pub struct JobSlot {
    _permit: OwnedSemaphorePermit,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Job>>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many jobs are running (or receiving their upload) now.
    pub fn running(&self) -> usize {
        MAX_RUNNING - self.slots.available_permits()
    }

    /// Remembers one more job: forgets expired ones, then the oldest
    /// finished ones beyond [`MAX_KEPT`].
    fn admit(&self, job: Arc<Job>, now: Timestamp) {
        let mut jobs = self.lock();
        jobs.retain(|_, j| {
            j.finished_at()
                .is_none_or(|at| now.duration_since(at) < KEEP_FINISHED)
        });
        if jobs.len() >= MAX_KEPT {
            let mut finished: Vec<(Timestamp, String)> = jobs
                .values()
                .filter_map(|j| j.finished_at().map(|at| (at, j.id.clone())))
                .collect();
            finished.sort();
            for (_, id) in finished.iter().take(jobs.len() + 1 - MAX_KEPT) {
                jobs.remove(id);
            }
        }
        jobs.insert(job.id.clone(), job);
    }
}

/// The names of the temporary files jobs keep in the data dir: uploads
/// waiting to be imported, and imports' bad rows.
const LEFTOVERS: [&str; 2] = [".quarry-import-", ".quarry-bad-rows-"];

/// Removes the temporary files of jobs a previous run did not end (a crash,
/// a kill): nothing refers to them any more.
pub fn remove_leftovers(data_dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if LEFTOVERS.iter().any(|prefix| name.starts_with(prefix)) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!(file = %name, "removed a file a previous run left"),
                Err(error) => tracing::warn!(file = %name, %error, "cannot remove a leftover file"),
            }
        }
    }
}

/// A 128-bit random id in hex.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system has a random source");
    crate::auth::hex(&bytes)
}

/// Why new long work is refused once the server has begun to stop: 503.
fn stopping() -> AppError {
    AppError::Store(StoreError::WriterStopped)
}

impl App {
    /// Takes a place for a job, before its upload is received: 429 when
    /// `MAX_RUNNING` are taken, 503 once the server is stopping.
    pub fn job_slot(&self) -> Result<JobSlot, AppError> {
        if self.shutting_down().is_cancelled() {
            return Err(stopping());
        }
        let permit = self
            .inner
            .jobs
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| AppError::TooManyRequests {
                message: format!(
                    "{MAX_RUNNING} imports or backups are running; try again when one has finished"
                ),
                retry_after: std::time::Duration::from_secs(5),
            })?;
        Ok(JobSlot { _permit: permit })
    }

    /// Starts `work` as a job of `caller`'s, in `slot`. It runs to its end
    /// even if the request that started it goes away, with that request's
    /// client address (for the audit log) and log span; [`App::close`] waits
    /// for it.
    pub fn start_job<W, F>(
        &self,
        slot: JobSlot,
        caller: &Principal,
        kind: &str,
        unit: ProgressUnit,
        work: W,
    ) -> Result<Arc<Job>, AppError>
    where
        W: FnOnce(Arc<Progress>) -> F,
        F: Future<Output = Answer> + Send + 'static,
    {
        // An upload that arrives after the stop began would find no writer.
        if self.shutting_down().is_cancelled() {
            return Err(stopping());
        }
        let progress = Arc::new(Progress::default());
        let job = Arc::new(Job {
            id: new_id(),
            kind: kind.to_owned(),
            actor: caller.actor.clone(),
            started_at: Timestamp::now(),
            unit,
            progress: progress.clone(),
            finished: watch::Sender::new(None),
        });
        self.inner.jobs.admit(job.clone(), Timestamp::now());
        let client = CLIENT.try_with(|ip| *ip).ok();
        let running = job.clone();
        let work = AssertUnwindSafe(work(progress)).catch_unwind();
        let task = async move {
            let outcome = match client {
                Some(ip) => CLIENT.scope(ip, work).await,
                None => work.await,
            };
            // The panic itself is logged where it happened; the job still ends.
            let answer = outcome.unwrap_or_else(|_| {
                let code = super::ErrorCode::Internal;
                Answer {
                    status: code.status(),
                    body: super::ErrorBody::new(
                        code,
                        "something went wrong on the server; it has been logged",
                        None,
                    )
                    .to_value(),
                }
            });
            // The place is free before anyone can see the job has ended.
            drop(slot);
            running.finished.send_replace(Some(Arc::new(Finished {
                at: Timestamp::now(),
                answer,
            })));
        };
        self.spawn_background(task.instrument(tracing::Span::current()));
        Ok(job)
    }

    /// Forgets a job whose answer went to the request that waited for it:
    /// nobody else knows its id.
    pub fn forget_job(&self, id: &str) {
        self.inner.jobs.lock().remove(id);
    }

    /// The job `id`, if `caller` started it or is an owner not narrowed by
    /// scopes (a backup's details are for owners only).
    pub fn job(&self, caller: &Principal, id: &str) -> Result<Arc<Job>, AppError> {
        let owner = caller.role == Role::Owner && caller.scopes.is_none();
        let jobs = self.inner.jobs.lock();
        jobs.get(id)
            .filter(|job| job.actor == caller.actor || owner)
            .filter(|job| {
                job.finished_at()
                    .is_none_or(|at| Timestamp::now().duration_since(at) < KEEP_FINISHED)
            })
            .cloned()
            .ok_or_else(|| AppError::NotFound {
                what: "job",
                key: id.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, finished: Option<Timestamp>) -> Arc<Job> {
        let job = Job {
            id: id.to_owned(),
            kind: "backup".into(),
            actor: Actor::cli(),
            started_at: Timestamp::UNIX_EPOCH,
            unit: ProgressUnit::Entries,
            progress: Arc::default(),
            finished: watch::Sender::new(None),
        };
        if let Some(at) = finished {
            job.finished.send_replace(Some(Arc::new(Finished {
                at,
                answer: Answer {
                    status: 201,
                    body: serde_json::Value::Null,
                },
            })));
        }
        Arc::new(job)
    }

    #[test]
    fn finished_jobs_are_forgotten_after_an_hour_and_the_oldest_first_when_full() {
        let jobs = Jobs::default();
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        let at = |minutes: i64| start + SignedDuration::from_mins(minutes);
        jobs.admit(job("running", None), at(0));
        jobs.admit(job("old", Some(at(0))), at(0));
        jobs.admit(job("recent", Some(at(30))), at(30));
        jobs.admit(job("new", None), at(61));
        let ids = |jobs: &Jobs| {
            let mut ids: Vec<String> = jobs.lock().keys().cloned().collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(&jobs), ["new", "recent", "running"]);

        for (i, minutes) in (0..MAX_KEPT).zip(62..) {
            jobs.admit(
                job(&format!("f{i:03}"), Some(at(minutes / 10 + 56))),
                at(62),
            );
        }
        let kept = ids(&jobs);
        assert_eq!(kept.len(), MAX_KEPT);
        // Running jobs are never pushed out; the oldest finished ones are.
        assert!(kept.contains(&"running".to_owned()) && kept.contains(&"new".to_owned()));
        assert!(!kept.contains(&"recent".to_owned()), "{kept:?}");
        assert!(kept.contains(&format!("f{:03}", MAX_KEPT - 1)));
    }

    #[test]
    fn files_jobs_left_behind_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            ".quarry-import-abc",
            ".quarry-bad-rows-x.csv",
            "quarry.redb",
            "notes.csv",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        remove_leftovers(dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["notes.csv", "quarry.redb"]);
    }

    #[test]
    fn progress_never_reads_past_its_total() {
        let progress = Progress::default();
        progress.set_done(10);
        assert_eq!(progress.get(), (0, 0));
        progress.set(5, 100);
        progress.set_done(250);
        assert_eq!(progress.get(), (100, 100));
    }
}
