//! Accounts: users, API tokens, and turning a bearer token into a [`Principal`].
//! The command line runs these on the store directly; the server through its
//! writer. Passwords are hashed by the caller, outside any transaction, because
//! hashing is slow on purpose.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::{App, AppError, Principal};
use crate::auth;
use crate::domain::accounts::{
    Actor, ApiToken, Role, TokenName, TokenView, User, UserView, Username,
};
use crate::store::{ChangeKind, ReadTx, Store, WriteTx};

/// A token's `last_used_at` is written at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// In-memory state of the accounts use cases.
#[derive(Default)]
pub(super) struct State {
    /// When each token's use was last written, to keep reads from writing.
    touched: Mutex<HashMap<String, Instant>>,
}

/// A token just made: its record and the secret, shown once.
#[derive(Debug)]
pub struct NewToken {
    pub view: TokenView,
    pub secret: String,
}

fn user_not_found(name: &Username) -> AppError {
    AppError::NotFound {
        what: "user",
        key: name.to_string(),
    }
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
            "duplicate_user",
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
    tx.append_change(
        ChangeKind::UserCreated,
        user.username.as_str(),
        actor,
        Some(serde_json::json!({ "role": role })),
    )?;
    Ok(UserView::from(&user))
}

/// Sets a new password; the user's tokens stop working.
pub fn set_password(
    tx: &mut WriteTx,
    actor: &Actor,
    username: &Username,
    password_hash: String,
) -> Result<UserView, AppError> {
    let mut user = tx.user(username)?.ok_or_else(|| user_not_found(username))?;
    user.password_hash = password_hash;
    user.updated_at = Timestamp::now();
    save_user(tx, actor, &user, "password changed")?;
    revoke_tokens_of(tx, actor, username)?;
    Ok(UserView::from(&user))
}

/// Disables a user; the user's tokens stop working.
pub fn disable_user(
    tx: &mut WriteTx,
    actor: &Actor,
    username: &Username,
) -> Result<UserView, AppError> {
    let mut user = tx.user(username)?.ok_or_else(|| user_not_found(username))?;
    if !user.disabled {
        user.disabled = true;
        user.updated_at = Timestamp::now();
        save_user(tx, actor, &user, "disabled")?;
        revoke_tokens_of(tx, actor, username)?;
    }
    Ok(UserView::from(&user))
}

fn save_user(tx: &mut WriteTx, actor: &Actor, user: &User, what: &str) -> Result<(), AppError> {
    tx.put_user(user)?;
    tx.append_change(
        ChangeKind::UserUpdated,
        user.username.as_str(),
        actor,
        Some(serde_json::json!({ "change": what })),
    )?;
    Ok(())
}

fn revoke_tokens_of(tx: &mut WriteTx, actor: &Actor, username: &Username) -> Result<(), AppError> {
    let now = Timestamp::now();
    for mut token in tx.tokens_of_user(username)? {
        if token.revoked_at.is_none() {
            token.revoked_at = Some(now);
            tx.put_token(&token)?;
            tx.append_change(ChangeKind::TokenRevoked, token.name.as_str(), actor, None)?;
        }
    }
    Ok(())
}

/// The settings of a token to create.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: TokenName,
    pub role: Role,
    pub expires_at: Option<Timestamp>,
    pub user: Option<Username>,
}

/// Creates a token and returns its secret. A revoked token's name may be
/// reused; an active or expired one's may not.
pub fn create_token(
    tx: &mut WriteTx,
    actor: &Actor,
    request: TokenRequest,
) -> Result<NewToken, AppError> {
    let now = Timestamp::now();
    if let Some(existing) = tx.token(&request.name)?
        && existing.revoked_at.is_none()
    {
        return Err(AppError::conflict(
            "duplicate_token",
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
    }
    let secret = auth::new_token();
    let token = ApiToken {
        name: request.name,
        role: request.role,
        hash: auth::token_hash(&secret),
        user: request.user,
        created_by: actor.clone(),
        created_at: now,
        expires_at: request.expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    tx.put_token(&token)?;
    tx.append_change(
        ChangeKind::TokenCreated,
        token.name.as_str(),
        actor,
        Some(serde_json::json!({ "role": token.role })),
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
        tx.append_change(ChangeKind::TokenRevoked, name.as_str(), actor, None)?;
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

/// Finds the principal a bearer token stands for, if it may be used now.
fn principal_for(tx: &ReadTx, secret: &str, now: Timestamp) -> Result<ApiToken, AppError> {
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

impl App {
    /// Whether an enabled owner account exists.
    pub async fn has_owner(&self) -> Result<bool, AppError> {
        self.read(|tx| Ok(tx.has_owner()?)).await
    }

    /// The principal a bearer token stands for; 401 when it is unknown,
    /// expired, revoked or its user is disabled.
    pub async fn authenticate(&self, secret: String) -> Result<Principal, AppError> {
        let now = Timestamp::now();
        let token = self.read(move |tx| principal_for(tx, &secret, now)).await?;
        self.touch_token(&token, now);
        Ok(Principal {
            role: token.role,
            actor: Actor::token(&token.name),
        })
    }

    /// Records a token's use, at most once a minute per token and in the
    /// background: a read never waits for a write.
    fn touch_token(&self, token: &ApiToken, now: Timestamp) {
        let recent = token
            .last_used_at
            .is_some_and(|at| now.duration_since(at).unsigned_abs() < TOUCH_EVERY);
        if recent {
            return;
        }
        {
            let mut touched = self.inner.accounts.touched.lock().expect("touch lock");
            let key = token.name.to_string();
            if touched
                .get(&key)
                .is_some_and(|at| at.elapsed() < TOUCH_EVERY)
            {
                return;
            }
            touched.insert(key, Instant::now());
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
                    tx.append_change(ChangeKind::TokenUsed, name.as_str(), &Actor::system(), None)?;
                    Ok(())
                })
                .await;
            if let Err(error) = result {
                tracing::debug!(%error, "recording a token's use failed");
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
