//! Price lists and trade customers in the store. Customers are paged in code
//! order; the customers of a price list, and a customer's contacts and
//! pending invitations, are found by indexes, not scans.

use std::ops::Bound;

use super::tables::{
    CONTACT_INVITES, CONTACTS, CONTACTS_BY_CUSTOMER, CUSTOMERS, CUSTOMERS_BY_PRICE_LIST,
    INVITES_BY_CUSTOMER, PRICE_LISTS,
};
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::contacts::{ContactInvite, TradeContact};
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

macro_rules! contact_reads {
    () => {
        /// The contact whose login is `login` (lower-case).
        pub fn trade_contact(&self, login: &str) -> Result<Option<TradeContact>, StoreError> {
            super::get_json(&self.table(CONTACTS)?, "contacts", login)
        }

        /// Up to `limit` contacts of customer `code`, in login order.
        pub fn contacts_of(
            &self,
            code: &CustomerCode,
            limit: usize,
        ) -> Result<Vec<TradeContact>, StoreError> {
            let logins = keys_under(&self.table(CONTACTS_BY_CUSTOMER)?, code.as_str(), limit)?;
            let table = self.table(CONTACTS)?;
            let mut out = Vec::with_capacity(logins.len());
            for login in logins {
                if let Some(contact) = super::get_json(&table, "contacts", &login)? {
                    out.push(contact);
                }
            }
            Ok(out)
        }

        /// The pending invitation whose secret hashes to `hash`.
        pub fn contact_invite(&self, hash: &str) -> Result<Option<ContactInvite>, StoreError> {
            super::get_json(&self.table(CONTACT_INVITES)?, "contact_invites", hash)
        }

        /// Up to `limit` pending invitations of customer `code`, with their
        /// hashes (expired ones included: staff see them as expired).
        pub fn invites_of(
            &self,
            code: &CustomerCode,
            limit: usize,
        ) -> Result<Vec<(String, ContactInvite)>, StoreError> {
            let hashes = keys_under(&self.table(INVITES_BY_CUSTOMER)?, code.as_str(), limit)?;
            let table = self.table(CONTACT_INVITES)?;
            let mut out = Vec::with_capacity(hashes.len());
            for hash in hashes {
                if let Some(invite) = super::get_json(&table, "contact_invites", &hash)? {
                    out.push((hash, invite));
                }
            }
            Ok(out)
        }
    };
}

/// The second parts of up to `limit` keys `(first, _)` of a pair index.
fn keys_under(
    table: &super::kv::Table<'_, (&'static str, &'static str), ()>,
    first: &str,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for entry in table
        .range(Bound::Included((first, "")), Bound::Unbounded, false)?
        .take(limit)
    {
        let ((of, second), ()) = entry?;
        if of != first {
            break;
        }
        out.push(second);
    }
    Ok(out)
}

impl ReadTx {
    contact_reads!();
}

impl WriteTx {
    contact_reads!();

    /// Stores a contact (the caller logs the change).
    pub fn put_trade_contact(&mut self, contact: &TradeContact) -> Result<(), StoreError> {
        self.writes += 1;
        self.table(CONTACTS_BY_CUSTOMER)?
            .insert((contact.customer.as_str(), contact.login.as_str()), ())?;
        self.put_json(CONTACTS, contact.login.as_str(), contact)
    }

    /// Stores a pending invitation under its secret's hash.
    pub fn put_contact_invite(
        &mut self,
        hash: &str,
        invite: &ContactInvite,
    ) -> Result<(), StoreError> {
        self.writes += 1;
        self.table(INVITES_BY_CUSTOMER)?
            .insert((invite.customer.as_str(), hash), ())?;
        self.put_json(CONTACT_INVITES, hash, invite)
    }

    /// Removes a pending invitation; whether it was there.
    pub fn delete_contact_invite(&mut self, hash: &str) -> Result<bool, StoreError> {
        let Some(invite) = self.contact_invite(hash)? else {
            return Ok(false);
        };
        self.writes += 1;
        self.table(INVITES_BY_CUSTOMER)?
            .remove((invite.customer.as_str(), hash))?;
        self.table(CONTACT_INVITES)?.remove(hash)
    }
}
