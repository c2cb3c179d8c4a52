//! Use cases: each checks its rules against one store transaction, commits, and
//! only then lets derived views move on. The HTTP layer and the CLI both call
//! these; neither touches the store's tables.

pub mod account;
pub mod accounts;
pub mod backups;
pub mod batch;
pub mod catalogue;
pub mod cells;
pub mod cursor;
pub mod customers;
pub mod deliveries;
pub mod delivery;
mod error;
pub mod events;
pub mod exports;
pub mod idempotency;
pub mod images;
pub mod imports;
pub mod jobs;
pub mod labels;
pub mod ledger;
pub mod mail;
pub mod metrics;
pub mod quotes;
pub mod reports;
pub mod reprice;
pub mod search;
pub mod slots;
mod throttle;
pub mod valuation;
pub mod webhooks;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use catalogue::Precondition;
pub use error::{AppError, ErrorBody, ErrorCode, ErrorDetail};

use crate::config::Config;
use crate::domain::accounts::{Actor, Role, Scope, Username};
use crate::store::{ReadTx, Store, WriteTx, Writer};

/// Who is calling: the role they act with, the name changes are logged under,
/// and what narrows their rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    pub actor: Actor,
    /// A scoped token's scopes; `None`: all the role allows.
    pub scopes: Option<Vec<Scope>>,
    /// The user behind the call (a session, or a token made for a user).
    pub user: Option<Username>,
    /// The browser session the call came with, if it came with one.
    pub session: Option<accounts::SessionRef>,
    /// For a trade contact (the `contact` role): the customer they buy for.
    pub customer: Option<crate::domain::customers::CustomerCode>,
}

impl Principal {
    /// A principal with all its role allows (the command line, tests).
    pub fn new(role: Role, actor: Actor) -> Self {
        Self {
            role,
            actor,
            scopes: None,
            user: None,
            session: None,
            customer: None,
        }
    }

    /// Whether the principal's scopes allow `scope`.
    pub fn can(&self, scope: Scope) -> bool {
        self.scopes.as_ref().is_none_or(|s| s.contains(&scope))
    }

    /// A trade contact's login (from the name their changes are logged
    /// under), or `""` for anyone else.
    pub fn contact_login(&self) -> &str {
        self.actor
            .as_str()
            .strip_prefix("contact:")
            .filter(|_| self.customer.is_some())
            .unwrap_or_default()
    }

    /// Whether the principal may see quote `quote`: a contact only their
    /// customer's, anyone else if they may read what signed-in users read.
    pub fn may_see(&self, quote: &crate::domain::quotes::Quote) -> bool {
        match &self.customer {
            Some(own) => quote.customer.as_ref() == Some(own),
            None => self.reads(),
        }
    }

    /// Whether the principal may read what signed-in users read.
    pub fn reads(&self) -> bool {
        self.role >= Role::Viewer && self.can(Scope::Read)
    }
}

tokio::task_local! {
    /// The address of the client whose request the task serves.
    pub static CLIENT: std::net::IpAddr;
}

/// The address of the client whose request this task serves, if any.
pub fn client_address() -> Option<String> {
    CLIENT.try_with(ToString::to_string).ok()
}

/// The running application: configuration, store and writer. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    writer: Writer,
    /// Work that outlives the request that started it; waited for on close.
    background: TaskTracker,
    /// Cancelled at shutdown: ends live event streams.
    shutdown: CancellationToken,
    search: Arc<crate::search::SearchIndex>,
    cache: search::Cache,
    /// Searches the engine runs at once (one per core, doubled to cover
    /// the store reads that fill hits); the rest wait their turn without a
    /// thread. More at once is no faster on the cores there are, and each
    /// holds its own working memory.
    searching: tokio::sync::Semaphore,
    quotes: quotes::Cache,
    accounts: accounts::State,
    metrics: Arc<metrics::Metrics>,
    jobs: jobs::Jobs,
    /// The open live event streams, for their limits.
    streams: Arc<slots::Slots>,
    /// The exports being streamed, for their limits.
    exports: Arc<slots::Slots>,
    /// The client webhook messages are sent with, made when first needed.
    webhook_sender: std::sync::OnceLock<webhooks::send::Sender>,
    /// Paces webhook messages (`webhooks.max_messages_per_sec`).
    webhook_pace: Option<governor::DefaultDirectRateLimiter>,
    /// Wakes the mail worker when a message is queued.
    mail_wake: Arc<tokio::sync::Notify>,
}

impl App {
    /// Opens the store in the configured data dir, brings the search index up
    /// to it (rebuilding it if need be), and starts the writer.
    pub fn open(config: Config) -> anyhow::Result<Self> {
        Self::open_with(config, None)
    }

