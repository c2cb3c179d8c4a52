//! The stock ledger in the store: movements (append-only) with their indexes,
//! the levels they add up to, reversal links and idempotency records.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::ops::Bound::{Excluded, Included, Unbounded};

use super::kv::Table;
use super::tables::{
    IDEMPOTENCY, LEVELS, MOVEMENTS, MOVEMENTS_BY_LOCATION, MOVEMENTS_BY_REFERENCE,
    MOVEMENTS_BY_SKU, REVERSALS,
};
use super::{Page, ReadTx, StoreError, WriteTx, decode};
use crate::domain::ledger::{Level, Movement, MovementKind, sum_levels};
use crate::domain::locations::LocationCode;
use crate::domain::units::Unit;
use crate::domain::values::Sku;

/// Most records read to fill one page (see the catalogue's scan budget).
const SCAN_BUDGET: usize = 5_000;

/// Which movements to list, newest first (or oldest first).
#[derive(Debug, Clone, Default)]
pub struct MovementQuery {
    pub sku: Option<Sku>,
    pub location: Option<LocationCode>,
    pub reference: Option<String>,
    pub kind: Option<MovementKind>,
    /// Only movements booked after this change-log `seq`.
    pub since_seq: Option<u64>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Continue past this movement id (below it newest first, above it oldest first).
    pub cursor: Option<u64>,
    pub oldest_first: bool,
    pub limit: usize,
}

impl MovementQuery {
    fn wants(&self, m: &Movement) -> bool {
        self.kind.is_none_or(|k| m.kind == k)
            && self.since_seq.is_none_or(|s| m.seq > s)
            && self.from.is_none_or(|t| m.at >= t)
            && self.until.is_none_or(|t| m.at < t)
            && self
                .sku
                .as_ref()
                .is_none_or(|s| m.lines.iter().any(|l| l.sku == *s))
            && self
                .location
                .as_ref()
                .is_none_or(|c| m.place.locations().contains(&c))
            && self
                .reference
                .as_ref()
                .is_none_or(|r| m.reference.as_ref().is_some_and(|mr| mr.as_str() == r))
    }

    /// Movements are booked in id order with non-decreasing times and seqs, so
    /// once one is out of the time or `seq` range, all further ones are.
    fn past_the_end(&self, m: &Movement) -> bool {
        if self.oldest_first {
            self.until.is_some_and(|t| m.at >= t)
        } else {
            self.since_seq.is_some_and(|s| m.seq <= s) || self.from.is_some_and(|t| m.at < t)
        }
    }
}

/// Which levels to list, in (SKU, location) order.
#[derive(Debug, Clone, Default)]
pub struct LevelQuery {
    pub sku: Option<Sku>,
    pub location: Option<LocationCode>,
    pub after: Option<(String, String)>,
    pub limit: usize,
}

/// One stored level with its key.
pub type LevelRow = (Sku, LocationCode, Level);

/// The first answer to an idempotent request, kept with its fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remembered {
    /// SHA-256 of the method, path and body of the first request.
    pub fingerprint: String,
    pub status: u16,
    pub body: serde_json::Value,
    pub at: Timestamp,
}

/// Levels are read and written with every movement, so they are kept as 32
/// bytes (two exact decimals in `rust_decimal`'s fixed encoding), not JSON.
fn encode_level(level: Level) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(&level.on_hand.serialize());
    bytes[16..].copy_from_slice(&level.reserved.serialize());
    bytes
}

fn decode_level(key: &str, bytes: &[u8]) -> Result<Level, StoreError> {
    let (Ok(on_hand), Ok(reserved)) = (
        <[u8; 16]>::try_from(&bytes[..bytes.len().min(16)]),
        <[u8; 16]>::try_from(bytes.get(16..).unwrap_or_default()),
    ) else {
        return Err(StoreError::Corrupt {
            table: "levels",
            key: key.to_owned(),
            reason: format!("a level is 32 bytes, found {}", bytes.len()),
        });
    };
    Ok(Level {
        on_hand: rust_decimal::Decimal::deserialize(on_hand),
        reserved: rust_decimal::Decimal::deserialize(reserved),
    })
}

fn level_key(sku: &Sku, location: &LocationCode) -> (String, String) {
    (sku.to_string(), location.to_string())
}

