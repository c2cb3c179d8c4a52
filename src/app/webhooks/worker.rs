//! The delivery worker: one task per enabled endpoint, each reading the
//! change log from the endpoint's cursor and sending its messages one at a
//! time, in order. A message counts as delivered once the receiver answers
//! 2xx, and the cursor moves past it only then, in the store: a restart or a
//! crash sends again what was not recorded (at least once), never skips.
//! With several nodes on one database, only the leading node delivers.

use std::collections::HashMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::task::JoinHandle;

use super::messages::{self, Message};
use super::send::{Outcome, Sender};
use crate::app::App;
use crate::domain::webhooks::{Delivery, DeliveryState, Webhook};

/// How often the supervisor looks for endpoints added, resumed or removed,
/// and whether this node leads.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// A cursor moved only over unwanted changes is saved at most this often.
const SAVE_SKIPPED_EVERY: Duration = Duration::from_secs(5);
/// The delivery log is pruned this often.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// Most old attempts one pruning removes per endpoint.
const PRUNE_AT_MOST: usize = 10_000;

/// Where one endpoint's delivery stands, as the worker saves it.
pub type Progress = DeliveryState;

/// A logged attempt, numbered later (when it is saved).
pub(super) fn attempt(
    seq: u64,
    message_id: String,
    event: &str,
    attempt: u32,
    at: Timestamp,
    outcome: Outcome,
) -> Delivery {
    Delivery {
        number: 0,
        seq,
        message_id,
        event: event.to_owned(),
        at,
        attempt,
        ok: outcome.ok,
        status: outcome.status,
        latency_ms: outcome.latency_ms,
        response: outcome.response,
        error: outcome.error,
    }
}

/// The delay before retry number `attempts` (1 for the first): doubling
/// from `retry_first_ms` up to `retry_max_secs`, then between half and all
/// of it at random, so that receivers coming back are not hit all at once.
pub fn backoff(attempts: u32, config: &crate::config::WebhooksConfig) -> Duration {
    let max = Duration::from_secs(u64::from(config.retry_max_secs));
    let doubled = Duration::from_millis(config.retry_first_ms)
        .checked_mul(1u32 << attempts.saturating_sub(1).min(30))
        .unwrap_or(max)
        .min(max);
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).expect("the operating system's random source works");
    let fraction = f64::from(u32::from_le_bytes(random)) / f64::from(u32::MAX);
    doubled.mul_f64(0.5 + fraction / 2.0)
}

impl App {
    /// Starts delivering webhooks, until shutdown.
    pub fn deliver_webhooks(&self) {
        let app = self.clone();
        self.spawn_background(async move { supervise(app).await });
    }
}

