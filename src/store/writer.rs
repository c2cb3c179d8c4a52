//! The one writer: a thread that owns every write transaction of the server.
//!
//! Requests queue up while a commit is in flight; the writer then runs all of
//! them in **one** transaction and **one** durable commit (group commit), and
//! only after that commit returns answers each request. A request whose checks
//! fail is answered with its error and leaves the others alone.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot, watch};

use super::{Store, StoreError, WriteTx};

/// Most requests folded into one commit; the rest wait for the next one.
const MAX_GROUP: usize = 1024;
/// Requests that may wait for the writer before submitters wait for room.
const QUEUE: usize = 8192;

/// A queued write: runs inside the group's transaction, then is answered once
/// the commit is known.
trait Request: Send {
    /// Runs the use case; returns whether it failed.
    fn run(&mut self, tx: &mut WriteTx) -> bool;
    fn answer(self: Box<Self>, commit: Result<(), &Arc<StoreError>>);
}

struct Typed<F, T, E> {
    f: Option<F>,
    /// The address of the client the request is for.
    client: Option<String>,
    result: Option<Result<T, E>>,
    answer: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Request for Typed<F, T, E>
where
    F: FnOnce(&mut WriteTx) -> Result<T, E> + Send,
    T: Send,
    E: From<StoreError> + Send,
{
    fn run(&mut self, tx: &mut WriteTx) -> bool {
        let f = self.f.take().expect("a request runs once");
        tx.set_client(self.client.take());
        let result = f(tx);
        tx.set_client(None);
        let failed = result.is_err();
        self.result = Some(result);
        failed
    }

    fn answer(self: Box<Self>, commit: Result<(), &Arc<StoreError>>) {
        let result = match (self.result, commit) {
            (Some(result), Ok(())) => result,
            // A request that failed its own checks reports that, not the group's fate.
            (Some(Err(own)), Err(_)) => Err(own),
            (_, Err(error)) => Err(E::from(shared_error(error))),
            (None, Ok(())) => Err(E::from(StoreError::Bug("a write request never ran"))),
        };
        let _ = self.answer.send(result);
    }
}

type Job = Box<dyn Request>;

enum Message {
    Write(Job),
    /// Run a session: one transaction for a series of requests, committed or
    /// dropped as a whole when the session says so.
    Session(SessionStart),
    /// Run one request in a transaction of its own: committed if it succeeds,
    /// rolled back if it fails, whatever it wrote (all-or-nothing work such as
    /// an import, which checks as it goes).
    Alone(Job),
    /// Check that the store still works after an I/O error, and reopen it
    /// when the disk does again.
    Heal,
    /// Checkpoint the journal if one is due (sent every second).
    Checkpoint,
    /// Finish what is queued before this, then stop.
    Stop,
}

/// The longest a session may hold the writer; past it, it is rolled back.
const SESSION_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// How a commit went.
type Outcome = Result<(), Arc<StoreError>>;

struct SessionStart {
    requests: std::sync::mpsc::Receiver<SessionMessage>,
    done: oneshot::Sender<Outcome>,
}

enum SessionMessage {
    Run(Box<dyn SessionRequest>),
    Finish { commit: bool },
}

trait SessionRequest: Send {
    /// Runs the request and answers it at once (the commit comes later).
    fn run(self: Box<Self>, tx: &mut WriteTx);
}

struct SessionTyped<F, T, E> {
    f: F,
    client: Option<String>,
    answer: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> SessionRequest for SessionTyped<F, T, E>
where
    F: FnOnce(&mut WriteTx) -> Result<T, E> + Send,
    T: Send,
    E: Send,
{
    fn run(self: Box<Self>, tx: &mut WriteTx) {
        tx.set_client(self.client);
        let _ = self.answer.send((self.f)(tx));
        tx.set_client(None);
    }
}

/// A series of writes in one transaction that commits only when
/// [`Session::finish`] says so, and all at once: the atomic batch. The writer
/// serves nothing else meanwhile, so a session must be short.
pub struct Session {
    requests: std::sync::mpsc::Sender<SessionMessage>,
    done: std::sync::Mutex<Option<oneshot::Receiver<Outcome>>>,
}

impl Session {
    /// Runs `f` in the session's transaction and returns its result at once.
    pub async fn write<T, E, F>(&self, client: Option<String>, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        self.requests
            .send(SessionMessage::Run(Box::new(SessionTyped {
                f,
                client,
                answer,
            })))
            .map_err(|_| E::from(StoreError::GroupAborted))?;
        answered
            .await
            .map_err(|_| E::from(StoreError::GroupAborted))?
    }

