//! Long work started over HTTP (imports, backups) runs as a job: it goes on
//! when the request that started it ends, says how far it has got, and keeps
//! the answer it ended with for an hour, for whoever started it (or an owner)
//! to collect at `/api/v1/jobs/{id}`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

use super::{App, AppError, CLIENT, Principal};
use crate::domain::accounts::{Actor, Role};

/// How long a finished job's answer is kept.
const KEEP_FINISHED: SignedDuration = SignedDuration::from_hours(1);
/// Jobs running at once; more are refused until one ends.
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

/// How far a piece of work has got: `done` of `total` (0 while unknown).
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    pub fn set(&self, done: u64, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done.min(total), Ordering::Relaxed);
    }

    pub fn set_done(&self, done: u64) {
        let total = self.total.load(Ordering::Relaxed);
        self.done.store(done.min(total), Ordering::Relaxed);
    }

    fn get(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
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
}

/// The jobs the server remembers.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: Mutex<HashMap<String, Arc<Job>>>,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Job>>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many jobs are running now.
    pub fn running(&self) -> usize {
        self.lock()
            .values()
            .filter(|j| j.finished_at().is_none())
            .count()
    }

    /// Makes room for one more job: forgets expired ones, then the oldest
    /// finished ones beyond [`MAX_KEPT`]; refuses when too many run.
    fn admit(&self, job: Arc<Job>) -> Result<(), AppError> {
        let mut jobs = self.lock();
        let now = Timestamp::now();
        jobs.retain(|_, j| {
            j.finished_at()
                .is_none_or(|at| now.duration_since(at) < KEEP_FINISHED)
        });
        let running = jobs.values().filter(|j| j.finished_at().is_none()).count();
        if running >= MAX_RUNNING {
            return Err(AppError::TooManyRequests {
                message: format!(
                    "{running} imports or backups are running; try again when one has finished"
                ),
                retry_after: std::time::Duration::from_secs(5),
            });
        }
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
        Ok(())
    }
}

/// A 128-bit random id in hex.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system has a random source");
    crate::auth::hex(&bytes)
}

impl App {
    /// Starts `work` as a job of `caller`'s. It runs to its end even if the
    /// request that started it goes away, with the client address of that
    /// request (for the audit log); [`App::close`] waits for it.
    pub fn start_job<W, F>(
        &self,
        caller: &Principal,
        kind: &str,
        unit: ProgressUnit,
        work: W,
    ) -> Result<Arc<Job>, AppError>
    where
        W: FnOnce(Arc<Progress>) -> F,
        F: Future<Output = Answer> + Send + 'static,
    {
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
        self.inner.jobs.admit(job.clone())?;
        let client = CLIENT.try_with(|ip| *ip).ok();
        let running = job.clone();
        let work = work(progress);
        self.spawn_background(async move {
            let answer = match client {
                Some(ip) => CLIENT.scope(ip, work).await,
                None => work.await,
            };
            running.finished.send_replace(Some(Arc::new(Finished {
                at: Timestamp::now(),
                answer,
            })));
        });
        Ok(job)
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
