//! Price lists and trade customers in the store. Customers are paged in code
//! order; the customers of a price list are found by an index, not a scan.

use std::ops::Bound;

use super::tables::{CUSTOMERS, CUSTOMERS_BY_PRICE_LIST, PRICE_LISTS};
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::customers::{Customer, CustomerCode, PriceList, PriceListCode};

macro_rules! customer_reads {
    () => {
        /// Every price list, in code order (a shop has at most
        /// [`crate::domain::customers::MAX_LISTS`]).
        pub fn price_lists(&self) -> Result<Vec<PriceList>, StoreError> {
            let table = self.table(PRICE_LISTS)?;
            let mut lists = Vec::new();
            for entry in table.all()? {
                let (code, bytes) = entry?;
                lists.push(decode("price_lists", &code, &bytes)?);
            }
            Ok(lists)
        }

        pub fn price_list(&self, code: &PriceListCode) -> Result<Option<PriceList>, StoreError> {
            match self.table(PRICE_LISTS)?.get(code.as_str())? {
                Some(bytes) => decode("price_lists", code.as_str(), &bytes).map(Some),
                None => Ok(None),
            }
        }

        pub fn customer(&self, code: &CustomerCode) -> Result<Option<Customer>, StoreError> {
            match self.table(CUSTOMERS)?.get(code.as_str())? {
                Some(bytes) => decode("customers", code.as_str(), &bytes).map(Some),
                None => Ok(None),
            }
        }

        /// Up to `limit` customers after `after` (a code), in code order.
        pub fn customers_after(
            &self,
            after: Option<&str>,
            limit: usize,
        ) -> Result<Vec<Customer>, StoreError> {
            let table = self.table(CUSTOMERS)?;
            let low = after.map_or(Bound::Unbounded, Bound::Excluded);
            let mut out = Vec::new();
            for entry in table.range(low, Bound::Unbounded, false)?.take(limit) {
                let (code, bytes) = entry?;
                out.push(decode("customers", &code, &bytes)?);
            }
            Ok(out)
        }

        /// Up to `limit` codes of the customers buying at price list `code`.
        pub fn customers_of_list(
            &self,
            code: &PriceListCode,
            limit: usize,
        ) -> Result<Vec<String>, StoreError> {
            let table = self.table(CUSTOMERS_BY_PRICE_LIST)?;
            let list = code.as_str();
            let mut out = Vec::new();
            for entry in table
                .range(Bound::Included((list, "")), Bound::Unbounded, false)?
                .take(limit)
            {
                let ((of, customer), ()) = entry?;
                if of != list {
                    break;
                }
                out.push(customer);
            }
            Ok(out)
        }
    };
}

impl ReadTx {
    customer_reads!();
}

impl WriteTx {
    customer_reads!();

    /// Stores a price list (the caller logs the change).
    pub fn put_price_list(&mut self, list: &PriceList) -> Result<(), StoreError> {
        self.writes += 1;
        let bytes = serde_json::to_vec(list).expect("price lists serialize");
        self.table(PRICE_LISTS)?
            .insert(list.code.as_str(), bytes.as_slice())?;
        Ok(())
    }

    /// Removes a price list; whether it was there.
    pub fn delete_price_list(&mut self, code: &PriceListCode) -> Result<bool, StoreError> {
        self.writes += 1;
        self.table(PRICE_LISTS)?.remove(code.as_str())
    }

    /// Stores a customer, replacing `before` (the caller logs the change).
    pub fn put_customer(
        &mut self,
        customer: &Customer,
        before: Option<&Customer>,
    ) -> Result<(), StoreError> {
        self.writes += 1;
        let code = customer.code.as_str();
        let before_list = before.and_then(|b| b.price_list.as_ref());
        if before_list != customer.price_list.as_ref() {
            let mut index = self.table(CUSTOMERS_BY_PRICE_LIST)?;
            if let Some(old) = before_list {
                index.remove((old.as_str(), code))?;
            }
            if let Some(new) = &customer.price_list {
                index.insert((new.as_str(), code), ())?;
            }
        }
        let bytes = serde_json::to_vec(customer).expect("customers serialize");
        self.table(CUSTOMERS)?.insert(code, bytes.as_slice())?;
        Ok(())
    }
}