    /// Commits (durably) or rolls back everything the session wrote.
    pub async fn finish(&self, commit: bool) -> Result<(), StoreError> {
        let done = self.done.lock().expect("session lock").take();
        let Some(done) = done else {
            return Err(StoreError::Bug("a session was finished twice"));
        };
        let _ = self.requests.send(SessionMessage::Finish { commit });
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(shared_error(&error)),
            Err(_) => Err(StoreError::WriterStopped),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Unfinished: roll back (a no-op once finished).
        let _ = self.requests.send(SessionMessage::Finish { commit: false });
    }
}

/// Upper bounds of the buckets that committed groups are counted in by their
/// number of requests; one more bucket counts larger groups.
pub const GROUP_SIZE_BUCKETS: [u64; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/// Upper bounds, in seconds, of the buckets checkpoints are counted in by
/// how long they took.
pub const CHECKPOINT_BUCKETS: [f64; 10] =
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// Counters for metrics and tests.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Durable commits (each one fsync'd transaction).
    pub commits: AtomicU64,
    pub requests: AtomicU64,
    pub failed_commits: AtomicU64,
    /// Movements booked by committed transactions.
    pub movements: AtomicU64,
    /// Requests in committed groups.
    pub committed_requests: AtomicU64,
    /// Committed groups by size: entry `i` counts the groups of at most
    /// `GROUP_SIZE_BUCKETS[i]` requests (and more than the bucket before); the
    /// last entry the groups larger than every bucket.
    pub group_sizes: [AtomicU64; GROUP_SIZE_BUCKETS.len() + 1],
    /// Checkpoints of the journal (durable commits of the data file), their
    /// total time in microseconds, and their count by duration: entry `i`
    /// those of at most `CHECKPOINT_BUCKETS[i]` seconds, the last the rest.
    pub checkpoints: AtomicU64,
    pub checkpoint_micros: AtomicU64,
    pub checkpoint_times: [AtomicU64; CHECKPOINT_BUCKETS.len() + 1],
}

impl WriterStats {
    /// Counts a checkpoint that took `took`.
    fn checkpointed(&self, took: std::time::Duration) {
        let secs = took.as_secs_f64();
        let bucket = CHECKPOINT_BUCKETS
            .iter()
            .position(|&bound| secs <= bound)
            .unwrap_or(CHECKPOINT_BUCKETS.len());
        self.checkpoints.fetch_add(1, Ordering::Relaxed);
        self.checkpoint_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.checkpoint_times[bucket].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a committed group of `size` requests that booked `movements`.
    fn committed(&self, size: usize, movements: u64) {
        let size = size as u64;
        let bucket = GROUP_SIZE_BUCKETS
            .iter()
            .position(|&bound| size <= bound)
            .unwrap_or(GROUP_SIZE_BUCKETS.len());
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.committed_requests.fetch_add(size, Ordering::Relaxed);
        self.movements.fetch_add(movements, Ordering::Relaxed);
        self.group_sizes[bucket].fetch_add(1, Ordering::Relaxed);
    }
}

/// A handle for submitting writes. [`Writer::shutdown`] lets the thread finish
/// what is queued and waits for it; so does dropping the last handle, without
/// the wait.
pub struct Writer {
    queue: mpsc::Sender<Message>,
    stats: Arc<WriterStats>,
    committed: watch::Receiver<u64>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
    /// With PostgreSQL: cleared to stop the thread following other nodes'
    /// commits.
    following: Arc<AtomicBool>,
    /// The follower thread, joined on shutdown: it holds the leader lock
    /// until it ends, and the next server should find it free.
    follower: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.following.store(false, Ordering::Relaxed);
    }
}

impl Writer {
    /// Starts the writer thread for `store`.
    pub fn start(store: Store) -> Result<Self, StoreError> {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let stats = Arc::new(WriterStats::default());
        let (seq_tx, committed) = watch::channel(store.read()?.last_seq()?);
        let thread_stats = Arc::clone(&stats);
        let seq_tx = Arc::new(seq_tx);
        let following = Arc::new(AtomicBool::new(true));
        let follower = store
            .start_follower(Arc::clone(&following), Arc::clone(&seq_tx))
            .map_err(|source| StoreError::Io {
                path: "change-log follower thread".into(),
                source,
            })?;
        let ticks = store.has_journal().then(|| queue.downgrade());
        let thread = std::thread::Builder::new()
            .name("quarry-writer".into())
            .spawn(move || run(&store, jobs, &seq_tx, &thread_stats))
            .map_err(|source| StoreError::Io {
                path: "writer thread".into(),
                source,
            })?;
        if let Some(ticks) = ticks {
            // Asks for the journal's timed checkpoints; ends with the writer.
            std::thread::Builder::new()
                .name("quarry-checkpoints".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(1));
                        let Some(queue) = ticks.upgrade() else {
                            return;
                        };
                        if matches!(
                            queue.try_send(Message::Checkpoint),
                            Err(mpsc::error::TrySendError::Closed(_))
                        ) {
                            return;
                        }
                    }
                })
                .map_err(|source| StoreError::Io {
                    path: "checkpoint thread".into(),
                    source,
                })?;
        }
        Ok(Self {
            queue,
            stats,
            committed,
            thread: std::sync::Mutex::new(Some(thread)),
            following,
            follower: std::sync::Mutex::new(follower),
        })
    }

    /// Runs `f` in the next group's transaction and resolves once that
    /// transaction is durably committed (or failed). `f` must make all its checks
    /// before it writes anything.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.write_for(None, f).await
    }

    /// [`Writer::write`] for a client at `client` (recorded in the change log).
    pub async fn write_for<T, E, F>(&self, client: Option<String>, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.submit(client, f, Message::Write).await
    }

    /// Runs `f` in a transaction of its own, after the requests queued before
    /// it: committed durably if `f` succeeds, rolled back if it fails, even
    /// after writing. Other requests wait meanwhile, so `f` should not be long.
    pub async fn write_alone<T, E, F>(&self, client: Option<String>, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.submit(client, f, Message::Alone).await
    }

    async fn submit<T, E, F>(
        &self,
        client: Option<String>,
        f: F,
        message: fn(Job) -> Message,
    ) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(Typed {
            f: Some(f),
            client,
            result: None,
            answer,
        });
        self.queue
            .send(message(job))
            .await
            .map_err(|_| E::from(StoreError::WriterStopped))?;
        answered
            .await
            .map_err(|_| E::from(StoreError::WriterStopped))?
    }

    /// Starts a session once the requests queued before it are committed.
    pub async fn session(&self) -> Result<Session, StoreError> {
        let (requests, receiver) = std::sync::mpsc::channel();
        let (done, finished) = oneshot::channel();
        self.queue
            .send(Message::Session(SessionStart {
                requests: receiver,
                done,
            }))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        Ok(Session {
            requests,
            done: std::sync::Mutex::new(Some(finished)),
        })
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Asks the writer, when it is free, to check that the store still works
    /// and to reopen it if an I/O error broke it (see `Store::recover`).
    pub fn heal(&self) {
        let _ = self.queue.try_send(Message::Heal);
    }

    /// Follows the `seq` of the newest committed change.
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.committed.clone()
    }

    /// Lets the writer finish every request queued so far, stop, and waits for
    /// it. Requests submitted afterwards fail with [`StoreError::WriterStopped`].
    pub async fn shutdown(&self) {
        self.following.store(false, Ordering::Relaxed);
        let _ = self.queue.send(Message::Stop).await;
        let follower = self.follower.lock().expect("follower lock").take();
        if let Some(follower) = follower {
            let _ = tokio::task::spawn_blocking(move || follower.join()).await;
        }
        let thread = self.thread.lock().expect("writer lock").take();
        if let Some(thread) = thread {
            let joined = tokio::task::spawn_blocking(move || thread.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!("the writer thread panicked");
            }
        }
    }
}

