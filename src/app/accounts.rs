//! Accounts: users, API tokens, browser sessions, the first-run setup link,
//! sign-in throttling, and turning credentials into a [`Principal`]. The
//! command line runs the store-level functions directly; the server goes
//! through its writer. Passwords are hashed outside any transaction, a few at
//! a time, because hashing is slow and memory-hungry on purpose.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use super::ErrorCode;
use super::cursor::Listing;
use super::throttle::Throttle;
use super::{App, AppError, Principal, cursor};
use crate::auth;
use crate::config::Config;
use crate::domain::accounts::{
    Actor, ApiToken, Password, Role, Scope, Session, TokenName, TokenView, User, UserView, Username,
};
use crate::store::{Change, ChangeKind, ReadTx, Store, WriteTx, payloads};

/// A token's or session's last use is written at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// A setup link works this long after `quarry serve` printed it.
const SETUP_LINK_LIFETIME: Duration = Duration::from_secs(3600);
/// Sign-in input longer than this is refused without hashing it.
const LONGEST_SIGN_IN_FIELD: usize = 1024;

/// In-memory state of the accounts use cases.
pub(super) struct State {
    /// When each token's or session's use was last written, so reads rarely write.
    touched: Mutex<HashMap<String, Instant>>,
    /// Failed sign-ins per account and per address.
    throttle: Throttle,
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
            setup: Mutex::default(),
            hashing: Semaphore::new(cores * 2),
            idle: SignedDuration::from_mins(i64::from(config.auth.session_idle_minutes)),
            lifetime: SignedDuration::from_hours(i64::from(config.auth.session_max_hours)),
        }
    }
}

struct SetupLink {
    hash: String,
    expires: Instant,
}

/// A browser session as a request presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRef {
    /// The store key: SHA-256 of the cookie's secret.
    pub hash: String,
    /// What `X-CSRF-Token` must carry on every change.
    pub csrf: String,
    pub expires_at: Timestamp,
}

/// A token just made: its record and the secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    #[serde(rename = "token")]
    pub view: TokenView,
    /// The bearer token. Shown this once; only its hash is kept.
    pub secret: String,
}

/// `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// `POST /setup`: the first owner, with the secret of the setup link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The part of the setup link after `#`.
    pub token: String,
    pub username: String,
    /// 8 to 128 characters, not a common password.
    pub password: String,
}

/// A signed-in browser, as login and `me` show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    pub user: UserView,
    /// Send it back in `X-CSRF-Token` with every request that changes something.
    pub csrf_token: String,
    /// When the session ends however active it is; it also ends after
    /// `idle_minutes` without a request.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub idle_minutes: i64,
}

/// A new session: the cookie's secret and what the browser is shown.
pub struct SignedIn {
    pub secret: String,
    pub view: SessionView,
}

/// Who the caller is, as `GET /auth/me` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The name changes are recorded under: `user:NAME` or `token:NAME`.
    #[schema(value_type = String)]
    pub actor: Actor,
    pub role: Role,
    pub username: Option<Username>,
    /// A scoped token's scopes; null when the role's rights are not narrowed.
    pub scopes: Option<Vec<Scope>>,
    /// For a browser session: send it back in `X-CSRF-Token`.
    pub csrf_token: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub session_expires_at: Option<Timestamp>,
}

/// `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
}

/// `PATCH /users/{username}`: what to change. A new password or disabling
/// ends the user's sessions and revokes their tokens.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

/// `POST /auth/password`: a signed-in user changes their own password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub name: String,
    pub role: Role,
    /// Narrower rights than the role's; empty or absent: all the role allows.
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// When the token stops working (RFC 3339); or give `expires_in_days`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Days until the token stops working, 1–3650.
    pub expires_in_days: Option<u32>,
    /// The user the token acts for: disabling the user stops the token. Its
    /// role may not exceed the user's.
    pub user: Option<String>,
}

/// The settings of a token to create.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: TokenName,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<Timestamp>,
    pub user: Option<Username>,
}

