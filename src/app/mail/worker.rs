//! The mail worker: on the leading node, it hands due messages to the SMTP
//! server one at a time, records each attempt, and queues the daily
//! low-stock digest. A message counts as sent once the server has accepted
//! it; a crash between that and the record sends it again (at least once).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::messages::{self, LowLine};
use crate::app::App;
use crate::config::MailConfig;
use crate::domain::ledger;
use crate::domain::mail::MailMessage;
use crate::store::mail::MailOutcome;

/// How often the worker looks for due messages when not woken.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// Messages sent per look, at most.
const BATCH: usize = 16;
/// Old messages are pruned this often.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// The most products one digest lists.
const DIGEST_LINES: usize = 500;

/// The delay before retry number `attempts` (1 for the first): doubling from
/// `retry_first_secs` up to `retry_max_secs`, then between half and all of it.
pub fn backoff(attempts: u32, config: &MailConfig) -> Duration {
    let max = Duration::from_secs(u64::from(config.retry_max_secs));
    let doubled = Duration::from_secs(u64::from(config.retry_first_secs))
        .checked_mul(1u32 << attempts.saturating_sub(1).min(30))
        .unwrap_or(max)
        .min(max);
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).expect("the operating system's random source works");
    let fraction = f64::from(u32::from_le_bytes(random)) / f64::from(u32::MAX);
    doubled.mul_f64(0.5 + fraction / 2.0)
}

/// The SMTP transport `mail.smtp_url` describes: `smtp://` with STARTTLS
/// required unless `?tls=none` (or `?tls=opportunistic`), `smtps://` with TLS.
fn transport(config: &MailConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let url = config.smtp_url.as_deref().ok_or("mail is not configured")?;
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&lettre_url(url))
        .map_err(|e| format!("mail.smtp_url cannot be used: {e}"))?;
    Ok(builder
        .timeout(Some(Duration::from_secs(u64::from(config.timeout_secs))))
        .build())
}

/// `mail.smtp_url` as lettre reads it: lettre sends `smtp://` in the clear
/// unless told `tls=required`, so that is added; Quarry's `tls=none` is
/// lettre's nothing. `smtps://` and an explicit `tls=` stay as written.
fn lettre_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let has_tls = params.iter().any(|p| p.starts_with("tls="));
    params.retain(|p| *p != "tls=none");
    if !has_tls && base.starts_with("smtp://") {
        params.push("tls=required");
    }
    if params.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", params.join("&"))
    }
}

/// The message as SMTP sends it; `Err` when it can never be sent.
fn envelope(config: &MailConfig, message: &MailMessage) -> Result<Message, String> {
    let from: Mailbox = config
        .from
        .as_deref()
        .ok_or("mail.from is not set")?
        .parse()
        .map_err(|e| format!("mail.from: {e}"))?;
    let to: Mailbox = message
        .to
        .parse()
        .map_err(|e| format!("{:?} is not an address mail can go to: {e}", message.to))?;
    let body = message.body.as_ref().ok_or("the message has no text")?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(message.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            body.text.clone(),
            body.html.clone(),
        ))
        .map_err(|e| e.to_string())
}

impl App {
    /// Starts sending queued mail, until shutdown (when mail is configured).
    pub fn deliver_mail(&self) {
        if !self.config().mail.enabled() {
            return;
        }
        let app = self.clone();
        self.spawn_background(async move { supervise(app).await });
    }
}

async fn supervise(app: App) {
    let stop = app.shutting_down();
    let wake = app.inner.mail_wake.clone();
    let config = app.config().mail.clone();
    let transport = match transport(&config) {
        Ok(t) => Some(t),
        Err(error) => {
            tracing::error!(%error, "mail cannot be sent");
            None
        }
    };
    let mut pruned: Option<tokio::time::Instant> = None;
    loop {
        if app.inner.store.leads() {
            send_due(&app, &config, transport.as_ref()).await;
            if let Err(error) = digest(&app).await {
                tracing::warn!(%error, "queueing the low-stock digest failed");
            }
            if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                pruned = Some(tokio::time::Instant::now());
                prune(&app).await;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(LOOK_EVERY) => {}
            () = wake.notified() => {}
            () = stop.cancelled() => break,
        }
    }
}

