//! Delivery zones in the store: few, read whole.

use super::tables::DELIVERY_ZONES;
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::delivery::{DeliveryZone, ZoneCode};

macro_rules! zone_reads {
    () => {
        /// Every zone, in code order.
        pub fn delivery_zones(&self) -> Result<Vec<DeliveryZone>, StoreError> {
            let table = self.table(DELIVERY_ZONES)?;
            let mut zones = Vec::new();
            for entry in table.all()? {
                let (code, bytes) = entry?;
                zones.push(decode("delivery_zones", &code, &bytes)?);
            }
            Ok(zones)
        }

        pub fn delivery_zone(&self, code: &ZoneCode) -> Result<Option<DeliveryZone>, StoreError> {
            match self.table(DELIVERY_ZONES)?.get(code.as_str())? {
                Some(bytes) => decode("delivery_zones", code.as_str(), &bytes).map(Some),
                None => Ok(None),
            }
        }
    };
}

impl ReadTx {
    zone_reads!();
}

impl WriteTx {
    zone_reads!();

    /// Stores a zone (the caller logs the change).
    pub fn put_delivery_zone(&mut self, zone: &DeliveryZone) -> Result<(), StoreError> {
        self.writes += 1;
        let bytes = serde_json::to_vec(zone).expect("zones serialize");
        self.table(DELIVERY_ZONES)?
            .insert(zone.code.as_str(), bytes.as_slice())?;
        Ok(())
    }

    /// Removes a zone; whether it was there.
    pub fn delete_delivery_zone(&mut self, code: &ZoneCode) -> Result<bool, StoreError> {
        self.writes += 1;
        self.table(DELIVERY_ZONES)?.remove(code.as_str())
    }
}
