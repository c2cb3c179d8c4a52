//! Mail: messages are queued in the store's outbox in the same transaction
//! as what they tell of (a quote saved, a reset link issued), and a worker
//! on the leading node hands them to the SMTP server, retrying with backoff
//! until `mail.give_up_hours`. A request never waits for the mail server.
//! Without `[mail]` nothing is queued: the links are shown instead.

pub mod messages;
mod worker;

use jiff::Timestamp;

use super::cursor::{self, Listing};
use super::{App, AppError};
use crate::config::Config;
use crate::domain::mail::{MailNotice, MailView};
use crate::store::WriteTx;
use crate::store::mail::NewMail;

pub use worker::backoff;

/// Where the links in mail point: `public_base_url`, else the listening
/// address (never the `Host` a request named: a forged one would put a
/// stranger's site in the shop's mail).
pub fn link_base(config: &Config) -> String {
    let scheme = if config.tls.cert.is_some() {
        "https"
    } else {
        "http"
    };
    config
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{}", config.listen))
        .trim_end_matches('/')
        .to_owned()
}

/// Queues `mail` in `tx` when mail is configured; what was done.
pub fn queue(tx: &mut WriteTx, config: &Config, mail: NewMail) -> Result<MailNotice, AppError> {
    if !config.mail.enabled() {
        return Ok(MailNotice {
            id: None,
            to: Some(mail.to),
            state: "not_configured".into(),
        });
    }
    let to = mail.to.clone();
    let id = tx.queue_mail(mail, Timestamp::now())?;
    Ok(MailNotice {
        id: Some(id),
        to: Some(to),
        state: "queued".into(),
    })
}

/// The answer when there is nobody to write to.
pub fn no_address() -> MailNotice {
    MailNotice {
        id: None,
        to: None,
        state: "no_address".into(),
    }
}

/// Most messages one page of the outbox lists.
const MAX_PAGE: usize = 200;

impl App {
    /// Tells the mail worker a message was queued (it also looks every second).
    pub(crate) fn wake_mail(&self) {
        self.inner.mail_wake.notify_one();
    }

    /// The outbox, newest first: recipients, subjects and where each message
    /// stands (never its text).
    pub async fn mail_outbox(
        &self,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> Result<Listing<MailView>, AppError> {
        let limit = cursor::limit(limit, 50, MAX_PAGE)?;
        let before: Option<u64> = cursor.as_deref().map(cursor::decode).transpose()?;
        self.read(move |tx| {
            let messages = tx.mail_messages(before, limit + 1)?;
            let more = messages.len() > limit;
            let items: Vec<MailView> = messages.iter().take(limit).map(MailView::from).collect();
            let next_cursor = more
                .then(|| items.last().map(|m| cursor::encode(&m.id)))
                .flatten();
            Ok(Listing { items, next_cursor })
        })
        .await
    }

    /// Queues a test message to `to` (an owner checking the settings).
    pub async fn send_test_mail(&self, to: String) -> Result<MailNotice, AppError> {
        if !self.config().mail.enabled() {
            return Err(AppError::conflict(
                super::ErrorCode::MailNotConfigured,
                "to",
                "mail is not configured: set [mail] smtp_url and from (QUARRY_MAIL_SMTP_URL, QUARRY_MAIL_FROM)",
            ));
        }
        let config = self.config().clone();
        let notice = self
            .write(move |tx| queue(tx, &config, messages::test(&config, &to)))
            .await?;
        self.wake_mail();
        Ok(notice)
    }
}