async fn supervise(app: App) {
    let stop = app.shutting_down();
    let mut running: HashMap<u64, JoinHandle<()>> = HashMap::new();
    let mut pruned = tokio::time::Instant::now();
    let mut first_prune = true;
    loop {
        running.retain(|_, task| !task.is_finished());
        if app.inner.store.leads() {
            match app.read(|tx| Ok(tx.webhooks()?)).await {
                Ok(hooks) => {
                    for hook in hooks {
                        let wanted = hook.enabled && !hook.delivery.failing;
                        if wanted && !running.contains_key(&hook.id) {
                            match app.webhook_sender() {
                                Ok(sender) => {
                                    let task = tokio::spawn(follow(app.clone(), sender, hook.id));
                                    running.insert(hook.id, task);
                                }
                                Err(error) => tracing::warn!(%error, "webhooks cannot be sent"),
                            }
                        }
                    }
                    if first_prune || pruned.elapsed() >= PRUNE_EVERY {
                        first_prune = false;
                        pruned = tokio::time::Instant::now();
                        prune(&app).await;
                    }
                }
                Err(error) => tracing::debug!(%error, "reading webhook endpoints failed"),
            }
        } else {
            // Another node delivers; ours stop where they are (what they sent
            // and did not record is sent again by the leader).
            for (_, task) in running.drain() {
                task.abort();
            }
        }
        tokio::select! {
            () = tokio::time::sleep(LOOK_EVERY) => {}
            () = stop.cancelled() => break,
        }
    }
    // Each task stops at its next step (a message being sent is abandoned:
    // not recorded, it is sent again after the restart).
    for (_, mut task) in running.drain() {
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Removes attempts older than `webhooks.keep_deliveries_days`.
async fn prune(app: &App) {
    let days = i64::from(app.config().webhooks.keep_deliveries_days);
    let Ok(cutoff) = Timestamp::now().checked_sub(SignedDuration::from_hours(days * 24)) else {
        return;
    };
    let result = app
        .write(move |tx| {
            let mut removed = 0;
            for hook in tx.webhooks()? {
                removed += tx.prune_webhook_deliveries(hook.id, cutoff, PRUNE_AT_MOST)?;
            }
            Ok(removed)
        })
        .await;
    match result {
        Ok(0) => {}
        Ok(n) => tracing::debug!(attempts = n, "pruned the webhook delivery log"),
        Err(error) => tracing::warn!(%error, "pruning the webhook delivery log failed"),
    }
}

/// What the endpoint's task knows of it between two reads.
struct Position {
    /// The replay count the position belongs to.
    rewinds: u64,
    /// The last change looked at (delivered, or passed over).
    seq: u64,
    /// When a cursor moved over unwanted changes was last saved.
    saved: tokio::time::Instant,
}

/// Delivers endpoint `id`'s messages until it is paused, failing, deleted,
/// or the server stops.
async fn follow(app: App, sender: Sender, id: u64) {
    let stop = app.shutting_down();
    let mut committed = app.committed();
    let mut position: Option<Position> = None;
    loop {
        if stop.is_cancelled() {
            return;
        }
        let hook = match app.read(move |tx| Ok(tx.webhook(id)?)).await {
            Ok(Some(hook)) => hook,
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(%error, webhook = id, "reading a webhook endpoint failed");
                if pause(&stop, Duration::from_secs(1)).await {
                    return;
                }
                continue;
            }
        };
        if !hook.enabled || hook.delivery.failing {
            return;
        }
        if let Some(due) = hook.delivery.next_attempt_at {
            let wait = due.duration_since(Timestamp::now());
            if wait.is_positive() {
                // Woken now and then to notice a pause, a replay or a ping.
                let wait = wait.unsigned_abs().min(LOOK_EVERY);
                if pause(&stop, wait).await {
                    return;
                }
                continue;
            }
        }
        let start = match &position {
            Some(p) if p.rewinds == hook.delivery.rewinds && p.seq >= hook.delivery.cursor => p.seq,
            _ => hook.delivery.cursor,
        };
        let saved = position
            .as_ref()
            .filter(|p| p.rewinds == hook.delivery.rewinds)
            .map_or_else(tokio::time::Instant::now, |p| p.saved);
        let mode = app.config().stock.public_availability;
        let read = {
            let hook = hook.clone();
            app.read(move |tx| messages::after(tx, &hook, start, mode))
                .await
        };
        let (batch, last) = match read {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, webhook = id, "reading the change log for a webhook failed");
                if pause(&stop, Duration::from_secs(1)).await {
                    return;
                }
                continue;
            }
        };
        if batch.is_empty() {
            let mut position_now = Position {
                rewinds: hook.delivery.rewinds,
                seq: last,
                saved,
            };
            if last > hook.delivery.cursor && saved.elapsed() >= SAVE_SKIPPED_EVERY {
                let state = DeliveryState {
                    cursor: last,
                    ..hook.delivery.clone()
                };
                if save(&app, id, state, Vec::new()).await {
                    position_now.saved = tokio::time::Instant::now();
                }
            }
            position = Some(position_now);
            if last == start {
                // Nothing newer: wait for a commit (or look again soon, for
                // commits made by other nodes and for changes to the endpoint).
                tokio::select! {
                    _ = committed.changed() => {}
                    () = tokio::time::sleep(LOOK_EVERY) => {}
                    () = stop.cancelled() => return,
                }
            }
            continue;
        }
        match deliver(&app, &sender, &hook, batch, last, &stop).await {
            Some(state) => {
                position = Some(Position {
                    rewinds: hook.delivery.rewinds,
                    seq: state.cursor,
                    saved: tokio::time::Instant::now(),
                });
            }
            None => return,
        }
    }
}