macro_rules! ledger_reads {
    () => {
        pub fn movement(&self, id: u64) -> Result<Option<Movement>, StoreError> {
            let table = self.table(MOVEMENTS)?;
            match table.get(id)? {
                Some(bytes) => decode("movements", &id.to_string(), &bytes).map(Some),
                None => Ok(None),
            }
        }

        /// The id of the movement that reversed `id`, if any.
        pub fn reversed_by(&self, id: u64) -> Result<Option<u64>, StoreError> {
            self.table(REVERSALS)?.get(id)
        }

        /// The reversals of the movements `low..=high`: (reversed, by).
        pub fn reversals_between(
            &self,
            low: u64,
            high: u64,
        ) -> Result<Vec<(u64, u64)>, StoreError> {
            self.table(REVERSALS)?
                .range(
                    std::ops::Bound::Included(low),
                    std::ops::Bound::Included(high),
                    false,
                )?
                .collect()
        }

        pub fn level(&self, sku: &Sku, location: &LocationCode) -> Result<Level, StoreError> {
            let table = self.table(LEVELS)?;
            let key = level_key(sku, location);
            match table.get((key.0.as_str(), key.1.as_str()))? {
                Some(bytes) => decode_level(&format!("{sku}@{location}"), &bytes),
                None => Ok(Level::default()),
            }
        }

        /// Every level of one product, by location.
        pub fn levels_of(&self, sku: &Sku) -> Result<Vec<(LocationCode, Level)>, StoreError> {
            let table = self.table(LEVELS)?;
            let mut out = Vec::new();
            for entry in table.from((sku.as_str(), ""))? {
                let ((s, location), bytes) = entry?;
                if s != sku.as_str() {
                    break;
                }
                let level = decode_level(&format!("{s}@{location}"), &bytes)?;
                let code = LocationCode::parse(&location).map_err(|e| StoreError::Corrupt {
                    table: "levels",
                    key: format!("{s}@{location}"),
                    reason: e.to_string(),
                })?;
                out.push((code, level));
            }
            Ok(out)
        }

        /// Whether any movement of `sku` was ever booked (one index lookup).
        pub fn has_movements(&self, sku: &Sku) -> Result<bool, StoreError> {
            let index = self.table(MOVEMENTS_BY_SKU)?;
            let first = index.first_of(
                Included((sku.as_str(), 0)),
                Included((sku.as_str(), u64::MAX)),
                false,
            )?;
            Ok(first.is_some())
        }

        pub fn remembered(&self, key: &str) -> Result<Option<Remembered>, StoreError> {
            super::get_json(&self.table(IDEMPOTENCY)?, "idempotency", key)
        }
    };
}

impl ReadTx {
    ledger_reads!();

    /// One page of movements, newest first or oldest first.
    pub fn movements_page(&self, query: &MovementQuery) -> Result<Page<Movement, u64>, StoreError> {
        let movements = self.table(MOVEMENTS)?;
        let (low, high) = if query.oldest_first {
            // Ids are dense and booked in seq and time order: the first one of
            // interest is found by bisection.
            let first = Self::first_movement_after(&movements, query.since_seq, query.from)?;
            (first.max(query.cursor.map_or(0, |c| c + 1)), u64::MAX)
        } else {
            (0, query.cursor.unwrap_or(u64::MAX))
        };
        let backwards = !query.oldest_first;
        // With a SKU, location or reference, walk that index; otherwise the ledger.
        let index = if let Some(sku) = &query.sku {
            Some((self.table(MOVEMENTS_BY_SKU)?, sku.as_str()))
        } else if let Some(location) = &query.location {
            Some((self.table(MOVEMENTS_BY_LOCATION)?, location.as_str()))
        } else if let Some(reference) = &query.reference {
            Some((self.table(MOVEMENTS_BY_REFERENCE)?, reference.as_str()))
        } else {
            None
        };
        let ids: Box<dyn Iterator<Item = Result<u64, StoreError>>> =
            if let Some((index, key)) = &index {
                index_ids(index, key, low, high, backwards)?
            } else {
                Box::new(
                    movements
                        .range(Included(low), Excluded(high), backwards)?
                        .map(|e| e.map(|(id, _)| id)),
                )
            };
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        for (scanned, id) in ids.enumerate() {
            let id = id?;
            if items.len() == query.limit || scanned == SCAN_BUDGET {
                more = true;
                break;
            }
            let bytes = movements.get(id)?.ok_or_else(|| StoreError::Corrupt {
                table: "movement indexes",
                key: id.to_string(),
                reason: "indexed movement does not exist".into(),
            })?;
            let movement: Movement = decode("movements", &id.to_string(), &bytes)?;
            if query.past_the_end(&movement) {
                break;
            }
            last = Some(id);
            if query.wants(&movement) {
                items.push(movement);
            }
        }
        Ok(Page {
            items,
            next: if more { last } else { None },
        })
    }