fn shared_error(error: &Arc<StoreError>) -> StoreError {
    match error.as_ref() {
        StoreError::GroupAborted => StoreError::GroupAborted,
        _ => StoreError::CommitFailed(Arc::clone(error)),
    }
}

fn run(
    store: &Store,
    mut jobs: mpsc::Receiver<Message>,
    committed: &watch::Sender<u64>,
    stats: &WriterStats,
) {
    let mut group: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    let mut held: Option<Message> = None;
    loop {
        let first = match held.take() {
            Some(message) => Some(message),
            None => jobs.blocking_recv(),
        };
        match first {
            Some(Message::Write(job)) => group.push(job),
            Some(Message::Session(start)) => {
                run_session(store, start, committed, stats);
                continue;
            }
            Some(Message::Alone(mut job)) => {
                let (outcome, done) = commit_alone(store, &mut job);
                stats.requests.fetch_add(1, Ordering::Relaxed);
                // A request refusing itself is not a failed commit.
                let refused = matches!(&outcome, Err(e) if matches!(**e, StoreError::GroupAborted));
                if refused {
                    store.heal();
                } else {
                    record(store, &outcome, done, 1, committed, stats);
                }
                answer_then_checkpoint(store, stats, || {
                    job.answer(outcome.as_ref().copied());
                });
                continue;
            }
            Some(Message::Heal) => {
                store.heal();
                continue;
            }
            Some(Message::Checkpoint) => {
                checkpoint(store, stats);
                continue;
            }
            Some(Message::Stop) | None => break,
        }
        let mut stopping = false;
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(Message::Write(job)) => group.push(job),
                Ok(Message::Checkpoint) => {}
                Ok(Message::Stop) => {
                    stopping = true;
                    break;
                }
                Ok(session) => {
                    held = Some(session);
                    break;
                }
                Err(_) => break,
            }
        }
        let size = group.len();
        let (outcome, done) = commit_group(store, &mut group);
        stats.requests.fetch_add(size as u64, Ordering::Relaxed);
        record(store, &outcome, done, size, committed, stats);
        answer_then_checkpoint(store, stats, || {
            for job in group.drain(..) {
                job.answer(outcome.as_ref().copied());
            }
        });
        if stopping {
            break;
        }
    }
    // Stopping: the data file takes everything the journal holds.
    if let Err(error) = store.checkpoint() {
        tracing::warn!(%error, "the journal could not be checkpointed on stopping; it is replayed on the next start");
    }
}

