//! The mail outbox and password-reset links in the store. Keeping mail is
//! bookkeeping: it needs no change-log entry of its own (a message queued
//! by a logged write, such as a new quote, commits with it or not at all).

use std::ops::Bound;

use jiff::Timestamp;

use super::tables::{MAIL, MAIL_DIGEST_DAY_KEY, MAIL_ID_KEY, MAIL_QUEUE, META, PASSWORD_RESETS};
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::mail::{MailBody, MailKind, MailMessage, MailState, PasswordReset};

fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

/// How an attempt to send a message ended.
#[derive(Debug, Clone)]
pub enum MailOutcome {
    Sent,
    /// Try again at the given time.
    Retry(Timestamp, String),
    /// Given up on.
    Failed(String),
}

/// A message to queue.
pub struct NewMail {
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub reference: Option<String>,
    pub body: MailBody,
}

macro_rules! mail_reads {
    () => {
        pub fn mail_message(&self, id: u64) -> Result<Option<MailMessage>, StoreError> {
            match self.table(MAIL)?.get(id)? {
                Some(bytes) => decode("mail", &id.to_string(), &bytes).map(Some),
                None => Ok(None),
            }
        }

        /// The day (since 1970) the last low-stock digest was queued for.
        pub fn mail_digest_day(&self) -> Result<Option<u64>, StoreError> {
            self.table(META)?.get(MAIL_DIGEST_DAY_KEY)
        }

        /// The live reset link of `username`, if any (there are few: each
        /// user has at most one, and expired ones go when a new one is made).
        pub fn password_reset_of(
            &self,
            username: &str,
        ) -> Result<Option<PasswordReset>, StoreError> {
            let table = self.table(PASSWORD_RESETS)?;
            for entry in table.all()? {
                let (key, bytes) = entry?;
                let reset: PasswordReset = decode("password_resets", &key, &bytes)?;
                if reset.username == username {
                    return Ok(Some(reset));
                }
            }
            Ok(None)
        }

        /// The password reset a link's secret hash opens, if any.
        pub fn password_reset(&self, hash: &str) -> Result<Option<PasswordReset>, StoreError> {
            match self.table(PASSWORD_RESETS)?.get(hash)? {
                Some(bytes) => decode("password_resets", hash, &bytes).map(Some),
                None => Ok(None),
            }
        }
    };
}

impl ReadTx {
    mail_reads!();

    /// Up to `limit` messages, newest first, numbered below `before` (from
    /// the newest without it).
    pub fn mail_messages(
        &self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<MailMessage>, StoreError> {
        let table = self.table(MAIL)?;
        let high = before.map_or(Bound::Unbounded, Bound::Excluded);
        let mut out = Vec::new();
        for entry in table.range(Bound::Unbounded, high, true)?.take(limit) {
            let (id, bytes) = entry?;
            out.push(decode("mail", &id.to_string(), &bytes)?);
        }
        Ok(out)
    }

    /// Up to `limit` queued messages whose attempt is due at `now`, the
    /// longest due first.
    pub fn due_mail(&self, now: Timestamp, limit: usize) -> Result<Vec<MailMessage>, StoreError> {
        let ids: Vec<u64> = {
            let queue = self.table(MAIL_QUEUE)?;
            let mut ids = Vec::new();
            let rows = queue.range(
                Bound::Unbounded,
                Bound::Included((micros(now), u64::MAX)),
                false,
            )?;
            for entry in rows.take(limit) {
                ids.push(entry?.0.1);
            }
            ids
        };
        let table = self.table(MAIL)?;
        let mut out = Vec::with_capacity(ids.len());
        for (id, bytes) in ids.iter().zip(table.get_many(&ids)?) {
            if let Some(bytes) = bytes {
                out.push(decode("mail", &id.to_string(), &bytes)?);
            }
        }
        Ok(out)
    }

    /// How many messages wait to be sent.
    pub fn mail_queued(&self) -> Result<u64, StoreError> {
        self.table(MAIL_QUEUE)?.len()
    }
}

impl WriteTx {
    mail_reads!();

    /// Queues a message, due at once; its id.
    pub fn queue_mail(&mut self, mail: NewMail, now: Timestamp) -> Result<u64, StoreError> {
        let mut meta = self.table(META)?;
        let id = meta.get(MAIL_ID_KEY)?.unwrap_or(0) + 1;
        meta.insert(MAIL_ID_KEY, id)?;
        drop(meta);
        let message = MailMessage {
            id,
            kind: mail.kind,
            to: mail.to,
            subject: mail.subject,
            reference: mail.reference,
            body: Some(mail.body),
            state: MailState::Queued,
            attempts: 0,
            created_at: now,
            next_attempt_at: Some(now),
            sent_at: None,
            last_error: None,
        };
        let bytes = serde_json::to_vec(&message).expect("records serialize");
        self.table(MAIL)?.insert(id, bytes.as_slice())?;
        self.table(MAIL_QUEUE)?.insert((micros(now), id), ())?;
        self.writes += 3;
        self.bookkeeping_writes += 3;
        Ok(id)
    }