/// Sends the messages due now, one at a time.
async fn send_due(
    app: &App,
    config: &MailConfig,
    transport: Option<&AsyncSmtpTransport<Tokio1Executor>>,
) {
    let due = match app
        .read(|tx| Ok(tx.due_mail(Timestamp::now(), BATCH)?))
        .await
    {
        Ok(due) => due,
        Err(error) => {
            tracing::debug!(%error, "reading the mail outbox failed");
            return;
        }
    };
    for message in due {
        if app.shutting_down().is_cancelled() {
            return;
        }
        let outcome = attempt(config, transport, &message).await;
        let label = match &outcome {
            MailOutcome::Sent => "sent",
            MailOutcome::Retry(..) => "retrying",
            MailOutcome::Failed(_) => "failed",
        };
        match &outcome {
            MailOutcome::Sent => {
                tracing::info!(id = message.id, kind = ?message.kind, "mail sent");
            }
            MailOutcome::Retry(next, error) => {
                tracing::warn!(id = message.id, %error, %next, "mail not sent; retrying");
            }
            MailOutcome::Failed(error) => {
                tracing::warn!(id = message.id, %error, "mail given up");
            }
        }
        app.metrics().mail_attempt(label);
        let id = message.id;
        let at = Timestamp::now();
        if let Err(error) = app
            .write(move |tx| Ok(tx.record_mail_attempt(id, at, outcome)?))
            .await
        {
            tracing::warn!(id, %error, "recording a mail attempt failed; it is sent again");
            return;
        }
    }
}

/// One attempt at `message`, and what follows from it.
async fn attempt(
    config: &MailConfig,
    transport: Option<&AsyncSmtpTransport<Tokio1Executor>>,
    message: &MailMessage,
) -> MailOutcome {
    let now = Timestamp::now();
    let give_up = message
        .created_at
        .checked_add(SignedDuration::from_hours(i64::from(config.give_up_hours)))
        .unwrap_or(now);
    let retry_or_fail = |error: String| {
        let delay = backoff(message.attempts + 1, config);
        let next = now
            .checked_add(SignedDuration::try_from(delay).unwrap_or(SignedDuration::ZERO))
            .unwrap_or(now);
        if next > give_up {
            MailOutcome::Failed(format!(
                "{error} (retried for {} hours)",
                config.give_up_hours
            ))
        } else {
            MailOutcome::Retry(next, error)
        }
    };
    let Some(transport) = transport else {
        return retry_or_fail("mail.smtp_url cannot be used (see the log)".into());
    };
    let envelope = match envelope(config, message) {
        Ok(e) => e,
        Err(error) => return MailOutcome::Failed(error),
    };
    match transport.send(envelope).await {
        Ok(_) => MailOutcome::Sent,
        Err(error) if error.is_permanent() => MailOutcome::Failed(error.to_string()),
        Err(error) => retry_or_fail(error.to_string()),
    }
}

/// Removes sent and failed messages older than `mail.keep_days`.
async fn prune(app: &App) {
    let days = i64::from(app.config().mail.keep_days);
    let Ok(cutoff) = Timestamp::now().checked_sub(SignedDuration::from_hours(days * 24)) else {
        return;
    };
    match app
        .write(move |tx| Ok(tx.prune_mail(cutoff, 10_000)?))
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::debug!(messages = n, "old mail pruned"),
        Err(error) => tracing::warn!(%error, "pruning the mail outbox failed"),
    }
}