/// What a committed transaction did.
#[derive(Debug, Clone, Copy, Default)]
struct Done {
    /// The last `seq` it logged.
    last_seq: u64,
    /// The movements it booked.
    movements: u64,
}

impl Done {
    fn of(tx: &WriteTx) -> Self {
        Self {
            last_seq: tx.last_seq,
            movements: tx.movements,
        }
    }
}

fn record(
    store: &Store,
    outcome: &Result<(), Arc<StoreError>>,
    Done {
        last_seq,
        movements,
    }: Done,
    size: usize,
    committed: &watch::Sender<u64>,
    stats: &WriterStats,
) {
    match outcome {
        Ok(()) => {
            stats.committed(size, movements);
            committed.send_if_modified(|seq| {
                let moved = last_seq > *seq;
                *seq = (*seq).max(last_seq);
                moved
            });
            tracing::debug!(requests = size, seq = last_seq, "group committed");
        }
        Err(error) => {
            stats.failed_commits.fetch_add(1, Ordering::Relaxed);
            tracing::error!(requests = size, %error, "group commit failed");
            store.note_trouble(error);
            // An I/O error may be behind it, even when a request reported it:
            // recover before the requests hear of it, so the reads they make
            // next find the file open again (read-only while the disk refuses
            // writes).
            store.heal();
        }
    }
}