/// The filters of `GET /audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `user:NAME`, `token:NAME`, `cli`, `system` or `public`.
    pub actor: Option<String>,
    /// A change kind (`auth.login_failed`) or a family (`auth`, `product`).
    pub kind: Option<String>,
    /// The key of what changed: a SKU, a username, a quote number.
    pub key: Option<String>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// One entry of the audit log: who did what, when, from where.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: u64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `product.created`, `movement.booked`, `auth.login_failed`…
    #[schema(value_type = String)]
    pub kind: ChangeKind,
    pub key: String,
    #[schema(value_type = String)]
    pub actor: Actor,
    /// The client's address, for changes made over HTTP.
    pub ip: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

impl From<Change> for AuditEntry {
    fn from(c: Change) -> Self {
        Self {
            seq: c.seq,
            at: c.at,
            kind: c.kind,
            key: c.key,
            actor: c.actor,
            ip: c.ip,
            data: c.data,
        }
    }
}

fn user_not_found(name: &Username) -> AppError {
    AppError::NotFound {
        what: "user",
        key: name.to_string(),
    }
}

fn wrong_credentials() -> AppError {
    AppError::Unauthenticated("the username or password is wrong".into())
}

pub fn add_user(
    tx: &mut WriteTx,
    actor: &Actor,
    username: Username,
    role: Role,
    password_hash: String,
) -> Result<UserView, AppError> {
    if tx.user(&username)?.is_some() {
        return Err(AppError::conflict(
            ErrorCode::DuplicateUser,
            "username",
            format!("a user named {username} already exists"),
        ));
    }
    let now = Timestamp::now();
    let user = User {
        username,
        role,
        password_hash,
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    tx.put_user(&user)?;
    tx.record(
        ChangeKind::UserCreated,
        user.username.as_str(),
        actor,
        &payloads::UserCreated { role },
    )?;
    Ok(UserView::from(&user))
}

/// Sets a new password; the user's sessions end and tokens stop working.
pub fn set_password(
    tx: &mut WriteTx,
    actor: &Actor,
    username: &Username,
    password_hash: String,
) -> Result<UserView, AppError> {
    let patch = Changes {
        password_hash: Some(password_hash),
        ..Changes::default()
    };
    update_user(tx, actor, username, patch)
}

/// Disables a user; the user's sessions end and tokens stop working.
pub fn disable_user(
    tx: &mut WriteTx,
    actor: &Actor,
    username: &Username,
) -> Result<UserView, AppError> {
    let patch = Changes {
        disabled: Some(true),
        ..Changes::default()
    };
    update_user(tx, actor, username, patch)
}

/// A user change with the password already hashed.
#[derive(Default)]
struct Changes {
    role: Option<Role>,
    disabled: Option<bool>,
    password_hash: Option<String>,
}

fn update_user(
    tx: &mut WriteTx,
    actor: &Actor,
    username: &Username,
    changes: Changes,
) -> Result<UserView, AppError> {
    let mut user = tx.user(username)?.ok_or_else(|| user_not_found(username))?;
    let was_active_owner = user.role == Role::Owner && !user.disabled;
    let mut what = Vec::new();
    let mut end_access = false;
    if let Some(role) = changes.role
        && role != user.role
    {
        what.push(format!("role {} → {role}", user.role));
        user.role = role;
    }
    if let Some(disabled) = changes.disabled
        && disabled != user.disabled
    {
        what.push(if disabled { "disabled" } else { "enabled" }.to_owned());
        user.disabled = disabled;
        end_access |= disabled;
    }
    if let Some(hash) = changes.password_hash {
        what.push("password changed".to_owned());
        user.password_hash = hash;
        end_access = true;
    }
    let still_active_owner = user.role == Role::Owner && !user.disabled;
    if was_active_owner && !still_active_owner {
        let others = tx
            .users()?
            .iter()
            .any(|u| u.username != user.username && u.role == Role::Owner && !u.disabled);
        if !others {
            return Err(AppError::conflict(
                ErrorCode::LastOwner,
                "role",
                format!("{username} is the only active owner; make another owner first"),
            ));
        }
    }
    if what.is_empty() {
        return Ok(UserView::from(&user));
    }
    user.updated_at = Timestamp::now();
    tx.put_user(&user)?;
    tx.record(
        ChangeKind::UserUpdated,
        user.username.as_str(),
        actor,
        &payloads::UserUpdated {
            change: what.join(", "),
        },
    )?;
    if end_access {
        tx.delete_sessions_of(username)?;
        revoke_tokens_of(tx, actor, username, |_| true)?;
    } else {
        // A token may not keep more rights than its user now has.
        let role = user.role;
        revoke_tokens_of(tx, actor, username, |t| t.role > role)?;
    }
    Ok(UserView::from(&user))
}

fn revoke_tokens_of(
    tx: &mut WriteTx,
    actor: &Actor,
    username: &Username,
    revoke: impl Fn(&ApiToken) -> bool,
) -> Result<(), AppError> {
    let now = Timestamp::now();
    for mut token in tx.tokens_of_user(username)? {
        if token.revoked_at.is_none() && revoke(&token) {
            token.revoked_at = Some(now);
            tx.put_token(&token)?;
            tx.record(
                ChangeKind::TokenRevoked,
                token.name.as_str(),
                actor,
                &payloads::TokenRevoked {
                    because: Some(format!("user {username} changed")),
                },
            )?;
        }
    }
    Ok(())
}

/// Creates a token and returns its secret. A revoked token's name may be
/// reused; an active or expired one's may not.
pub fn create_token(
    tx: &mut WriteTx,
    actor: &Actor,
    request: TokenRequest,
) -> Result<NewToken, AppError> {
    let now = Timestamp::now();
    Scope::check_all(request.role, &request.scopes).map_err(AppError::field("scopes"))?;
    if let Some(existing) = tx.token(&request.name)?
        && existing.revoked_at.is_none()
    {
        return Err(AppError::conflict(
            ErrorCode::DuplicateToken,
            "name",
            format!(
                "a token named {} already exists; revoke it first or pick another name",
                request.name
            ),
        ));
    }
    if let Some(at) = request.expires_at
        && at <= now
    {
        return Err(AppError::invalid("expires_at", "must be in the future"));
    }
    if let Some(user) = &request.user {
        let owner = tx.user(user)?.ok_or_else(|| user_not_found(user))?;
        if owner.disabled {
            return Err(AppError::invalid(
                "user",
                format!("user {user} is disabled"),
            ));
        }
        if request.role > owner.role {
            return Err(AppError::invalid(
                "role",
                format!(
                    "user {user} has the {} role; the token may not have more",
                    owner.role
                ),
            ));
        }
    }
    let mut scopes = request.scopes;
    scopes.sort_unstable();
    scopes.dedup();
    let secret = auth::new_token();
    let token = ApiToken {
        name: request.name,
        role: request.role,
        hash: auth::token_hash(&secret),
        user: request.user,
        scopes,
        created_by: actor.clone(),
        created_at: now,
        expires_at: request.expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    tx.put_token(&token)?;
    tx.record(
        ChangeKind::TokenCreated,
        token.name.as_str(),
        actor,
        &payloads::TokenCreated {
            role: token.role,
            scopes: token.scopes.clone(),
            expires_at: token.expires_at,
            user: token.user.clone(),
        },
    )?;
    Ok(NewToken {
        view: TokenView::new(&token, now),
        secret,
    })
}

pub fn revoke_token(
    tx: &mut WriteTx,
    actor: &Actor,
    name: &TokenName,
) -> Result<TokenView, AppError> {
    let now = Timestamp::now();
    let mut token = tx.token(name)?.ok_or_else(|| AppError::NotFound {
        what: "token",
        key: name.to_string(),
    })?;
    if token.revoked_at.is_none() {
        token.revoked_at = Some(now);
        tx.put_token(&token)?;
        tx.record(
            ChangeKind::TokenRevoked,
            name.as_str(),
            actor,
            &payloads::TokenRevoked::default(),
        )?;
    }
    Ok(TokenView::new(&token, now))
}

pub fn list_users(tx: &ReadTx) -> Result<Vec<UserView>, AppError> {
    Ok(tx.users()?.iter().map(UserView::from).collect())
}

pub fn list_tokens(tx: &ReadTx) -> Result<Vec<TokenView>, AppError> {
    let now = Timestamp::now();
    Ok(tx
        .tokens()?
        .iter()
        .map(|t| TokenView::new(t, now))
        .collect())
}

/// The token a bearer secret stands for, if it may be used now.
fn usable_token(tx: &ReadTx, secret: &str, now: Timestamp) -> Result<ApiToken, AppError> {
    let rejected = || AppError::Unauthenticated("the token is invalid, expired or revoked".into());
    if !secret.starts_with(auth::TOKEN_PREFIX) || secret.len() > 128 {
        return Err(rejected());
    }
    let token = tx
        .token_by_hash(&auth::token_hash(secret))?
        .ok_or_else(rejected)?;
    if !token.is_usable(now) {
        return Err(rejected());
    }
    if let Some(user) = &token.user {
        let active = tx.user(user)?.is_some_and(|u| !u.disabled);
        if !active {
            return Err(rejected());
        }
    }
    Ok(token)
}

/// A name fit for the audit log from whatever was typed as a username.
fn attempted_name(raw: &str) -> String {
    raw.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect::<String>()
        .to_lowercase()
}

fn opens_session(
    tx: &mut WriteTx,
    user: &User,
    idle: SignedDuration,
    lifetime: SignedDuration,
) -> Result<SignedIn, AppError> {
    let now = Timestamp::now();
    let secret = auth::new_session_id();
    let session = Session {
        user: user.username.clone(),
        csrf: auth::new_secret(),
        created_at: now,
        last_seen_at: now,
        expires_at: now
            .checked_add(lifetime)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        ip: tx.client().map(str::to_owned),
    };
    tx.put_session(&auth::token_hash(&secret), &session)?;
    Ok(SignedIn {
        secret,
        view: SessionView {
            user: UserView::from(user),
            csrf_token: session.csrf,
            expires_at: session.expires_at,
            idle_minutes: idle.as_mins(),
        },
    })
}

impl App {
    /// Whether an enabled owner account exists.
    pub async fn has_owner(&self) -> Result<bool, AppError> {
        self.read(|tx| Ok(tx.has_owner()?)).await
    }

    /// Hashes a password off the runtime, a few at a time.
    async fn hash(&self, password: Password) -> Result<String, AppError> {
        let _permit = self
            .inner
            .accounts
            .hashing
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || auth::hash_password(&password))
            .await
            .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
    }

    /// Checks `password` against `user`'s hash (or, for no user, spends the
    /// same time failing) off the runtime, a few at a time.
    async fn verify(&self, password: String, user: Option<&User>) -> Result<bool, AppError> {
        let _permit = self
            .inner
            .accounts
            .hashing
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let hash = user.map(|u| u.password_hash.clone());
        tokio::task::spawn_blocking(move || {
            if let Some(hash) = hash {
                auth::verify_password(&password, &hash)
            } else {
                auth::verify_nothing(&password);
                false
            }
        })
        .await
        .map_err(|e| AppError::Internal(format!("password check failed: {e}")))
    }

    fn client_key() -> String {
        format!(
            "ip:{}",
            super::client_address().unwrap_or_else(|| "local".into())
        )
    }

    fn throttled(&self, keys: &[&str]) -> Result<(), AppError> {
        let wait = keys
            .iter()
            .filter_map(|key| self.inner.accounts.throttle.locked(key))
            .max();
        match wait {
            Some(retry_after) => Err(AppError::TooManyRequests {
                message: "too many failed sign-ins; wait before trying again".into(),
                retry_after,
            }),
            None => Ok(()),
        }
    }

    /// The principal a bearer token stands for; 401 when it is unknown,
    /// expired, revoked or its user is disabled.
    pub async fn authenticate(&self, secret: String) -> Result<Principal, AppError> {
        let now = Timestamp::now();
        let token = self.read(move |tx| usable_token(tx, &secret, now)).await?;
        self.touch_token(&token, now);
        Ok(Principal {
            role: token.role,
            actor: Actor::token(&token.name),
            scopes: (!token.scopes.is_empty()).then(|| token.scopes.clone()),
            user: token.user.clone(),
            session: None,
        })
    }

    /// The principal a session cookie stands for, or `None` when the session
    /// is unknown, ended, idle too long, or its user is disabled.
    pub async fn authenticate_session(
        &self,
        secret: String,
    ) -> Result<Option<Principal>, AppError> {
        if secret.len() != 43 {
            return Ok(None);
        }
        let now = Timestamp::now();
        let idle = self.inner.accounts.idle;
        let hash = auth::token_hash(&secret);
        let key = hash.clone();
        let found = self
            .read(move |tx| {
                let Some(session) = tx.session(&key)? else {
                    return Ok(None);
                };
                if !session.is_live(now, idle) {
                    return Ok(None);
                }
                Ok(tx
                    .user(&session.user)?
                    .filter(|u| !u.disabled)
                    .map(|user| (session, user)))
            })
            .await?;
        let Some((session, user)) = found else {
            return Ok(None);
        };
        self.touch_session(&hash, &session, now);
        Ok(Some(Principal {
            role: user.role,
            actor: Actor::user(&user.username),
            scopes: None,
            user: Some(user.username),
            session: Some(SessionRef {
                hash,
                csrf: session.csrf,
                expires_at: session.expires_at,
            }),
        }))
    }

    /// Signs a user in: a new session (ending `previous`, the one the browser
    /// came with, if any). Failures are throttled per account and per
    /// address, answer in the same time whether or not the user exists, and
    /// are audited.
    pub async fn login(
        &self,
        credentials: Credentials,
        previous: Option<String>,
    ) -> Result<SignedIn, AppError> {
        let attempted = attempted_name(&credentials.username);
        let user_key = format!("user:{attempted}");
        let ip_key = Self::client_key();
        self.throttled(&[&user_key, &ip_key])?;
        let user = match Username::parse(&credentials.username) {
            Ok(name) if credentials.password.len() <= LONGEST_SIGN_IN_FIELD => {
                self.read(move |tx| Ok(tx.user(&name)?)).await?
            }
            _ => None,
        };
        let password = if credentials.password.len() <= LONGEST_SIGN_IN_FIELD {
            credentials.password
        } else {
            String::new()
        };
        let verified = self.verify(password, user.as_ref()).await?;
        let user = user.filter(|u| verified && !u.disabled);
        let Some(user) = user else {
            let throttle = &self.inner.accounts.throttle;
            throttle.failed(&user_key);
            throttle.failed(&ip_key);
            self.write(move |tx| {
                tx.note(ChangeKind::AuthLoginFailed, &attempted, &Actor::public())?;
                Ok(())
            })
            .await?;
            return Err(wrong_credentials());
        };
        self.inner.accounts.throttle.forget(&user_key);
        let (idle, lifetime) = (self.inner.accounts.idle, self.inner.accounts.lifetime);
        self.write(move |tx| {
            if let Some(previous) = previous {
                tx.delete_session(&auth::token_hash(&previous))?;
            }
            let signed_in = opens_session(tx, &user, idle, lifetime)?;
            tx.note(
                ChangeKind::AuthLogin,
                user.username.as_str(),
                &Actor::user(&user.username),
            )?;
            Ok(signed_in)
        })
        .await
    }

    /// Ends the caller's browser session.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AppError> {
        let Some(session) = principal.session.clone() else {
            return Err(AppError::bad_request(
                None,
                "there is no browser session to end; revoke a token with DELETE /api/v1/tokens/{name}",
            ));
        };
        let actor = principal.actor.clone();
        let key = principal
            .user
            .as_ref()
            .map_or_else(String::new, ToString::to_string);
        self.write(move |tx| {
            tx.delete_session(&session.hash)?;
            tx.note(ChangeKind::AuthLogout, &key, &actor)?;
            Ok(())
        })
        .await
    }

    /// Who the caller is.
    pub fn me(principal: &Principal) -> Me {
        Me {
            actor: principal.actor.clone(),
            role: principal.role,
            username: principal.user.clone(),
            scopes: principal.scopes.clone(),
            csrf_token: principal.session.as_ref().map(|s| s.csrf.clone()),
            session_expires_at: principal.session.as_ref().map(|s| s.expires_at),
        }
    }

    /// A signed-in user changes their own password, proving the current one;
    /// all their sessions end (this one too) and their tokens are revoked.
    pub async fn change_own_password(
        &self,
        principal: &Principal,
        change: PasswordChange,
    ) -> Result<(), AppError> {
        let Some(username) = principal.user.clone() else {
            return Err(AppError::Forbidden(
                "only a signed-in user has a password to change".into(),
            ));
        };
        let key = format!("user:{username}");
        self.throttled(&[&key])?;
        let new = auth::new_password(change.new_password, &username, &self.config().shop.name)
            .map_err(AppError::field("new_password"))?;
        let name = username.clone();
        let user = self.read(move |tx| Ok(tx.user(&name)?)).await?;
        let current = if change.current_password.len() <= LONGEST_SIGN_IN_FIELD {
            change.current_password
        } else {
            String::new()
        };
        if !self.verify(current, user.as_ref()).await? {
            self.inner.accounts.throttle.failed(&key);
            return Err(AppError::invalid(
                "current_password",
                "is not the current password",
            ));
        }
        let hash = self.hash(new).await?;
        let actor = principal.actor.clone();
        self.write(move |tx| set_password(tx, &actor, &username, hash).map(|_| ()))
            .await
    }

    /// While no owner exists, a new one-time setup link secret (replacing any
    /// earlier one), valid for an hour; `None` once an owner exists.
    pub async fn issue_setup_link(&self) -> Result<Option<String>, AppError> {
        if self.has_owner().await? {
            return Ok(None);
        }
        let secret = auth::new_secret();
        *self.inner.accounts.setup.lock().expect("setup lock") = Some(SetupLink {
            hash: auth::token_hash(&secret),
            expires: Instant::now() + SETUP_LINK_LIFETIME,
        });
        Ok(Some(secret))
    }

    /// Creates the first owner with the setup link's secret, and signs them in.
    pub async fn setup(&self, request: SetupRequest) -> Result<SignedIn, AppError> {
        let ip_key = Self::client_key();
        self.throttled(&[&ip_key])?;
        if self.has_owner().await? {
            return Err(AppError::conflict(
                ErrorCode::SetupDone,
                "token",
                "Quarry is set up already: sign in, or ask an owner for an account",
            ));
        }
        let username = Username::parse(&request.username).map_err(AppError::field("username"))?;
        let password = auth::new_password(request.password, &username, &self.config().shop.name)
            .map_err(AppError::field("password"))?;
        let taken = {
            let mut link = self.inner.accounts.setup.lock().expect("setup lock");
            let valid = link.as_ref().is_some_and(|l| {
                l.expires > Instant::now()
                    && auth::same_secret(&l.hash, &auth::token_hash(request.token.trim()))
            });
            valid && link.take().is_some()
        };
        if !taken {
            self.inner.accounts.throttle.failed(&ip_key);
            return Err(AppError::Forbidden(
                "this setup link is not valid: it was used already, has expired or is mistyped; \
                 restart `quarry serve` for a new one, or use `quarry user add`"
                    .into(),
            ));
        }
        let hash = self.hash(password).await?;
        let (idle, lifetime) = (self.inner.accounts.idle, self.inner.accounts.lifetime);
        self.write(move |tx| {
            if tx.has_owner()? {
                return Err(AppError::conflict(
                    ErrorCode::SetupDone,
                    "token",
                    "an owner was created meanwhile",
                ));
            }
            let actor = Actor::user(&username);
            add_user(tx, &actor, username.clone(), Role::Owner, hash)?;
            tx.note(ChangeKind::AuthSetup, username.as_str(), &actor)?;
            let user = tx
                .user(&username)?
                .ok_or_else(|| user_not_found(&username))?;
            opens_session(tx, &user, idle, lifetime)
        })
        .await
    }

    pub async fn users(&self) -> Result<Vec<UserView>, AppError> {
        self.read(list_users).await
    }

    pub async fn create_user(
        &self,
        principal: &Principal,
        input: NewUser,
    ) -> Result<UserView, AppError> {
        let username = Username::parse(&input.username).map_err(AppError::field("username"))?;
        let password = auth::new_password(input.password, &username, &self.config().shop.name)
            .map_err(AppError::field("password"))?;
        let hash = self.hash(password).await?;
        let actor = principal.actor.clone();
        self.write(move |tx| add_user(tx, &actor, username, input.role, hash))
            .await
    }

    pub async fn update_user(
        &self,
        principal: &Principal,
        username: &str,
        patch: UserPatch,
    ) -> Result<UserView, AppError> {
        let username = Username::parse(username).map_err(|_| AppError::NotFound {
            what: "user",
            key: username.to_owned(),
        })?;
        let password_hash = match patch.password {
            Some(raw) => {
                let password = auth::new_password(raw, &username, &self.config().shop.name)
                    .map_err(AppError::field("password"))?;
                Some(self.hash(password).await?)
            }
            None => None,
        };
        let changes = Changes {
            role: patch.role,
            disabled: patch.disabled,
            password_hash,
        };
        let actor = principal.actor.clone();
        self.write(move |tx| update_user(tx, &actor, &username, changes))
            .await
    }

    pub async fn tokens(&self) -> Result<Vec<TokenView>, AppError> {
        self.read(list_tokens).await
    }

    pub async fn create_token(
        &self,
        principal: &Principal,
        input: TokenInput,
    ) -> Result<NewToken, AppError> {
        let name = TokenName::parse(&input.name).map_err(AppError::field("name"))?;
        if input.role > principal.role {
            return Err(AppError::invalid(
                "role",
                format!(
                    "you have the {} role; a token may not have more",
                    principal.role
                ),
            ));
        }
        let expires_at = match (input.expires_at, input.expires_in_days) {
            (Some(_), Some(_)) => {
                return Err(AppError::invalid(
                    "expires_in_days",
                    "give expires_at or expires_in_days, not both",
                ));
            }
            (at, None) => at,
            (None, Some(days @ 1..=3650)) => Some(
                Timestamp::now()
                    .checked_add(SignedDuration::from_hours(i64::from(days) * 24))
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            ),
            (None, Some(_)) => {
                return Err(AppError::invalid("expires_in_days", "must be 1 to 3650"));
            }
        };
        let user = input
            .user
            .as_deref()
            .map(Username::parse)
            .transpose()
            .map_err(AppError::field("user"))?;
        let request = TokenRequest {
            name,
            role: input.role,
            scopes: input.scopes,
            expires_at,
            user,
        };
        let actor = principal.actor.clone();
        self.write(move |tx| create_token(tx, &actor, request))
            .await
    }

    pub async fn revoke_token(
        &self,
        principal: &Principal,
        name: &str,
    ) -> Result<TokenView, AppError> {
        let name = TokenName::parse(name).map_err(|_| AppError::NotFound {
            what: "token",
            key: name.to_owned(),
        })?;
        let actor = principal.actor.clone();
        self.write(move |tx| revoke_token(tx, &actor, &name)).await
    }

    /// The audit log, newest first.
    pub async fn audit(&self, filter: AuditFilter) -> Result<Listing<AuditEntry>, AppError> {
        let before = filter
            .cursor
            .as_deref()
            .map(cursor::decode::<u64>)
            .transpose()?;
        let limit = cursor::limit(filter.limit, 50, 500)?;
        let AuditFilter {
            actor,
            kind,
            key,
            from,
            until,
            ..
        } = filter;
        let page = self
            .read(move |tx| {
                Ok(tx.audit_page(before, from, limit, |change| {
                    actor.as_deref().is_none_or(|a| change.actor.as_str() == a)
                        && key.as_deref().is_none_or(|k| change.key == k)
                        && until.is_none_or(|until| change.at < until)
                        && kind
                            .as_deref()
                            .is_none_or(|k| change.kind.as_str() == k || change.kind.family() == k)
                })?)
            })
            .await?;
        Ok(Listing {
            items: page.items.into_iter().map(AuditEntry::from).collect(),
            next_cursor: page.next.as_ref().map(cursor::encode),
        })
    }

    /// Ends sessions that have expired or gone idle; run now and then.
    pub async fn sweep_sessions(&self) -> Result<usize, AppError> {
        let idle = self.inner.accounts.idle;
        let now = Timestamp::now();
        self.write(move |tx| Ok(tx.sweep_sessions(|s| s.is_live(now, idle))?))
            .await
    }

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

    /// Records a token's use, at most once a minute per token and in the
    /// background: a read never waits for a write.
    fn touch_token(&self, token: &ApiToken, now: Timestamp) {
        let recent = token
            .last_used_at
            .is_some_and(|at| now.duration_since(at).unsigned_abs() < TOUCH_EVERY);
        if recent || self.recently_touched(format!("t:{}", token.name)) {
            return;
        }
        let app = self.clone();
        let name = token.name.clone();
        self.spawn_background(async move {
            let result = app
                .write(move |tx| {
                    let Some(mut token) = tx.token(&name)? else {
                        return Ok(());
                    };
                    if token.revoked_at.is_some() {
                        return Ok(());
                    }
                    token.last_used_at = Some(now);
                    tx.put_token(&token)?;
                    tx.note(ChangeKind::TokenUsed, name.as_str(), &Actor::system())?;
                    Ok(())
                })
                .await;
            if let Err(error) = result {
                tracing::debug!(%error, "recording a token's use failed");
            }
        });
    }

    /// Keeps a session from going idle: its `last_seen_at` is written at most
    /// once a minute, in the background.
    fn touch_session(&self, hash: &str, session: &Session, now: Timestamp) {
        let recent = now.duration_since(session.last_seen_at).unsigned_abs() < TOUCH_EVERY;
        if recent || self.recently_touched(format!("s:{hash}")) {
            return;
        }
        let app = self.clone();
        let hash = hash.to_owned();
        self.spawn_background(async move {
            let result = app
                .write(move |tx| {
                    if let Some(mut session) = tx.session(&hash)? {
                        session.last_seen_at = now;
                        tx.put_session(&hash, &session)?;
                    }
                    Ok(())
                })
                .await;
            if let Err(error) = result {
                tracing::debug!(%error, "recording a session's use failed");
            }
        });
    }
}

/// Command-line helpers: one transaction each on a store the CLI opened.
pub mod local {
    use super::{
        AppError, NewToken, Role, Store, TokenName, TokenRequest, TokenView, UserView, Username,
    };
    use crate::auth;
    use crate::domain::accounts::{Actor, Password};

    pub fn add_user(
        store: &Store,
        username: Username,
        role: Role,
        password: &Password,
    ) -> Result<UserView, AppError> {
        let hash = auth::hash_password(password);
        store.write(|tx| super::add_user(tx, &Actor::cli(), username, role, hash))
    }

    pub fn set_password(
        store: &Store,
        username: &Username,
        password: &Password,
    ) -> Result<UserView, AppError> {
        let hash = auth::hash_password(password);
        store.write(|tx| super::set_password(tx, &Actor::cli(), username, hash))
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