    /// Notes the day the low-stock digest was queued for.
    pub fn set_mail_digest_day(&mut self, day: u64) -> Result<(), StoreError> {
        self.table(META)?.insert(MAIL_DIGEST_DAY_KEY, day)?;
        self.writes += 1;
        self.bookkeeping_writes += 1;
        Ok(())
    }

    /// Records an attempt at message `id`; the message as it now stands
    /// (None if it is gone, or no longer queued: another node sent it).
    pub fn record_mail_attempt(
        &mut self,
        id: u64,
        at: Timestamp,
        outcome: MailOutcome,
    ) -> Result<Option<MailMessage>, StoreError> {
        let Some(mut message) = self.mail_message(id)? else {
            return Ok(None);
        };
        if message.state != MailState::Queued {
            return Ok(None);
        }
        let mut queue = self.table(MAIL_QUEUE)?;
        if let Some(due) = message.next_attempt_at {
            queue.remove((micros(due), id))?;
        }
        message.attempts += 1;
        match outcome {
            MailOutcome::Sent => {
                message.state = MailState::Sent;
                message.sent_at = Some(at);
                message.next_attempt_at = None;
                message.body = None;
            }
            MailOutcome::Retry(next, error) => {
                message.next_attempt_at = Some(next);
                message.last_error = Some(error);
                queue.insert((micros(next), id), ())?;
            }
            MailOutcome::Failed(error) => {
                message.state = MailState::Failed;
                message.next_attempt_at = None;
                message.last_error = Some(error);
                message.body = None;
            }
        }
        drop(queue);
        let bytes = serde_json::to_vec(&message).expect("records serialize");
        self.table(MAIL)?.insert(id, bytes.as_slice())?;
        self.writes += 3;
        self.bookkeeping_writes += 3;
        Ok(Some(message))
    }

    /// Removes up to `limit` of the oldest messages, sent or failed, made
    /// before `cutoff`; how many went. A queued one stops the sweep.
    pub fn prune_mail(&mut self, cutoff: Timestamp, limit: usize) -> Result<usize, StoreError> {
        let old: Vec<u64> = {
            let table = self.table(MAIL)?;
            let mut old = Vec::new();
            for entry in table.all()?.take(limit) {
                let (id, bytes) = entry?;
                let message: MailMessage = decode("mail", &id.to_string(), &bytes)?;
                if message.created_at >= cutoff || message.state == MailState::Queued {
                    break;
                }
                old.push(id);
            }
            old
        };
        let mut table = self.table(MAIL)?;
        for id in &old {
            table.remove(*id)?;
        }
        drop(table);
        self.writes += old.len() as u64;
        self.bookkeeping_writes += old.len() as u64;
        Ok(old.len())
    }

    /// Keeps a password-reset link (by its secret's hash), dropping the
    /// user's earlier ones and every expired one: one link a user works.
    pub fn put_password_reset(
        &mut self,
        hash: &str,
        reset: &PasswordReset,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let stale: Vec<String> = {
            let table = self.table(PASSWORD_RESETS)?;
            let mut stale = Vec::new();
            for entry in table.all()? {
                let (key, bytes) = entry?;
                let old: PasswordReset = decode("password_resets", &key, &bytes)?;
                if old.username == reset.username || old.expires_at <= now {
                    stale.push(key);
                }
            }
            stale
        };
        let mut table = self.table(PASSWORD_RESETS)?;
        for key in &stale {
            table.remove(key.as_str())?;
        }
        let bytes = serde_json::to_vec(reset).expect("records serialize");
        table.insert(hash, bytes.as_slice())?;
        drop(table);
        let written = 1 + stale.len() as u64;
        self.writes += written;
        self.bookkeeping_writes += written;
        Ok(())
    }

    /// Takes (removes) the reset a link's hash opens: a link works once.
    pub fn take_password_reset(&mut self, hash: &str) -> Result<Option<PasswordReset>, StoreError> {
        let found = self.password_reset(hash)?;
        if found.is_some() {
            self.table(PASSWORD_RESETS)?.remove(hash)?;
            self.writes += 1;
            self.bookkeeping_writes += 1;
        }
        Ok(found)
    }
}