/// Runs a session's requests in one transaction until it asks to finish, runs
/// past [`SESSION_LIMIT`], or goes away.
fn run_session(
    store: &Store,
    start: SessionStart,
    committed: &watch::Sender<u64>,
    stats: &WriterStats,
) {
    let mut tx = match store.begin_write() {
        Ok(tx) => tx,
        Err(error) => {
            let _ = start.done.send(Err(Arc::new(error)));
            return;
        }
    };
    let deadline = std::time::Instant::now() + SESSION_LIMIT;
    let mut size = 0;
    let mut poisoned = false;
    let outcome = loop {
        let wait = deadline.saturating_duration_since(std::time::Instant::now());
        match start.requests.recv_timeout(wait) {
            Ok(SessionMessage::Run(request)) => {
                size += 1;
                if catch_unwind(AssertUnwindSafe(|| request.run(&mut tx))).is_err() {
                    tracing::error!("a request in a session panicked; the session is rolled back");
                    poisoned = true;
                }
            }
            Ok(SessionMessage::Finish { commit: true }) if !poisoned => {
                let done = Done::of(&tx);
                let outcome = tx.commit().map_err(Arc::new);
                stats.requests.fetch_add(size, Ordering::Relaxed);
                record(
                    store,
                    &outcome,
                    done,
                    usize::try_from(size).unwrap_or(usize::MAX),
                    committed,
                    stats,
                );
                break outcome;
            }
            Ok(SessionMessage::Finish { .. }) | Err(_) => {
                tx.abort();
                break Err(Arc::new(StoreError::GroupAborted));
            }
        }
    };
    answer_then_checkpoint(store, stats, || {
        let _ = start.done.send(outcome);
    });
}

/// Answers a commit's requests, and checkpoints the journal when one is
/// due: after the answers, or before them when every commit is to be in the
/// data file before it is acknowledged.
fn answer_then_checkpoint(store: &Store, stats: &WriterStats, answer: impl FnOnce()) {
    if store.checkpoints_each_commit() {
        checkpoint(store, stats);
        answer();
    } else {
        answer();
        checkpoint(store, stats);
    }
}

/// Checkpoints the journal if one is due, and counts it.
fn checkpoint(store: &Store, stats: &WriterStats) {
    if let Some(took) = store.checkpoint_if_due() {
        stats.checkpointed(took);
    }
}

/// Runs every request of the group in one transaction and commits it; returns
/// the outcome and what was committed. A request that panics, or that fails
/// after it wrote something (a bug in its use case), aborts the whole group:
/// committing none of it is the only safe choice.
/// Runs one request in its own transaction; its failure rolls back only it.
/// A failed request's outcome is `GroupAborted`, which its answer replaces
/// with its own error.
fn commit_alone(store: &Store, job: &mut Job) -> (Result<(), Arc<StoreError>>, Done) {
    let mut tx = match store.begin_write() {
        Ok(tx) => tx,
        Err(error) => return (Err(Arc::new(error)), Done::default()),
    };
    match catch_unwind(AssertUnwindSafe(|| job.run(&mut tx))) {
        Ok(false) => {
            let done = Done::of(&tx);
            match tx.commit() {
                Ok(()) => (Ok(()), done),
                Err(error) => (Err(Arc::new(error)), Done::default()),
            }
        }
        Ok(true) => {
            tx.abort();
            (Err(Arc::new(StoreError::GroupAborted)), Done::default())
        }
        Err(_) => {
            tracing::error!("a write request panicked; its transaction is rolled back");
            tx.abort();
            (Err(Arc::new(StoreError::GroupAborted)), Done::default())
        }
    }
}

