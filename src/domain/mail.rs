//! Mail: the messages Quarry sends (quote links, password-reset links, the
//! low-stock digest), kept in an outbox in the store until the SMTP server
//! has taken them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// A customer's link to their quote.
    QuoteLink,
    /// A staff member's link to set a new password.
    PasswordReset,
    /// The daily list of products below their reorder point.
    LowStock,
    /// A test message sent from the back office.
    Test,
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    /// Waiting for its (next) attempt.
    Queued,
    /// Taken by the SMTP server.
    Sent,
    /// Given up on: refused for good by the server, or not taken within
    /// `mail.give_up_hours`.
    Failed,
}

/// A message's text, kept until it is sent (the links in it are secrets, so
/// it is dropped then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailBody {
    pub text: String,
    pub html: String,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailMessage {
    pub id: u64,
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    /// What it is about: a quote number, a username.
    pub reference: Option<String>,
    pub body: Option<MailBody>,
    pub state: MailState,
    /// Attempts made so far.
    pub attempts: u32,
    pub created_at: Timestamp,
    /// When the next attempt is due, while queued.
    pub next_attempt_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// What the back office and the API show of a message: never its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MailView {
    pub id: u64,
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub reference: Option<String>,
    pub state: MailState,
    pub attempts: u32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

impl From<&MailMessage> for MailView {
    fn from(m: &MailMessage) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            to: m.to.clone(),
            subject: m.subject.clone(),
            reference: m.reference.clone(),
            state: m.state,
            attempts: m.attempts,
            created_at: m.created_at,
            next_attempt_at: m.next_attempt_at,
            sent_at: m.sent_at,
            last_error: m.last_error.clone(),
        }
    }
}

/// What an action that may send mail did about it, in its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailNotice {
    /// The outbox message, when one was queued.
    pub id: Option<u64>,
    /// Whom it goes to.
    pub to: Option<String>,
    /// `queued`, or why none was: `not_configured` (no `[mail]` settings),
    /// `no_address` (nobody to send it to).
    pub state: String,
}

/// A staff member's password-reset link, as kept: the SHA-256 of its
/// secret is the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub username: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}
