//! Quotes in the store: the quotes themselves, numbered per year; the customer
//! links; and the open quotes in the order they expire.

use jiff::Timestamp;
use redb::ReadableTable;

use super::tables::{OPEN_QUOTES, QUOTES, QUOTES_BY_LINK};
use super::{Page, ReadTx, StoreError, WriteTx, decode};
use crate::domain::quotes::{Quote, QuoteNumber, QuoteStatus};

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
                Some(bytes) => decode("quotes", number.as_str(), bytes.value()).map(Some),
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
                key.value()
            };
            let table = self.table(QUOTES)?;
            match table.get(key)? {
                Some(bytes) => decode("quotes", hash, bytes.value()).map(Some),
                None => Ok(None),
            }
        }
    };
}

impl ReadTx {
    quote_reads!();

    /// One page of quotes, newest first, optionally of one status.
    pub fn quotes_page(
        &self,
        status: Option<QuoteStatus>,
        before: Option<(i64, u64)>,
        limit: usize,
    ) -> Result<Page<Quote, (i64, u64)>, StoreError> {
        let table = self.table(QUOTES)?;
        let range = match before {
            Some(key) => table.range(..key)?,
            None => table.iter()?,
        };
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        for (scanned, entry) in range.rev().enumerate() {
            let (key, bytes) = entry?;
            if items.len() == limit || scanned == 5_000 {
                more = true;
                break;
            }
            let quote: Quote = decode("quotes", &format!("{:?}", key.value()), bytes.value())?;
            last = Some(key.value());
            if status.is_none_or(|s| quote.status == s) {
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
    /// Every quote, oldest first, handed to `f` one by one.
    pub fn for_each_quote<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(&Quote) -> Result<(), E>,
    ) -> Result<(), E> {
        let table = self.table(QUOTES)?;
        for entry in table.iter().map_err(StoreError::from)? {
            let (key, bytes) = entry.map_err(StoreError::from)?;
            let quote: Quote = decode("quotes", &format!("{:?}", key.value()), bytes.value())?;
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
            .range((year, 0)..=(year, u64::MAX))?
            .next_back()
            .transpose()?
            .map_or(0, |(key, _)| key.value().1);
        Ok(QuoteNumber::new(
            i16::try_from(year).unwrap_or(i16::MAX),
            last + 1,
        ))
    }

    /// Stores a quote, keeping the link and expiry indexes in step.
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
        if previous.is_none() && !quote.link_hash.is_empty() {
            self.table(QUOTES_BY_LINK)?
                .insert(quote.link_hash.as_str(), key)?;
        }
        let bytes = serde_json::to_vec(quote).expect("quotes serialize");
        self.table(QUOTES)?.insert(key, bytes.as_slice())?;
        Ok(())
    }

    /// Open quotes whose validity ended by `now`.
    pub fn due_quotes(&self, now: Timestamp) -> Result<Vec<QuoteNumber>, StoreError> {
        let table = self.table(OPEN_QUOTES)?;
        let mut out = Vec::new();
        for entry in table.range(..(micros(now), i64::MAX, u64::MAX))? {
            let (key, _) = entry?;
            let (_, year, count) = key.value();
            out.push(QuoteNumber::new(
                i16::try_from(year).unwrap_or(i16::MAX),
                count,
            ));
        }
        Ok(out)
    }
}