    /// The smallest movement id booked after `since_seq` and at or after
    /// `from` (bisection over the dense ids).
    fn first_movement_after(
        movements: &Table<'_, u64, &'static [u8]>,
        since_seq: Option<u64>,
        from: Option<Timestamp>,
    ) -> Result<u64, StoreError> {
        if since_seq.is_none() && from.is_none() {
            return Ok(0);
        }
        let Some((last, _)) = movements.last()? else {
            return Ok(0);
        };
        let (mut low, mut high) = (1, last + 1);
        while low < high {
            let mid = low + (high - low) / 2;
            let Some(bytes) = movements.get(mid)? else {
                return Err(StoreError::Corrupt {
                    table: "movements",
                    key: mid.to_string(),
                    reason: "movement ids are not dense".into(),
                });
            };
            let m: Movement = decode("movements", &mid.to_string(), &bytes)?;
            let before = since_seq.is_some_and(|s| m.seq <= s) || from.is_some_and(|t| m.at < t);
            if before {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        Ok(low)
    }

    /// One page of levels.
    pub fn levels_page(
        &self,
        query: &LevelQuery,
    ) -> Result<Page<LevelRow, (String, String)>, StoreError> {
        let table = self.table(LEVELS)?;
        let start = match (&query.after, &query.sku) {
            (Some((s, l)), _) => (s.clone(), l.clone()),
            (None, Some(sku)) => (sku.to_string(), String::new()),
            (None, None) => (String::new(), String::new()),
        };
        let mut items = Vec::new();
        let mut more = false;
        let mut scanned = 0;
        let mut last = None;
        for entry in table.from((start.0.as_str(), start.1.as_str()))? {
            let ((sku, location), bytes) = entry?;
            let (sku, location) = (sku.as_str(), location.as_str());
            if query
                .after
                .as_ref()
                .is_some_and(|a| (a.0.as_str(), a.1.as_str()) == (sku, location))
            {
                continue;
            }
            if query.sku.as_ref().is_some_and(|s| s.as_str() != sku) {
                break;
            }
            if items.len() == query.limit || scanned == SCAN_BUDGET {
                more = true;
                break;
            }
            scanned += 1;
            last = Some((sku.to_owned(), location.to_owned()));
            if query
                .location
                .as_ref()
                .is_some_and(|l| l.as_str() != location)
            {
                continue;
            }
            let level = decode_level(&format!("{sku}@{location}"), &bytes)?;
            let corrupt = |e: crate::domain::InvalidValue| StoreError::Corrupt {
                table: "levels",
                key: format!("{sku}@{location}"),
                reason: e.to_string(),
            };
            items.push((
                Sku::parse(sku).map_err(corrupt)?,
                LocationCode::parse(location).map_err(corrupt)?,
                level,
            ));
        }
        Ok(Page {
            items,
            next: if more { last } else { None },
        })
    }

    /// The movements of one product booked at or before `at`, oldest first.
    pub fn movements_of_until(
        &self,
        sku: &Sku,
        at: Timestamp,
    ) -> Result<Vec<Movement>, StoreError> {
        let index = self.table(MOVEMENTS_BY_SKU)?;
        let movements = self.table(MOVEMENTS)?;
        let mut out = Vec::new();
        for entry in index.range(
            Included((sku.as_str(), 0)),
            Included((sku.as_str(), u64::MAX)),
            false,
        )? {
            let ((_, id), ()) = entry?;
            let Some(bytes) = movements.get(id)? else {
                continue;
            };
            let movement: Movement = decode("movements", &id.to_string(), &bytes)?;
            if movement.at > at {
                break;
            }
            out.push(movement);
        }
        Ok(out)
    }

    /// Every stored level in (SKU, location) order, handed to `f` one by one.
    pub fn for_each_level<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(LevelRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let table = self.table(LEVELS)?;
        for entry in table.all()? {
            let ((sku, location), bytes) = entry?;
            let corrupt = |reason: String| StoreError::Corrupt {
                table: "levels",
                key: format!("{sku}@{location}"),
                reason,
            };
            let sku = Sku::parse(&sku).map_err(|e| corrupt(e.to_string()))?;
            let location = LocationCode::parse(&location).map_err(|e| corrupt(e.to_string()))?;
            let level = decode_level(&format!("{sku}@{location}"), &bytes)?;
            f((sku, location, level))?;
        }
        Ok(())
    }

    /// Every movement booked at or after `from`, oldest first, handed to `f`
    /// one by one (the first found by bisection: the ledger before `from` is
    /// not read).
    pub fn for_each_movement_since(
        &self,
        from: Timestamp,
        mut f: impl FnMut(&Movement),
    ) -> Result<(), StoreError> {
        let movements = self.table(MOVEMENTS)?;
        let first = Self::first_movement_after(&movements, None, Some(from))?;
        for entry in movements.range(Included(first), Unbounded, false)? {
            let (id, bytes) = entry?;
            f(&decode::<Movement>("movements", &id.to_string(), &bytes)?);
        }
        Ok(())
    }

    /// Every movement at or before `at`, oldest first, handed to `f` one by one.
    pub fn for_each_movement_until(
        &self,
        at: Option<Timestamp>,
        mut f: impl FnMut(&Movement),
    ) -> Result<(), StoreError> {
        let movements = self.table(MOVEMENTS)?;
        for entry in movements.all()? {
            let (id, bytes) = entry?;
            let movement: Movement = decode("movements", &id.to_string(), &bytes)?;
            if at.is_some_and(|at| movement.at > at) {
                break;
            }
            f(&movement);
        }
        Ok(())
    }

    /// Recomputes every level from the ledger and lists each difference with
    /// the stored levels.
    pub(super) fn check_levels(&self) -> Result<Vec<String>, StoreError> {
        let movements = self.table(MOVEMENTS)?;
        let mut ledger = Vec::with_capacity(usize::try_from(movements.len()?).unwrap_or(0));
        for entry in movements.all()? {
            let (id, bytes) = entry?;
            ledger.push(decode::<Movement>("movements", &id.to_string(), &bytes)?);
        }
        let mut expected = sum_levels(&ledger);
        let mut problems = Vec::new();
        // Every line is in its product's stock unit: a product whose unit
        // changed after it had movements would have its ledger reread wrongly.
        let mut units: std::collections::BTreeMap<&Sku, std::collections::BTreeSet<Unit>> =
            std::collections::BTreeMap::new();
        for line in ledger.iter().flat_map(|m| &m.lines) {
            units.entry(&line.sku).or_default().insert(line.unit);
        }
        for (sku, booked) in units {
            let Some(product) = self.product(sku)? else {
                problems.push(format!("movements name {sku}, which is not a product"));
                continue;
            };
            if booked.iter().any(|unit| *unit != product.unit) {
                let booked: Vec<&str> = booked.iter().map(|u| u.code()).collect();
                problems.push(format!(
                    "{sku} is stocked in {}, but its movements are in {}: its unit was changed \
                     after stock was booked, so its levels no longer mean what was booked",
                    product.unit,
                    booked.join(", ")
                ));
            }
        }
        for entry in self.table(LEVELS)?.all()? {
            let ((sku, location), bytes) = entry?;
            let stored = decode_level(&format!("{sku}@{location}"), &bytes)?;
            let summed = match (Sku::parse(&sku), LocationCode::parse(&location)) {
                (Ok(s), Ok(l)) => expected.remove(&(s, l)).unwrap_or_default(),
                _ => Level::default(),
            };
            if stored != summed {
                problems.push(format!(
                    "level of {sku} at {location} is on_hand {} reserved {}, the ledger sums to on_hand {} reserved {}",
                    stored.on_hand, stored.reserved, summed.on_hand, summed.reserved
                ));
            }
        }
        for ((sku, location), summed) in expected {
            if !summed.is_empty() {
                problems.push(format!(
                    "no level stored for {sku} at {location}; the ledger sums to on_hand {} reserved {}",
                    summed.on_hand, summed.reserved
                ));
            }
        }
        Ok(problems)
    }

    /// Available stock per SKU, summed over locations, in one pass.
    pub fn available_by_sku(
        &self,
    ) -> Result<std::collections::HashMap<String, rust_decimal::Decimal>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for entry in self.table(LEVELS)?.all()? {
            let ((sku, location), bytes) = entry?;
            let level = decode_level(&format!("{sku}@{location}"), &bytes)?;
            *out.entry(sku).or_default() += level.available();
        }
        Ok(out)
    }

    pub(super) fn movement_count(&self) -> Result<u64, StoreError> {
        self.table(MOVEMENTS)?.len()
    }
}

/// Movement ids of one index key in `low..high`, in either direction.
fn index_ids<'t>(
    index: &'t Table<'_, (&'static str, u64), ()>,
    key: &str,
    low: u64,
    high: u64,
    backwards: bool,
) -> Result<Box<dyn Iterator<Item = Result<u64, StoreError>> + 't>, StoreError> {
    Ok(Box::new(
        index
            .range(Included((key, low)), Excluded((key, high)), backwards)?
            .map(|e| e.map(|((_, id), ())| id)),
    ))
}