fn commit_group(store: &Store, group: &mut [Job]) -> (Result<(), Arc<StoreError>>, Done) {
    let mut tx = match store.begin_write() {
        Ok(tx) => tx,
        Err(error) => return (Err(Arc::new(error)), Done::default()),
    };
    for job in group.iter_mut() {
        let before = tx.writes();
        match catch_unwind(AssertUnwindSafe(|| job.run(&mut tx))) {
            Ok(false) => {}
            Ok(true) if tx.writes() == before && !tx.broken() => {}
            Ok(true) => {
                tracing::error!("a write request failed after writing; its group is aborted");
                tx.abort();
                return (Err(Arc::new(StoreError::GroupAborted)), Done::default());
            }
            Err(_) => {
                tracing::error!("a write request panicked; its group is aborted");
                tx.abort();
                return (Err(Arc::new(StoreError::GroupAborted)), Done::default());
            }
        }
    }
    let done = Done::of(&tx);
    match tx.commit() {
        Ok(()) => (Ok(()), done),
        Err(error) => (Err(Arc::new(error)), Done::default()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::sync::{Arc, Barrier};

    use super::*;
    use crate::domain::accounts::Actor;
    use crate::domain::locations::{Location, LocationCode, LocationInput};
    use crate::store::ChangeKind;

    fn location(code: &str) -> Location {
        Location::create(
            LocationInput {
                code: LocationCode::parse(code).unwrap(),
                name: crate::domain::locations::LocationName::parse("Shelf").unwrap(),
                active: true,
            },
            jiff::Timestamp::now(),
        )
    }

    fn put(tx: &mut WriteTx, code: &str) -> Result<(), StoreError> {
        tx.put_location(&location(code))?;
        tx.record(
            ChangeKind::LocationCreated,
            code,
            &Actor::system(),
            &crate::store::payloads::LocationChanged {
                version: 1,
                changes: Vec::new(),
            },
        )?;
        Ok(())
    }

    fn writer() -> (tempfile::TempDir, Store, Arc<Writer>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let writer = Arc::new(Writer::start(store.clone()).unwrap());
        (dir, store, writer)
    }

    /// Submits a request that holds the writer inside its transaction until the
    /// returned barrier is passed, and waits until it is running.
    async fn hold(
        writer: &Arc<Writer>,
    ) -> (
        Arc<Barrier>,
        tokio::task::JoinHandle<Result<(), StoreError>>,
    ) {
        let gate = Arc::new(Barrier::new(2));
        let (started, running) = oneshot::channel();
        let held = gate.clone();
        let task = tokio::spawn({
            let writer = writer.clone();
            async move {
                writer
                    .write(move |tx| {
                        let _ = started.send(());
                        held.wait();
                        put(tx, "FIRST")
                    })
                    .await
            }
        });
        running.await.unwrap();
        (gate, task)
    }

    /// Waits until `n` requests wait in the queue.
    async fn queued(writer: &Writer, n: usize) {
        while writer.queue.capacity() > QUEUE - n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn work_alone_that_fails_after_writing_rolls_back_only_itself() {
        let (_dir, store, writer) = writer();
        let neighbour = {
            let writer = writer.clone();
            tokio::spawn(async move { writer.write(|tx| put(tx, "NEXT")).await })
        };
        let failed: Result<(), StoreError> = writer
            .write_alone(None, |tx| {
                put(tx, "A")?;
                put(tx, "B")?;
                Err(StoreError::Bug("row 3 is bad"))
            })
            .await;
        assert!(
            matches!(failed, Err(StoreError::Bug("row 3 is bad"))),
            "{failed:?}"
        );
        neighbour.await.unwrap().unwrap();
        writer.write_alone(None, |tx| put(tx, "C")).await.unwrap();
        let tx = store.read().unwrap();
        let code = |c: &str| crate::domain::locations::LocationCode::parse(c).unwrap();
        assert!(tx.location(&code("A")).unwrap().is_none());
        assert!(tx.location(&code("B")).unwrap().is_none());
        assert!(tx.location(&code("NEXT")).unwrap().is_some());
        assert!(tx.location(&code("C")).unwrap().is_some());
        assert_eq!(writer.stats().failed_commits.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn requests_queued_during_a_commit_share_the_next_commit() {
        let (_dir, store, writer) = writer();
        let (gate, first) = hold(&writer).await;
        let waiting: Vec<_> = (0..50)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.write(move |tx| put(tx, &format!("L{i}"))).await })
            })
            .collect();
        queued(&writer, 50).await;
        tokio::task::spawn_blocking(move || gate.wait())
            .await
            .unwrap();
        first.await.unwrap().unwrap();
        for task in waiting {
            task.await.unwrap().unwrap();
        }
        assert_eq!(writer.stats().commits.load(Ordering::Relaxed), 2);
        assert_eq!(writer.stats().requests.load(Ordering::Relaxed), 51);
        assert_eq!(store.read().unwrap().last_seq().unwrap(), 1 + 51);
        // One group of 1, one of 50 (in the bucket up to 64).
        let sizes: Vec<u64> = writer
            .stats()
            .group_sizes
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect();
        assert_eq!(sizes, [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
        assert_eq!(
            writer.stats().committed_requests.load(Ordering::Relaxed),
            51
        );
    }

    #[tokio::test]
    async fn a_request_that_fails_its_checks_fails_alone() {
        let (_dir, store, writer) = writer();
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .write(move |tx| {
                            if i == 3 {
                                return Err(StoreError::Bug("refused"));
                            }
                            put(tx, &format!("L{i}"))
                        })
                        .await
                })
            })
            .collect();
        let mut failed = 0;
        for task in tasks {
            if task.await.unwrap().is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 1);
        let tx = store.read().unwrap();
        assert!(
            tx.location(&LocationCode::parse("L3").unwrap())
                .unwrap()
                .is_none()
        );
        assert!(
            tx.location(&LocationCode::parse("L4").unwrap())
                .unwrap()
                .is_some()
        );
    }

    #[tokio::test]
    async fn a_request_that_fails_after_writing_takes_its_group_down_and_nothing_is_written() {
        let (_dir, store, writer) = writer();
        let (gate, first) = hold(&writer).await;
        let good = tokio::spawn({
            let writer = writer.clone();
            async move { writer.write(|tx| put(tx, "GOOD")).await }
        });
        let bad = tokio::spawn({
            let writer = writer.clone();
            async move {
                writer
                    .write(|tx| -> Result<(), StoreError> {
                        put(tx, "HALF")?;
                        Err(StoreError::Bug("failed after writing"))
                    })
                    .await
            }
        });
        queued(&writer, 2).await;
        tokio::task::spawn_blocking(move || gate.wait())
            .await
            .unwrap();
        first.await.unwrap().unwrap();
        let good = good.await.unwrap();
        let bad = bad.await.unwrap();
        assert!(matches!(bad, Err(StoreError::Bug(_))), "{bad:?}");
        assert!(matches!(good, Err(StoreError::GroupAborted)), "{good:?}");
        let tx = store.read().unwrap();
        assert!(
            tx.location(&LocationCode::parse("HALF").unwrap())
                .unwrap()
                .is_none()
        );
        assert!(
            tx.location(&LocationCode::parse("GOOD").unwrap())
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .read()
                .unwrap()
                .find_change_log_gap()
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn shutdown_finishes_what_is_queued_and_refuses_what_comes_after() {
        let (_dir, store, writer) = writer();
        writer.write(|tx| put(tx, "BEFORE")).await.unwrap();
        writer.shutdown().await;
        let after = writer.write(|tx| put(tx, "AFTER")).await;
        assert!(matches!(after, Err(StoreError::WriterStopped)));
        let tx = store.read().unwrap();
        assert!(
            tx.location(&LocationCode::parse("BEFORE").unwrap())
                .unwrap()
                .is_some()
        );
    }
}
