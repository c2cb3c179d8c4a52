//! Users: adding, updating and disabling them, and passwords (hashed off the
//! runtime, a few at a time; a user changing their own proves the current one).

use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{LONGEST_SIGN_IN_FIELD, user_not_found};
use crate::app::{App, AppError, ErrorCode, Principal};
use crate::auth;
use crate::domain::accounts::{Actor, ApiToken, Password, Role, User, UserView, Username};
use crate::domain::quotes::Email;
use crate::store::{ChangeKind, ReadTx, WriteTx, payloads};

/// `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(value_type = Username)]
    pub username: String,
    #[schema(value_type = Password)]
    pub password: String,
    pub role: Role,
    /// Where password-reset links go.
    #[serde(default)]
    pub email: Option<Email>,
}

/// `PATCH /users/{username}`: what to change. A new password or disabling
/// ends the user's sessions and revokes their tokens.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    #[schema(value_type = Option<Password>)]
    pub password: Option<String>,
    /// Where password-reset links go; `null` removes it.
    #[serde(default, deserialize_with = "crate::domain::catalogue::present")]
    #[schema(value_type = Option<Email>)]
    #[allow(clippy::option_option)] // absent / null / value are three different requests
    pub email: Option<Option<Email>>,
}

/// `POST /auth/password`: a signed-in user changes their own password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    #[schema(value_type = Password)]
    pub new_password: String,
}

pub fn add_user(
    tx: &mut WriteTx,
    actor: &Actor,
    username: Username,
    role: Role,
    password_hash: String,
    email: Option<Email>,
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
        email,
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
    #[allow(clippy::option_option)]
    email: Option<Option<Email>>,
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
    if let Some(email) = changes.email
        && email != user.email
    {
        what.push(
            if email.is_some() {
                "e-mail address set"
            } else {
                "e-mail address removed"
            }
            .to_owned(),
        );
        user.email = email;
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
        tx.delete_sessions_of(username.as_str())?;
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

pub fn list_users(tx: &ReadTx) -> Result<Vec<UserView>, AppError> {
    Ok(tx.users()?.iter().map(UserView::from).collect())
}

impl App {
    /// Hashes a password off the runtime, a few at a time.
    pub(super) async fn hash(&self, password: Password) -> Result<String, AppError> {
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
    pub(super) async fn verify(
        &self,
        password: String,
        user: Option<&User>,
    ) -> Result<bool, AppError> {
        self.verify_hash(password, user.map(|u| u.password_hash.clone()))
            .await
    }

    /// Checks `password` against a PHC `hash` (or, for none, spends the same
    /// time failing) off the runtime, a few at a time.
    pub(super) async fn verify_hash(
        &self,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, AppError> {
        let _permit = self
            .inner
            .accounts
            .hashing
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
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

    /// A signed-in user changes their own password, proving the current one;
    /// all their sessions end (this one too) and their tokens are revoked.
    pub async fn change_own_password(
        &self,
        principal: &Principal,
        change: PasswordChange,
    ) -> Result<(), AppError> {
        let Some(username) = principal.user.clone() else {
            if principal.customer.is_some() {
                return self.change_contact_password(principal, change).await;
            }
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
        self.write(move |tx| add_user(tx, &actor, username, input.role, hash, input.email))
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
            email: patch.email,
        };
        let actor = principal.actor.clone();
        self.write(move |tx| update_user(tx, &actor, &username, changes))
            .await
    }
}