impl WriteTx {
    ledger_reads!();

    /// The id and time of the newest movement (looked up once per transaction).
    fn movement_tail(&mut self) -> Result<Option<(u64, Timestamp)>, StoreError> {
        if self.movement_tail.is_none() {
            let newest = {
                let table = self.table(MOVEMENTS)?;
                match table.last()? {
                    Some((id, bytes)) => {
                        Some(decode::<Movement>("movements", &id.to_string(), &bytes)?)
                    }
                    None => None,
                }
            };
            self.movement_tail = newest.map(|m| (m.id, m.at));
        }
        Ok(self.movement_tail)
    }

    /// The id the next movement gets.
    pub fn next_movement_id(&mut self) -> Result<u64, StoreError> {
        Ok(self.movement_tail()?.map_or(1, |(id, _)| id + 1))
    }

    /// The time of the newest movement, so a new one is never earlier.
    pub fn last_movement_at(&mut self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.movement_tail()?.map(|(_, at)| at))
    }

    /// Appends a movement to the ledger with its index entries. Movements are
    /// never changed or removed afterwards.
    pub fn append_movement(&mut self, movement: &Movement) -> Result<(), StoreError> {
        self.writes += 1;
        self.movements += 1;
        let bytes = serde_json::to_vec(movement).expect("movements serialize");
        {
            let mut table = self.table(MOVEMENTS)?;
            if table.get(movement.id)?.is_some() {
                return Err(StoreError::Bug("a movement id was booked twice"));
            }
            table.insert(movement.id, bytes.as_slice())?;
        }
        {
            let mut by_sku = self.table(MOVEMENTS_BY_SKU)?;
            for line in &movement.lines {
                by_sku.insert((line.sku.as_str(), movement.id), ())?;
            }
        }
        {
            let mut by_location = self.table(MOVEMENTS_BY_LOCATION)?;
            for location in movement.place.locations() {
                by_location.insert((location.as_str(), movement.id), ())?;
            }
        }
        if let Some(reference) = &movement.reference {
            self.table(MOVEMENTS_BY_REFERENCE)?
                .insert((reference.as_str(), movement.id), ())?;
        }
        if let Some(original) = movement.reverses {
            let mut reversals = self.table(REVERSALS)?;
            if reversals.get(original)?.is_some() {
                return Err(StoreError::Bug("a movement was reversed twice"));
            }
            reversals.insert(original, movement.id)?;
        }
        self.movement_tail = Some((movement.id, movement.at));
        Ok(())
    }

    pub fn put_level(
        &mut self,
        sku: &Sku,
        location: &LocationCode,
        level: Level,
    ) -> Result<(), StoreError> {
        self.writes += 1;
        let key = level_key(sku, location);
        self.table(LEVELS)?.insert(
            (key.0.as_str(), key.1.as_str()),
            encode_level(level).as_slice(),
        )?;
        Ok(())
    }

    pub fn remember(&mut self, key: &str, answer: &Remembered) -> Result<(), StoreError> {
        self.put_json(IDEMPOTENCY, key, answer)
    }
}