/// Queues the low-stock digest once a day, at `mail.low_stock_hour_utc`
/// or later, when there is something to list and someone to tell.
async fn digest(app: &App) -> Result<(), crate::app::AppError> {
    let config = app.config().clone();
    if config.mail.low_stock_to.is_empty() {
        return Ok(());
    }
    let now = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    if now.hour() < i8::try_from(config.mail.low_stock_hour_utc).unwrap_or(0) {
        return Ok(());
    }
    let today = now.date();
    let day_number = u64::try_from(
        today
            .since(jiff::civil::date(1970, 1, 1))
            .map_or(0, |span| span.get_days()),
    )
    .unwrap_or(0);
    let sent = app.read(|tx| Ok(tx.mail_digest_day()?)).await?;
    if sent == Some(day_number) {
        return Ok(());
    }
    let lines = app.read(low_lines).await?;
    let queued = app
        .write(move |tx| {
            // Another node (or a restart) may have queued it meanwhile.
            if tx.mail_digest_day()? == Some(day_number) {
                return Ok(false);
            }
            tx.set_mail_digest_day(day_number)?;
            if lines.is_empty() {
                return Ok(false);
            }
            for to in &config.mail.low_stock_to {
                super::queue(tx, &config, messages::low_stock(&config, to, &lines, today))?;
            }
            Ok(true)
        })
        .await?;
    if queued {
        app.wake_mail();
    }
    Ok(())
}

/// Every level at or below its reorder point, in SKU order.
fn low_lines(tx: &crate::store::ReadTx) -> Result<Vec<LowLine>, crate::app::AppError> {
    let mut lines = Vec::new();
    let mut current: Option<(
        crate::domain::values::Sku,
        Option<crate::domain::catalogue::Product>,
    )> = None;
    tx.for_each_level::<crate::app::AppError>(|(sku, location, level)| {
        if lines.len() >= DIGEST_LINES {
            return Ok(());
        }
        if current.as_ref().is_none_or(|(s, _)| *s != sku) {
            let product = tx.product(&sku)?;
            current = Some((sku.clone(), product));
        }
        let Some((_, Some(product))) = current.as_ref() else {
            return Ok(());
        };
        let Some(point) = product.reorder_point_at(&location) else {
            return Ok(());
        };
        if !product.active || !ledger::is_low(level.available(), Some(point.value())) {
            return Ok(());
        }
        lines.push(LowLine {
            sku: sku.to_string(),
            name: product.name.to_string(),
            location: location.to_string(),
            available: level.available().normalize().to_string(),
            reorder_point: point.value().normalize().to_string(),
            unit: product.unit.to_string(),
        });
        Ok(())
    })?;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_require_starttls_unless_told_otherwise() {
        for (given, read) in [
            (
                "smtp://u:p@mail.example.com:587",
                "smtp://u:p@mail.example.com:587?tls=required",
            ),
            ("smtp://127.0.0.1:25?tls=none", "smtp://127.0.0.1:25"),
            (
                "smtp://h:25?tls=opportunistic",
                "smtp://h:25?tls=opportunistic",
            ),
            ("smtp://h:25?tls=none&x=1", "smtp://h:25?x=1"),
            ("smtp://h:25?x=1", "smtp://h:25?x=1&tls=required"),
            (
                "smtps://u:p@mail.example.com:465",
                "smtps://u:p@mail.example.com:465",
            ),
        ] {
            assert_eq!(lettre_url(given), read, "{given}");
        }
    }

    #[test]
    fn retries_back_off_doubling_with_jitter_up_to_the_longest_delay() {
        let config = MailConfig {
            retry_first_secs: 10,
            retry_max_secs: 60,
            ..MailConfig::default()
        };
        for (attempt, full) in [(1, 10), (2, 20), (3, 40), (4, 60), (30, 60)] {
            let delay = backoff(attempt, &config);
            let full = Duration::from_secs(full);
            assert!(delay <= full && delay >= full / 2, "{attempt}: {delay:?}");
        }
    }
}