    /// [`App::open`] with the store's file operations going through `faults`
    /// (the I/O fault tests).
    pub fn open_with(
        config: Config,
        faults: Option<crate::store::faults::Faults>,
    ) -> anyhow::Result<Self> {
        let options = crate::store::Options {
            faults,
            lock_node: true,
            ..config.store.options()
        };
        let store = Store::open_with(&config.data_dir, options)?;
        // The store's lock is held: no other server is using these.
        jobs::remove_leftovers(&config.data_dir);
        let synonyms = crate::search::query::Synonyms::parse(&config.search.synonyms)
            .map_err(|e| anyhow::anyhow!("search.synonyms: {e}"))?;
        let search = Arc::new(crate::search::SearchIndex::open(&config.data_dir, &store)?);
        let writer = Writer::start(store.clone())?;
        let accounts = accounts::State::new(&config);
        let streams = slots::Slots::new(
            "live event streams",
            config.limits.event_streams_per_client as usize,
            config.limits.event_streams as usize,
        );
        let exports = slots::Slots::new("exports", exports::EXPORTS_PER_CLIENT, exports::EXPORTS);
        let webhook_pace = std::num::NonZeroU32::new(config.webhooks.max_messages_per_sec)
            .map(|rate| governor::RateLimiter::direct(governor::Quota::per_second(rate)));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store,
                writer,
                background: TaskTracker::new(),
                shutdown: CancellationToken::new(),
                search,
                cache: search::Cache::new(synonyms),
                searching: tokio::sync::Semaphore::new(
                    4 * std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
                ),
                quotes: quotes::Cache::default(),
                accounts,
                metrics: Arc::new(metrics::Metrics::new()),
                jobs: jobs::Jobs::default(),
                streams,
                exports,
                webhook_sender: std::sync::OnceLock::new(),
                webhook_pace,
                mail_wake: Arc::new(tokio::sync::Notify::new()),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn writer(&self) -> &Writer {
        &self.inner.writer
    }

    /// Waits for background work, finishes queued writes and stops the writer;
    /// the store closes when the last handle is dropped.
    pub async fn close(&self) {
        self.begin_shutdown();
        self.inner.background.close();
        self.inner.background.wait().await;
        self.inner.writer.shutdown().await;
    }

    /// Waits (up to `limit`) until this is the last handle on the application,
    /// so dropping it closes the store and frees the data file.
    pub async fn wait_until_sole_handle(&self, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while Arc::strong_count(&self.inner) > 1 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        true
    }

    /// Tells long-lived work (event streams) to end.
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// Runs `task` in the background until shutdown; [`App::close`] waits for
    /// it.
    pub fn spawn_task(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.spawn_background(task);
    }

    /// Runs `task` in the background; [`App::close`] waits for it.
    fn spawn_background(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.inner.background.spawn(task);
    }

    /// Runs `job` now and then every `period` until shutdown; [`App::close`]
    /// waits for a run in progress.
    pub fn repeat<F, Fut>(&self, period: std::time::Duration, job: F)
    where
        F: Fn(App) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let app = self.clone();
        self.spawn_background(async move {
            let stop = app.shutting_down();
            loop {
                job(app.clone()).await;
                tokio::select! {
                    () = tokio::time::sleep(period) => {}
                    () = stop.cancelled() => break,
                }
            }
        });
    }

    /// Every minute: expires quotes past their date (releasing their stock)
    /// and ends sessions that expired or went idle.
    pub fn keep_house(&self) {
        // After an I/O error, the store is reopened once the disk works again.
        self.repeat(std::time::Duration::from_millis(250), |app| async move {
            if app.inner.store.troubled() {
                app.inner.writer.heal();
            }
        });
        self.repeat(std::time::Duration::from_secs(60), |app| async move {
            // With several nodes on one database, one of them does this.
            if !app.inner.store.leads() {
                return;
            }
            match app.expire_quotes().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(quotes = n, "quotes expired; their stock released"),
                Err(error) => tracing::warn!(%error, "expiring quotes failed"),
            }
            match app.sweep_sessions().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(sessions = n, "ended expired sessions"),
                Err(error) => tracing::warn!(%error, "ending expired sessions failed"),
            }
        });
    }

    /// Whether the store answers reads.
    pub async fn ready(&self) -> bool {
        self.read(|tx| Ok(tx.last_seq()?)).await.is_ok()
    }

    /// Runs `f` on a fresh snapshot (inside a batch, the batch's), off the
    /// async runtime.
    async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&ReadTx) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(snapshot) = batch::snapshot() {
            return tokio::task::spawn_blocking(move || f(&snapshot))
                .await
                .map_err(|e| AppError::Internal(format!("read task failed: {e}")))?;
        }
        let store = self.inner.store.clone();
        let result = tokio::task::spawn_blocking(move || f(&store.read()?))
            .await
            .map_err(|e| AppError::Internal(format!("read task failed: {e}")))?;
        if let Err(AppError::Store(error)) = &result
            && self.inner.store.note_trouble(error)
        {
            // A failed read is the only sign of some I/O errors: the writer
            // checks the store and opens the file again.
            self.inner.writer.heal();
        }
        result
    }

    /// Runs `f` in the writer's next group commit (or, inside an atomic batch,
    /// in the batch's session).
    async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut WriteTx) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let client = client_address();
        match batch::session() {
            Some(session) => session.write(client, f).await,
            None => self.inner.writer.write_for(client, f).await,
        }
    }
}
