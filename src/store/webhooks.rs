//! Webhook endpoints and their delivery log in the store.

use std::ops::Bound;

use jiff::Timestamp;

use super::tables::{META, WEBHOOK_DELIVERIES, WEBHOOK_ID_KEY, WEBHOOKS};
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::webhooks::{Delivery, DeliveryState, Webhook};

macro_rules! webhook_reads {
    () => {
        /// Every endpoint, by id. There are few; they are listed whole.
        pub fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
            let table = self.table(WEBHOOKS)?;
            let mut hooks = Vec::new();
            for entry in table.all()? {
                let (id, bytes) = entry?;
                hooks.push(decode("webhooks", &id.to_string(), &bytes)?);
            }
            Ok(hooks)
        }

        pub fn webhook(&self, id: u64) -> Result<Option<Webhook>, StoreError> {
            match self.table(WEBHOOKS)?.get(id)? {
                Some(bytes) => decode("webhooks", &id.to_string(), &bytes).map(Some),
                None => Ok(None),
            }
        }
    };
}

impl ReadTx {
    webhook_reads!();

    /// Up to `limit` attempts of endpoint `id`, newest first, numbered below
    /// `before` (all, without it).
    pub fn webhook_deliveries(
        &self,
        id: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let table = self.table(WEBHOOK_DELIVERIES)?;
        let high = match before {
            Some(n) => Bound::Excluded((id, n)),
            None => Bound::Included((id, u64::MAX)),
        };
        let mut out = Vec::new();
        for entry in table
            .range(Bound::Included((id, 0)), high, true)?
            .take(limit)
        {
            let ((_, number), bytes) = entry?;
            out.push(decode(
                "webhook_deliveries",
                &format!("{id}/{number}"),
                &bytes,
            )?);
        }
        Ok(out)
    }
}

impl WriteTx {
    webhook_reads!();

    /// A new endpoint id, never given out before in this store.
    pub fn next_webhook_id(&mut self) -> Result<u64, StoreError> {
        let mut meta = self.table(META)?;
        let id = meta.get(WEBHOOK_ID_KEY)?.unwrap_or(0) + 1;
        meta.insert(WEBHOOK_ID_KEY, id)?;
        drop(meta);
        self.writes += 1;
        Ok(id)
    }

    /// Stores an endpoint's settings (the caller logs the change).
    pub fn put_webhook(&mut self, hook: &Webhook) -> Result<(), StoreError> {
        self.writes += 1;
        let bytes = serde_json::to_vec(hook).expect("records serialize");
        self.table(WEBHOOKS)?.insert(hook.id, bytes.as_slice())?;
        Ok(())
    }

    /// Removes an endpoint and its delivery log (the caller logs the change).
    pub fn delete_webhook(&mut self, id: u64) -> Result<bool, StoreError> {
        self.writes += 1;
        let numbers: Vec<u64> = {
            let table = self.table(WEBHOOK_DELIVERIES)?;
            let mut numbers = Vec::new();
            let rows = table.range(
                Bound::Included((id, 0)),
                Bound::Included((id, u64::MAX)),
                false,
            )?;
            for entry in rows {
                numbers.push(entry?.0.1);
            }
            numbers
        };
        let mut deliveries = self.table(WEBHOOK_DELIVERIES)?;
        for number in numbers {
            deliveries.remove((id, number))?;
        }
        drop(deliveries);
        self.table(WEBHOOKS)?.remove(id)
    }

    /// Bookkeeping of the delivery worker: where endpoint `id`'s delivery
    /// stands and the attempts it made, unless the endpoint was deleted, or
    /// replayed since the worker read it (`rewinds` differs: the attempts are
    /// logged, the position is the replay's). Whether the endpoint still exists.
    pub fn record_webhook_progress(
        &mut self,
        id: u64,
        state: &DeliveryState,
        attempts: &[Delivery],
    ) -> Result<bool, StoreError> {
        let Some(mut hook) = self.webhook(id)? else {
            return Ok(false);
        };
        let logged = hook.delivery.logged.max(state.logged);
        if hook.delivery.rewinds == state.rewinds {
            hook.delivery = state.clone();
        }
        hook.delivery.logged = logged;
        let bytes = serde_json::to_vec(&hook).expect("records serialize");
        self.table(WEBHOOKS)?.insert(id, bytes.as_slice())?;
        let mut deliveries = self.table(WEBHOOK_DELIVERIES)?;
        for attempt in attempts {
            let bytes = serde_json::to_vec(attempt).expect("records serialize");
            deliveries.insert((id, attempt.number), bytes.as_slice())?;
        }
        drop(deliveries);
        let written = 1 + attempts.len() as u64;
        self.writes += written;
        self.bookkeeping_writes += written;
        Ok(true)
    }

    /// Removes up to `limit` of endpoint `id`'s oldest attempts made before
    /// `cutoff`; how many went.
    pub fn prune_webhook_deliveries(
        &mut self,
        id: u64,
        cutoff: Timestamp,
        limit: usize,
    ) -> Result<usize, StoreError> {
        let old: Vec<u64> = {
            let table = self.table(WEBHOOK_DELIVERIES)?;
            let mut old = Vec::new();
            let rows = table.range(
                Bound::Included((id, 0)),
                Bound::Included((id, u64::MAX)),
                false,
            )?;
            for entry in rows.take(limit) {
                let ((_, number), bytes) = entry?;
                let attempt: Delivery =
                    decode("webhook_deliveries", &format!("{id}/{number}"), &bytes)?;
                if attempt.at >= cutoff {
                    break;
                }
                old.push(number);
            }
            old
        };
        let mut table = self.table(WEBHOOK_DELIVERIES)?;
        for number in &old {
            table.remove((id, *number))?;
        }
        drop(table);
        self.writes += old.len() as u64;
        self.bookkeeping_writes += old.len() as u64;
        Ok(old.len())
    }
}
