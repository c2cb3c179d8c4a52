//! Browser sessions: signing in and out (throttled per account and per
//! address), the first-run setup link, a session cookie turned into a
//! [`Principal`], and the sweep of ended sessions.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{LONGEST_SIGN_IN_FIELD, TOUCH_EVERY, add_user, user_not_found};
use crate::app::{App, AppError, ErrorCode, Principal};
use crate::auth;
use crate::domain::accounts::{Actor, Password, Role, Scope, Session, User, UserView, Username};
use crate::domain::contacts::{ContactView, TradeContact};
use crate::domain::customers::CustomerCode;
use crate::store::{ChangeKind, WriteTx};

/// A setup link works this long after `quarry serve` printed it.
const SETUP_LINK_LIFETIME: Duration = Duration::from_secs(3600);

pub(super) struct SetupLink {
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
    #[schema(value_type = Username)]
    pub username: String,
    /// 8 to 128 characters, not a common password.
    #[schema(value_type = Password)]
    pub password: String,
}

/// A signed-in browser, as login and `me` show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// The staff user signed in; absent for a trade contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserView>,
    /// The trade contact signed in; absent for a staff user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactView>,
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
    /// The name changes are recorded under: `user:NAME`, `token:NAME` or
    /// `contact:LOGIN`.
    #[schema(value_type = String)]
    pub actor: Actor,
    pub role: Role,
    pub username: Option<Username>,
    /// For a trade contact: the customer they buy for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerCode>,
    /// A scoped token's scopes; null when the role's rights are not narrowed.
    pub scopes: Option<Vec<Scope>>,
    /// For a browser session: send it back in `X-CSRF-Token`.
    pub csrf_token: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub session_expires_at: Option<Timestamp>,
}

/// The contact a session of `login` stands for, while both the contact and
/// their customer are active.
fn signed_in_contact(
    tx: &crate::store::ReadTx,
    login: &str,
) -> Result<Option<TradeContact>, AppError> {
    let Some(contact) = tx.trade_contact(login)?.filter(|c| c.active) else {
        return Ok(None);
    };
    let customer_active = tx.customer(&contact.customer)?.is_some_and(|c| c.active);
    Ok(customer_active.then_some(contact))
}

fn wrong_credentials() -> AppError {
    AppError::Unauthenticated("the username or password is wrong".into())
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

/// Whose session a new one is.
#[derive(Clone, Copy)]
pub(super) enum Holder<'a> {
    User(&'a User),
    Contact(&'a TradeContact),
}

pub(super) fn opens_session(
    tx: &mut WriteTx,
    holder: Holder<'_>,
    idle: SignedDuration,
    lifetime: SignedDuration,
) -> Result<SignedIn, AppError> {
    let now = Timestamp::now();
    let secret = auth::new_session_id();
    let (user, contact) = match holder {
        Holder::User(user) => (Some(user), None),
        Holder::Contact(contact) => (None, Some(contact)),
    };
    let session = Session {
        user: user.map(|u| u.username.clone()),
        contact: contact.map(|c| c.login.clone()),
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
            user: user.map(UserView::from),
            contact: contact.map(ContactView::from),
            csrf_token: session.csrf,
            expires_at: session.expires_at,
            idle_minutes: idle.as_mins(),
        },
    })
}

/// A sign-in whose credentials were checked: the browser's earlier session
/// (`previous`, its cookie's secret) ends, a new one opens, and the sign-in
/// is audited under the user's or contact's name.
pub(super) fn signs_in(
    tx: &mut WriteTx,
    previous: Option<&str>,
    holder: Holder<'_>,
    idle: SignedDuration,
    lifetime: SignedDuration,
) -> Result<SignedIn, AppError> {
    if let Some(previous) = previous {
        tx.delete_session(&auth::token_hash(previous))?;
    }
    let signed_in = opens_session(tx, holder, idle, lifetime)?;
    let (key, actor) = match holder {
        Holder::User(user) => (user.username.as_str(), Actor::user(&user.username)),
        Holder::Contact(contact) => (contact.login.as_str(), Actor::contact(&contact.login)),
    };
    tx.note(ChangeKind::AuthLogin, key, &actor)?;
    Ok(signed_in)
}

/// "49 s", "90 s", "3 min", "1 h 5 min": a wait for people.
fn wait_words(seconds: u64) -> String {
    match seconds {
        0..120 => format!("{seconds} s"),
        120..3600 => format!("{} min", seconds.div_ceil(60)),
        _ => {
            let minutes = seconds.div_ceil(60);
            match minutes % 60 {
                0 => format!("{} h", minutes / 60),
                m => format!("{} h {m} min", minutes / 60),
            }
        }
    }
}

