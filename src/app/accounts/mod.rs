//! Accounts: users, API tokens, browser sessions, the first-run setup link,
//! sign-in throttling, and turning credentials into a
//! [`Principal`](super::Principal). The command line runs the store-level
//! functions directly; the server goes through its writer. Passwords are
//! hashed outside any transaction, a few at a time, because hashing is slow
//! and memory-hungry on purpose.
//!
//! `users.rs` adds, changes and disables users; `tokens.rs` makes, revokes and
//! checks API tokens; `sessions.rs` signs browsers in and out and runs the
//! setup link; `audit.rs` reads the audit log; [`local`] is the command line's
//! way in.

mod audit;
mod contacts;
mod resets;
mod sessions;
mod tokens;
mod users;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use tokio::sync::Semaphore;

pub use audit::{AuditEntry, AuditFilter};
pub use contacts::{ContactList, InviteAcceptance, InviteView, NewInvite, add_contact_in};
pub use resets::{ForgotRequest, ResetLink, ResetRequest};
pub use sessions::{Credentials, Me, SessionRef, SessionView, SetupRequest, SignedIn};
pub use tokens::{NewToken, TokenInput, TokenRequest, create_token, list_tokens, revoke_token};
pub use users::{
    NewUser, PasswordChange, UserPatch, add_user, disable_user, list_users, set_password,
};

use sessions::SetupLink;

use super::throttle::Throttle;
use super::{App, AppError};
use crate::config::Config;
use crate::domain::accounts::Username;

/// A token's or session's last use is written at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Sign-in input longer than this is refused without hashing it.
const LONGEST_SIGN_IN_FIELD: usize = 1024;

/// In-memory state of the accounts use cases.
pub(super) struct State {
    /// When each token's or session's use was last written, so reads rarely write.
    touched: Mutex<HashMap<String, Instant>>,
    /// Failed sign-ins per account and per address.
    throttle: Throttle,
    /// Tokens found usable, by the SHA-256 of their secret, with the
    /// store's accounts epoch when they were read: trusted again only while
    /// the epoch is unchanged (no token or user was written since) and the
    /// token has not expired meanwhile.
    tokens: Mutex<HashMap<String, (u64, crate::domain::accounts::ApiToken)>>,
    /// The one setup link, while no owner exists.
    setup: Mutex<Option<SetupLink>>,
    /// Password checks running at once: each takes 19 MiB and a core for tens
    /// of milliseconds, so a flood of sign-ins queues instead of exhausting
    /// memory.
    hashing: Semaphore,
    idle: SignedDuration,
    lifetime: SignedDuration,
}

impl State {
    pub(super) fn new(config: &Config) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            touched: Mutex::default(),
            throttle: Throttle::new(config.auth.login_failures_per_minute),
            tokens: Mutex::default(),
            setup: Mutex::default(),
            hashing: Semaphore::new(cores * 2),
            idle: SignedDuration::from_mins(i64::from(config.auth.session_idle_minutes)),
            lifetime: SignedDuration::from_hours(i64::from(config.auth.session_max_hours)),
        }
    }
}

fn user_not_found(name: &Username) -> AppError {
    AppError::NotFound {
        what: "user",
        key: name.to_string(),
    }
}

impl App {
    /// Whether the use of `key` was written less than a minute ago (and if
    /// not, notes that it is about to be).
    fn recently_touched(&self, key: String) -> bool {
        let mut touched = self.inner.accounts.touched.lock().expect("touch lock");
        if touched
            .get(&key)
            .is_some_and(|at| at.elapsed() < TOUCH_EVERY)
        {
            return true;
        }
        if touched.len() > 10_000 {
            touched.retain(|_, at| at.elapsed() < TOUCH_EVERY);
        }
        touched.insert(key, Instant::now());
        false
    }
}

/// Command-line helpers: one transaction each on a store the CLI opened.
pub mod local {
    use super::{AppError, NewToken, TokenRequest};
    use crate::auth;
    use crate::domain::accounts::{
        Actor, Password, Role, TokenName, TokenView, UserView, Username,
    };
    use crate::store::Store;

    pub fn add_user(
        store: &Store,
        username: Username,
        role: Role,
        password: &Password,
    ) -> Result<UserView, AppError> {
        let hash = auth::hash_password(password);
        store.write(|tx| super::add_user(tx, &Actor::cli(), username, role, hash, None))
    }

    pub fn set_password(
        store: &Store,
        username: &Username,
        password: &Password,
    ) -> Result<UserView, AppError> {
        let hash = auth::hash_password(password);
        store.write(|tx| super::set_password(tx, &Actor::cli(), username, hash))
    }

    /// Adds a trade contact with a password to customer `code`.
    pub fn add_contact(
        store: &Store,
        code: &crate::domain::customers::CustomerCode,
        (email, name): (
            &crate::domain::quotes::Email,
            &crate::domain::quotes::ContactName,
        ),
        password: &Password,
    ) -> Result<crate::domain::contacts::ContactView, AppError> {
        let hash = auth::hash_password(password);
        let actor = Actor::cli();
        store.write(|tx| {
            super::add_contact_in(tx, &actor, &actor, code, (email, name), hash)
                .map(|c| crate::domain::contacts::ContactView::from(&c))
        })
    }

    pub fn disable_user(store: &Store, username: &Username) -> Result<UserView, AppError> {
        store.write(|tx| super::disable_user(tx, &Actor::cli(), username))
    }

    pub fn list_users(store: &Store) -> Result<Vec<UserView>, AppError> {
        super::list_users(&store.read()?)
    }

    pub fn create_token(store: &Store, request: TokenRequest) -> Result<NewToken, AppError> {
        store.write(|tx| super::create_token(tx, &Actor::cli(), request))
    }

    pub fn list_tokens(store: &Store) -> Result<Vec<TokenView>, AppError> {
        super::list_tokens(&store.read()?)
    }

    pub fn revoke_token(store: &Store, name: &TokenName) -> Result<TokenView, AppError> {
        store.write(|tx| super::revoke_token(tx, &Actor::cli(), name))
    }
}