/// Sends a batch in order, stopping at the first failure, and saves where
/// delivery stands with the attempts made. `None` when the server stops.
async fn deliver(
    app: &App,
    sender: &Sender,
    hook: &Webhook,
    batch: Vec<Message>,
    last: u64,
    stop: &tokio_util::sync::CancellationToken,
) -> Option<DeliveryState> {
    let config = &app.config().webhooks;
    let mut state = hook.delivery.clone();
    let mut attempts = Vec::new();
    let mut all_sent = true;
    for message in batch {
        if let Some(pace) = &app.inner.webhook_pace {
            tokio::select! {
                () = pace.until_ready() => {}
                () = stop.cancelled() => return None,
            }
        }
        let at = Timestamp::now();
        let outcome = tokio::select! {
            outcome = sender.send(hook, &message.id, message.body) => outcome,
            // Not recorded: sent again after the restart.
            () = stop.cancelled() => return None,
        };
        app.metrics().webhook_attempt(outcome.ok);
        state.logged += 1;
        let ok = outcome.ok;
        let error = outcome.error.clone();
        let mut logged = attempt(
            message.seq,
            message.id,
            message.event,
            state.attempts + 1,
            at,
            outcome,
        );
        logged.number = state.logged;
        attempts.push(logged);
        if ok {
            if message.ends_change {
                state.cursor = message.seq;
            }
            state.attempts = 0;
            state.failing_since = None;
            state.next_attempt_at = None;
            state.last_error = None;
            state.last_delivered_at = Some(Timestamp::now());
        } else {
            all_sent = false;
            state.attempts += 1;
            let since = *state.failing_since.get_or_insert(at);
            state.last_error = error;
            let given_up = Timestamp::now()
                .duration_since(since)
                .unsigned_abs()
                .as_secs()
                >= u64::from(config.retry_hours) * 3600;
            if given_up {
                state.failing = true;
                state.next_attempt_at = None;
                tracing::warn!(
                    webhook = hook.id,
                    url = %hook.url,
                    "webhook retries ran out; delivery stops until the owner resumes it"
                );
            } else {
                let delay = backoff(state.attempts, config);
                state.next_attempt_at = Timestamp::now()
                    .checked_add(SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX))
                    .ok();
            }
            break;
        }
    }
    if all_sent {
        state.cursor = state.cursor.max(last);
    }
    // The attempts are logged and the cursor moved even if the server is
    // stopping now: the writer finishes queued writes before it stops.
    save(app, hook.id, state.clone(), attempts).await;
    Some(state)
}

/// Saves where endpoint `id`'s delivery stands; whether it was saved.
async fn save(app: &App, id: u64, state: DeliveryState, attempts: Vec<Delivery>) -> bool {
    let result = app
        .write(move |tx| Ok(tx.record_webhook_progress(id, &state, &attempts)?))
        .await;
    match result {
        Ok(_) => true,
        Err(error) => {
            tracing::warn!(%error, webhook = id, "saving webhook delivery progress failed");
            false
        }
    }
}

/// Sleeps for `wait`; true when the server began to stop meanwhile.
async fn pause(stop: &tokio_util::sync::CancellationToken, wait: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(wait) => false,
        () = stop.cancelled() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WebhooksConfig;

    #[test]
    fn retries_back_off_doubling_with_jitter_up_to_the_most() {
        let config = WebhooksConfig::default();
        for attempts in 1..=40 {
            let full = Duration::from_secs(5)
                .saturating_mul(1 << (attempts - 1).min(30))
                .min(Duration::from_secs(3_600));
            let delay = backoff(attempts, &config);
            assert!(delay >= full / 2 && delay <= full, "{attempts}: {delay:?}");
        }
        // 72 hours of retries make about 80 attempts, not thousands.
        let mut spent = Duration::ZERO;
        let mut attempts = 0;
        while spent < Duration::from_secs(72 * 3600) {
            attempts += 1;
            spent += backoff(attempts, &config);
        }
        assert!((72..=150).contains(&attempts), "{attempts}");
    }
}