impl App {
    /// Whether an enabled owner account exists.
    pub async fn has_owner(&self) -> Result<bool, AppError> {
        self.read(|tx| Ok(tx.has_owner()?)).await
    }

    pub(super) fn client_key() -> String {
        format!(
            "ip:{}",
            crate::app::client_address().unwrap_or_else(|| "local".into())
        )
    }

    pub(super) fn throttled(&self, keys: &[&str]) -> Result<(), AppError> {
        let wait = keys
            .iter()
            .filter_map(|key| Some((self.inner.accounts.throttle.locked(key)?, *key)))
            .max();
        match wait {
            Some((retry_after, key)) => {
                let whose = if key.starts_with("ip:") {
                    "from this address"
                } else {
                    "for this account"
                };
                // Whole seconds, rounded up: "try again in 0 s" would be wrong.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                Err(AppError::TooManyRequests {
                    message: format!(
                        "too many failed sign-ins {whose}; try again in {}",
                        wait_words(seconds)
                    ),
                    retry_after,
                })
            }
            None => Ok(()),
        }
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
                let who = if let Some(name) = &session.user {
                    tx.user(name)?.filter(|u| !u.disabled).map(|user| {
                        (
                            user.role,
                            Actor::user(&user.username),
                            Some(user.username),
                            None,
                        )
                    })
                } else if let Some(login) = &session.contact {
                    signed_in_contact(tx, login.as_str())?.map(|contact| {
                        (
                            Role::Contact,
                            Actor::contact(&contact.login),
                            None,
                            Some(contact.customer),
                        )
                    })
                } else {
                    None
                };
                Ok(who.map(|who| (session, who)))
            })
            .await?;
        let Some((session, (role, actor, user, customer))) = found else {
            return Ok(None);
        };
        self.touch_session(&hash, &session, now);
        Ok(Some(Principal {
            role,
            actor,
            scopes: None,
            user,
            session: Some(SessionRef {
                hash,
                csrf: session.csrf,
                expires_at: session.expires_at,
            }),
            customer,
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
        if attempted.contains('@') {
            // Usernames have no `@`: this is a trade contact's login.
            return self
                .contact_login(credentials, previous, attempted, user_key, ip_key)
                .await;
        }
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
            return Err(self.sign_in_failed(attempted, &user_key, &ip_key).await);
        };
        self.inner.accounts.throttle.forget(&user_key);
        let (idle, lifetime) = (self.inner.accounts.idle, self.inner.accounts.lifetime);
        self.write(move |tx| signs_in(tx, previous.as_deref(), Holder::User(&user), idle, lifetime))
            .await
    }

    /// Counts a failed sign-in against the account and the address, audits
    /// it, and gives the error to answer with.
    pub(super) async fn sign_in_failed(
        &self,
        attempted: String,
        user_key: &str,
        ip_key: &str,
    ) -> AppError {
        let throttle = &self.inner.accounts.throttle;
        throttle.failed(user_key);
        throttle.failed(ip_key);
        let noted = self
            .write(move |tx| {
                tx.note(ChangeKind::AuthLoginFailed, &attempted, &Actor::public())?;
                Ok(())
            })
            .await;
        match noted {
            Ok(()) => wrong_credentials(),
            Err(error) => error,
        }
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
            .map_or_else(|| principal.contact_login().to_owned(), ToString::to_string);
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
            customer: principal.customer.clone(),
            scopes: principal.scopes.clone(),
            csrf_token: principal.session.as_ref().map(|s| s.csrf.clone()),
            session_expires_at: principal.session.as_ref().map(|s| s.expires_at),
        }
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
            add_user(tx, &actor, username.clone(), Role::Owner, hash, None)?;
            tx.note(ChangeKind::AuthSetup, username.as_str(), &actor)?;
            let user = tx
                .user(&username)?
                .ok_or_else(|| user_not_found(&username))?;
            opens_session(tx, Holder::User(&user), idle, lifetime)
        })
        .await
    }

    /// Ends sessions that have expired or gone idle; run now and then.
    pub async fn sweep_sessions(&self) -> Result<usize, AppError> {
        let idle = self.inner.accounts.idle;
        let now = Timestamp::now();
        self.write(move |tx| Ok(tx.sweep_sessions(|s| s.is_live(now, idle))?))
            .await
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
