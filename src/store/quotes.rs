//! Quotes in the store: the quotes themselves, numbered per year; the customer
//! links; and the open quotes in the order they expire.

use jiff::Timestamp;
use std::ops::Bound::{Excluded, Included, Unbounded};

use super::tables::{DELIVERIES, OPEN_QUOTES, QUOTES, QUOTES_BY_CUSTOMER, QUOTES_BY_LINK};
use super::{Page, ReadTx, StoreError, WriteTx, decode};
use crate::domain::customers::CustomerCode;
use crate::domain::quotes::{Quote, QuoteNumber, QuoteStatus};
use crate::domain::values::Sku;

/// (year, number in the year) of a quote number.
pub fn quote_key(number: &QuoteNumber) -> (i64, u64) {
    let mut parts = number.as_str().split('-').skip(1);
    let year = parts.next().and_then(|y| y.parse().ok()).unwrap_or(0);
    let count = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    (year, count)
}

fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

macro_rules! quote_reads {
    () => {
        pub fn quote(&self, number: &QuoteNumber) -> Result<Option<Quote>, StoreError> {
            let table = self.table(QUOTES)?;
            match table.get(quote_key(number))? {
                Some(bytes) => decode("quotes", number.as_str(), &bytes).map(Some),
                None => Ok(None),
            }
        }

        /// The quote a customer link's secret (its SHA-256, hex) opens.
        pub fn quote_by_link(&self, hash: &str) -> Result<Option<Quote>, StoreError> {
            let key = {
                let table = self.table(QUOTES_BY_LINK)?;
                let Some(key) = table.get(hash)? else {
                    return Ok(None);
                };
                key
            };
            let table = self.table(QUOTES)?;
            match table.get(key)? {
                Some(bytes) => decode("quotes", hash, &bytes).map(Some),
                None => Ok(None),
            }
        }
    };
}

impl ReadTx {
    quote_reads!();

    /// A trade customer's quotes, newest first, before `before`: like
    /// [`Self::quotes_page`], through the customer's index (read in batches).
    pub fn customer_quotes_page(
        &self,
        customer: &CustomerCode,
        status: Option<QuoteStatus>,
        sku: Option<&Sku>,
        before: Option<(i64, u64)>,
        limit: usize,
    ) -> Result<Page<Quote, (i64, u64)>, StoreError> {
        let index = self.table(QUOTES_BY_CUSTOMER)?;
        let quotes = self.table(QUOTES)?;
        let code = customer.as_str();
        let high = before.map_or(Included((code, u64::MAX)), |b| {
            Excluded((code, customer_key(b)))
        });
        let mut keys = index
            .range(Included((code, 0)), high, true)?
            .map(|entry| entry.map(|((_, key), ())| from_customer_key(key)));
        let mut items = Vec::new();
        let mut last = None;
        let mut scanned = 0;
        loop {
            let batch: Vec<(i64, u64)> = keys.by_ref().take(64).collect::<Result<_, _>>()?;
            if batch.is_empty() {
                return Ok(Page { items, next: None });
            }
            for (key, bytes) in batch.iter().zip(quotes.get_many(&batch)?) {
                if items.len() == limit || scanned == 5_000 {
                    return Ok(Page { items, next: last });
                }
                scanned += 1;
                let Some(bytes) = bytes else { continue };
                let quote: Quote = decode("quotes", &format!("{key:?}"), &bytes)?;
                last = Some(*key);
                if status.is_none_or(|s| quote.status == s)
                    && sku.is_none_or(|sku| quote.lines.iter().any(|l| l.sku == *sku))
                {
                    items.push(quote);
                }
            }
        }
    }

    /// One page of quotes, newest first, optionally of one status and with
    /// a line of one product.
    pub fn quotes_page(
        &self,
        status: Option<QuoteStatus>,
        sku: Option<&Sku>,
        before: Option<(i64, u64)>,
        limit: usize,
    ) -> Result<Page<Quote, (i64, u64)>, StoreError> {
        let table = self.table(QUOTES)?;
        let high = before.map_or(Unbounded, Excluded);
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        for (scanned, entry) in table.range(Unbounded, high, true)?.enumerate() {
            let (key, bytes) = entry?;
            if items.len() == limit || scanned == 5_000 {
                more = true;
                break;
            }
            let quote: Quote = decode("quotes", &format!("{key:?}"), &bytes)?;
            last = Some(key);
            if status.is_none_or(|s| quote.status == s)
                && sku.is_none_or(|sku| quote.lines.iter().any(|l| l.sku == *sku))
            {
                items.push(quote);
            }
        }
        Ok(Page {
            items,
            next: if more { last } else { None },
        })
    }
}

impl ReadTx {
    /// Every quote made at or after `from`, newest first (numbers follow
    /// time, so the walk stops at the first older one).
    pub fn for_each_quote_since<E: From<StoreError>>(
        &self,
        from: Timestamp,
        mut f: impl FnMut(&Quote) -> Result<(), E>,
    ) -> Result<(), E> {
        let table = self.table(QUOTES)?;
        for entry in table.range(Unbounded, Unbounded, true)? {
            let (key, bytes) = entry?;
            let quote: Quote = decode("quotes", &format!("{key:?}"), &bytes)?;
            if quote.created_at < from {
                break;
            }
            f(&quote)?;
        }
        Ok(())
    }

    /// Every quote, oldest first, handed to `f` one by one.
    pub fn for_each_quote<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(&Quote) -> Result<(), E>,
    ) -> Result<(), E> {
        let table = self.table(QUOTES)?;
        for entry in table.all()? {
            let (key, bytes) = entry?;
            let quote: Quote = decode("quotes", &format!("{key:?}"), &bytes)?;
            f(&quote)?;
        }
        Ok(())
    }
}

