//! API tokens: creating, revoking and listing them, turning a bearer secret
//! into a [`Principal`], and recording a token's last use.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{TOUCH_EVERY, user_not_found};
use crate::app::{App, AppError, ErrorCode, Principal};
use crate::auth;
use crate::domain::accounts::{Actor, ApiToken, Role, Scope, TokenName, TokenView, Username};
use crate::store::{ChangeKind, ReadTx, WriteTx, payloads};

/// A token just made: its record and the secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    #[serde(rename = "token")]
    pub view: TokenView,
    /// The bearer token. Shown this once; only its hash is kept.
    pub secret: String,
}

/// `POST /tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    #[schema(value_type = TokenName)]
    pub name: String,
    pub role: Role,
    /// Narrower rights than the role's; empty or absent: all the role allows.
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// When the token stops working (RFC 3339); or give `expires_in_days`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Days until the token stops working, 1–3650.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
    /// The user the token acts for: disabling the user stops the token. Its
    /// role may not exceed the user's.
    #[schema(value_type = Option<Username>)]
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

pub fn list_tokens(tx: &ReadTx) -> Result<Vec<TokenView>, AppError> {
    let now = Timestamp::now();
    Ok(tx
        .tokens()?
        .iter()
        .map(|t| TokenView::new(t, now))
        .collect())
}

/// The token a bearer secret stands for, if it may be used now.
/// Tokens kept as found usable (the cache starts over when it is full).
const KNOWN_TOKENS: usize = 1024;

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

impl App {
    /// The principal a bearer token stands for; 401 when it is unknown,
    /// expired, revoked or its user is disabled.
    pub async fn authenticate(&self, secret: String) -> Result<Principal, AppError> {
        let now = Timestamp::now();
        // Read before the snapshot below: a write after it raises the epoch,
        // so what the snapshot shows is never trusted once stale.
        let epoch = self.inner.store.accounts_epoch();
        let hash = (secret.starts_with(auth::TOKEN_PREFIX) && secret.len() <= 128)
            .then(|| auth::token_hash(&secret));
        let known = match (&hash, epoch) {
            (Some(hash), Some(epoch)) => self.known_token(hash, epoch, now),
            _ => None,
        };
        let token = if let Some(token) = known {
            token
        } else {
            let token = self.read(move |tx| usable_token(tx, &secret, now)).await?;
            if let (Some(hash), Some(epoch)) = (hash, epoch) {
                let mut known = self.inner.accounts.tokens.lock().expect("token cache lock");
                if known.len() >= KNOWN_TOKENS {
                    known.clear();
                }
                known.insert(hash, (epoch, token.clone()));
            }
            token
        };
        self.touch_token(&token, now);
        Ok(Principal {
            role: token.role,
            actor: Actor::token(&token.name),
            scopes: (!token.scopes.is_empty()).then(|| token.scopes.clone()),
            user: token.user.clone(),
            session: None,
            customer: None,
        })
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

    /// The token whose secret hashes to `hash`, if it was found usable while
    /// the accounts epoch was `epoch` and has not expired since.
    fn known_token(&self, hash: &str, epoch: u64, now: Timestamp) -> Option<ApiToken> {
        let known = self.inner.accounts.tokens.lock().expect("token cache lock");
        known
            .get(hash)
            .filter(|(at, token)| *at == epoch && token.is_usable(now))
            .map(|(_, token)| token.clone())
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
}
