//! Password resets: a one-time link to set a new password, valid for
//! `mail.reset_link_minutes`. An owner issues one by hand (and may have it
//! e-mailed); a user who forgot theirs asks for one by username, and it is
//! e-mailed to their address (never shown: only the mailbox proves who
//! asks). Using it sets the password, ends the user's sessions and revokes
//! their tokens, as any new password does. Only the link's hash is kept.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{set_password, user_not_found};
use crate::app::mail::{self, messages};
use crate::app::{App, AppError, Principal};
use crate::auth;
use crate::domain::accounts::{Actor, Password, Username};
use crate::domain::mail::{MailNotice, PasswordReset};

/// An issued link, as the owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetLink {
    /// The link, shown once: hand it to the user.
    pub link: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// Whether it was e-mailed, when asked to be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailNotice>,
}

/// `POST /auth/forgot`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotRequest {
    #[schema(value_type = Username)]
    pub username: String,
}

/// `POST /auth/reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The secret after `#` in the reset link.
    #[schema(max_length = 256)]
    pub token: String,
    #[schema(value_type = Password)]
    pub password: String,
}

/// A user may be mailed a new link this often, at most.
const MAIL_AT_MOST_EVERY: SignedDuration = SignedDuration::from_mins(2);

fn reset_url(base: &str, secret: &str) -> String {
    format!("{}/reset#{secret}", base.trim_end_matches('/'))
}

/// As a setup link that does not work: 403.
fn link_refused() -> AppError {
    AppError::Forbidden(
        "this reset link does not work: it expired, was used, or a newer one was issued; ask for a new one"
            .into(),
    )
}

impl App {
    /// An owner issues a reset link for `username`: shown in the answer,
    /// and with `email` also sent to the user's address.
    pub async fn issue_reset_link(
        &self,
        owner: &Principal,
        username: &str,
        base: String,
        email: bool,
    ) -> Result<ResetLink, AppError> {
        let username = Username::parse(username).map_err(|_| AppError::NotFound {
            what: "user",
            key: username.to_owned(),
        })?;
        let config = self.config().clone();
        if email && !config.mail.enabled() {
            return Err(AppError::conflict(
                crate::app::ErrorCode::MailNotConfigured,
                "email",
                "mail is not configured, so the link cannot be e-mailed: hand it over instead",
            ));
        }
        let actor = owner.actor.clone();
        let answer = self
            .write(move |tx| {
                let user = tx
                    .user(&username)?
                    .ok_or_else(|| user_not_found(&username))?;
                let (secret, expires_at) = keep_reset(tx, &config, &username)?;
                tx.record(
                    crate::store::ChangeKind::UserUpdated,
                    username.as_str(),
                    &actor,
                    &crate::store::payloads::UserUpdated {
                        change: "password-reset link issued".into(),
                    },
                )?;
                let mail = if email {
                    Some(match &user.email {
                        Some(to) => {
                            let url = reset_url(&mail::link_base(&config), &secret);
                            mail::queue(
                                tx,
                                &config,
                                messages::password_reset(
                                    &config,
                                    to.as_str(),
                                    username.as_str(),
                                    &url,
                                ),
                            )?
                        }
                        None => mail::no_address(),
                    })
                } else {
                    None
                };
                Ok(ResetLink {
                    link: reset_url(&base, &secret),
                    expires_at,
                    mail,
                })
            })
            .await?;
        self.wake_mail();
        Ok(answer)
    }

    /// Someone asks for a reset link for `username`. It is e-mailed when
    /// the user exists, is active and has an address, and mail is configured;
    /// the answer is the same in every case, so it tells nobody which users
    /// exist. A user is mailed at most one link every two minutes (beyond
    /// that, the limit on public requests per address applies).
    pub async fn forgot_password(&self, request: ForgotRequest) -> Result<(), AppError> {
        let ip_key = Self::client_key();
        self.throttled(&[&ip_key])?;
        let config = self.config().clone();
        // Only a name no user can have is refused: that tells nothing of who exists.
        let username = Username::parse(&request.username).map_err(AppError::field("username"))?;
        if !config.mail.enabled() {
            return Ok(());
        }
        let queued = self
            .write(move |tx| {
                let Some(user) = tx.user(&username)? else {
                    return Ok(false);
                };
                let Some(to) = user.email.filter(|_| !user.disabled) else {
                    return Ok(false);
                };
                let now = Timestamp::now();
                if let Some(recent) = tx.password_reset_of(username.as_str())?
                    && recent
                        .created_at
                        .checked_add(MAIL_AT_MOST_EVERY)
                        .is_ok_and(|t| t > now)
                {
                    return Ok(false);
                }
                let (secret, _) = keep_reset(tx, &config, &username)?;
                let url = reset_url(&mail::link_base(&config), &secret);
                mail::queue(
                    tx,
                    &config,
                    messages::password_reset(&config, to.as_str(), username.as_str(), &url),
                )?;
                Ok(true)
            })
            .await?;
        if queued {
            self.wake_mail();
        }
        Ok(())
    }

    /// Sets a new password with a reset link; the link works once.
    pub async fn reset_password(&self, request: ResetRequest) -> Result<(), AppError> {
        let ip_key = Self::client_key();
        self.throttled(&[&ip_key])?;
        if request.token.len() > 256 {
            return Err(link_refused());
        }
        let hash = auth::token_hash(request.token.trim());
        let lookup = hash.clone();
        let reset = self.read(move |tx| Ok(tx.password_reset(&lookup)?)).await?;
        // A link's secret cannot be guessed (256 bits): a wrong one is not
        // counted against the address as a wrong password is.
        let Some(reset) = reset.filter(|r| r.expires_at > Timestamp::now()) else {
            return Err(link_refused());
        };
        let username = Username::parse(&reset.username).map_err(|_| link_refused())?;
        let password = auth::new_password(request.password, &username, &self.config().shop.name)
            .map_err(AppError::field("password"))?;
        let password_hash = self.hash(password).await?;
        self.write(move |tx| {
            // Taken in the write: two uses at once cannot both pass.
            let Some(reset) = tx.take_password_reset(&hash)? else {
                return Err(link_refused());
            };
            let user = tx
                .user(&username)?
                .filter(|u| !u.disabled && u.username.as_str() == reset.username)
                .ok_or_else(link_refused)?;
            let actor = Actor::user(&user.username);
            set_password(tx, &actor, &user.username, password_hash).map(|_| ())
        })
        .await
    }
}

/// Keeps a new reset link for `username`; its secret and expiry.
fn keep_reset(
    tx: &mut crate::store::WriteTx,
    config: &crate::config::Config,
    username: &Username,
) -> Result<(String, Timestamp), AppError> {
    let now = Timestamp::now();
    let expires_at = now
        .checked_add(SignedDuration::from_mins(i64::from(
            config.mail.reset_link_minutes,
        )))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let secret = auth::new_secret();
    tx.put_password_reset(
        &auth::token_hash(&secret),
        &PasswordReset {
            username: username.to_string(),
            created_at: now,
            expires_at,
        },
        now,
    )?;
    Ok((secret, expires_at))
}