impl WriteTx {
    quote_reads!();

    /// The next number of `year`: one more than the last, so numbers have no
    /// gaps (a failed transaction takes its number with it).
    pub fn next_quote_number(&self, year: i16) -> Result<QuoteNumber, StoreError> {
        let year = i64::from(year);
        let table = self.table(QUOTES)?;
        let last = table
            .first_of(Included((year, 0)), Included((year, u64::MAX)), true)?
            .map_or(0, |((_, number), _)| number);
        Ok(QuoteNumber::new(
            i16::try_from(year).unwrap_or(i16::MAX),
            last + 1,
        ))
    }

    /// Stores a quote, keeping the link (a changed link replaces the old one)
    /// and expiry indexes in step.
    pub fn put_quote(&mut self, quote: &Quote) -> Result<(), StoreError> {
        let previous = self.quote(&quote.number)?;
        self.writes += 1;
        let key = quote_key(&quote.number);
        {
            let mut open = self.table(OPEN_QUOTES)?;
            if let Some(old) = &previous
                && old.status == QuoteStatus::Open
            {
                open.remove((micros(old.valid_until), key.0, key.1))?;
            }
            if quote.status == QuoteStatus::Open {
                open.insert((micros(quote.valid_until), key.0, key.1), ())?;
            }
        }
        let old_link = previous.as_ref().map(|p| p.link_hash.as_str());
        if old_link != Some(quote.link_hash.as_str()) {
            // A new link: the old one opens nothing from now on.
            let mut links = self.table(QUOTES_BY_LINK)?;
            if let Some(old) = old_link.filter(|h| !h.is_empty()) {
                links.remove(old)?;
            }
            if !quote.link_hash.is_empty() {
                links.insert(quote.link_hash.as_str(), key)?;
            }
        }
        let old_customer = previous.as_ref().and_then(|p| p.customer.as_ref());
        if old_customer != quote.customer.as_ref() {
            let mut by_customer = self.table(QUOTES_BY_CUSTOMER)?;
            if let Some(old) = old_customer {
                by_customer.remove((old.as_str(), customer_key(key)))?;
            }
            if let Some(new) = &quote.customer {
                by_customer.insert((new.as_str(), customer_key(key)), ())?;
            }
        }
        let bytes = serde_json::to_vec(quote).expect("quotes serialize");
        self.table(QUOTES)?.insert(key, bytes.as_slice())?;
        Ok(())
    }

    /// Open quotes whose validity ended by `now`.
    pub fn due_quotes(&self, now: Timestamp) -> Result<Vec<QuoteNumber>, StoreError> {
        let table = self.table(OPEN_QUOTES)?;
        let mut out = Vec::new();
        for entry in table.range(
            Unbounded,
            Excluded((micros(now), i64::MAX, u64::MAX)),
            false,
        )? {
            let ((_, year, count), ()) = entry?;
            out.push(QuoteNumber::new(
                i16::try_from(year).unwrap_or(i16::MAX),
                count,
            ));
        }
        Ok(out)
    }
}
/// A quote's key in [`QUOTES_BY_CUSTOMER`]: year and number in one ordered
/// number (a year's count stays far below 2⁴⁰).
fn customer_key((year, number): (i64, u64)) -> u64 {
    (u64::try_from(year).unwrap_or(0) << 40) | (number & ((1 << 40) - 1))
}

/// The quote key back from [`customer_key`].
fn from_customer_key(key: u64) -> (i64, u64) {
    (i64::try_from(key >> 40).unwrap_or(0), key & ((1 << 40) - 1))
}

/// A delivery's key: its quote's year and number, and its own number.
fn delivery_key(number: &QuoteNumber, delivery: u32) -> (i64, i64, u64) {
    let (year, count) = quote_key(number);
    (
        year,
        i64::try_from(count).unwrap_or(i64::MAX),
        u64::from(delivery),
    )
}

macro_rules! delivery_reads {
    () => {
        /// A quote's deliveries, in the order they were made (a quote has
        /// at most as many as its `deliveries` count).
        pub fn deliveries_of(
            &self,
            number: &QuoteNumber,
        ) -> Result<Vec<crate::domain::deliveries::Delivery>, StoreError> {
            let table = self.table(DELIVERIES)?;
            let (low, high) = (delivery_key(number, 0), delivery_key(number, u32::MAX));
            let mut out = Vec::new();
            for entry in table.range(Included(low), Included(high), false)? {
                let (_, bytes) = entry?;
                out.push(decode("deliveries", number.as_str(), &bytes)?);
            }
            Ok(out)
        }

        /// Delivery `delivery` of quote `number`.
        pub fn delivery(
            &self,
            number: &QuoteNumber,
            delivery: u32,
        ) -> Result<Option<crate::domain::deliveries::Delivery>, StoreError> {
            match self
                .table(DELIVERIES)?
                .get(delivery_key(number, delivery))?
            {
                Some(bytes) => decode("deliveries", number.as_str(), &bytes).map(Some),
                None => Ok(None),
            }
        }
    };
}

impl ReadTx {
    delivery_reads!();
}

impl WriteTx {
    delivery_reads!();

    /// Stores a delivery (the caller books its movements and logs it).
    pub fn put_delivery(
        &mut self,
        delivery: &crate::domain::deliveries::Delivery,
    ) -> Result<(), StoreError> {
        self.writes += 1;
        let bytes = serde_json::to_vec(delivery).expect("deliveries serialize");
        self.table(DELIVERIES)?.insert(
            delivery_key(&delivery.quote, delivery.number),
            bytes.as_slice(),
        )?;
        Ok(())
    }
}
