//! Price lists (`/price-lists`) and trade customers (`/customers`): staff
//! keep them; a quote or an estimate for a customer is priced at their list
//! (`quotes.rs`).

use jiff::Timestamp;
use jiff::civil::Date;

use super::cursor::{self, Listing};
use super::{App, AppError, ErrorCode, Principal};
use crate::domain::accounts::Actor;
use crate::domain::customers::{
    Customer, CustomerCode, CustomerInput, MAX_LISTS, PriceList, PriceListCode, PriceListInput,
};
use crate::domain::pricing::{self, PricedLine};
use crate::domain::units::{Quantity, UnitName};
use crate::domain::values::Sku;
use crate::store::payloads::{FieldChange, TradeChanged};
use crate::store::{ChangeKind, WriteTx};

fn list_not_found(code: &str) -> AppError {
    AppError::NotFound {
        what: "price list",
        key: code.to_owned(),
    }
}

pub(super) fn customer_not_found(code: &str) -> AppError {
    AppError::NotFound {
        what: "customer",
        key: code.to_owned(),
    }
}

/// Today, as price rules count days (UTC).
pub(super) fn today() -> Date {
    Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// The price list `customer` buys at, read in `tx`: `None` without a
/// customer or for one without a list. A customer that does not exist, or
/// is archived when `new` business is asked for, is refused at `field`.
pub(super) fn list_of(
    tx: &impl CustomerReads,
    customer: Option<&CustomerCode>,
    field: &str,
    new: bool,
) -> Result<Option<PriceList>, AppError> {
    let Some(code) = customer else {
        return Ok(None);
    };
    let found = tx
        .customer_of(code)?
        .ok_or_else(|| AppError::invalid(field, format!("there is no customer {code}")))?;
    if new && !found.active {
        return Err(AppError::invalid(
            field,
            format!("customer {code} is archived: restore them first"),
        ));
    }
    match &found.price_list {
        None => Ok(None),
        Some(list) => tx.price_list_of(list),
    }
}

/// The reads [`list_of`] needs, from either kind of transaction.
pub(super) trait CustomerReads {
    fn customer_of(&self, code: &CustomerCode) -> Result<Option<Customer>, AppError>;
    fn price_list_of(&self, code: &PriceListCode) -> Result<Option<PriceList>, AppError>;
}

macro_rules! customer_reads_for {
    ($tx:ty) => {
        impl CustomerReads for $tx {
            fn customer_of(&self, code: &CustomerCode) -> Result<Option<Customer>, AppError> {
                Ok(self.customer(code)?)
            }
            fn price_list_of(&self, code: &PriceListCode) -> Result<Option<PriceList>, AppError> {
                Ok(self.price_list(code)?)
            }
        }
    };
}
customer_reads_for!(crate::store::ReadTx);
customer_reads_for!(WriteTx);

/// Checks the SKUs a list's rules name exist, then stores and logs it.
fn save_list(
    tx: &mut WriteTx,
    actor: &Actor,
    list: &PriceList,
    before: Option<&PriceList>,
) -> Result<(), AppError> {
    let named: Vec<(usize, Sku)> = list
        .rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.sku.clone().map(|s| (i, s)))
        .collect();
    let skus: Vec<Sku> = named.iter().map(|(_, s)| s.clone()).collect();
    for ((i, sku), product) in named.iter().zip(tx.products_many(&skus)?) {
        if product.is_none() {
            return Err(AppError::invalid(
                format!("rules[{i}].sku"),
                format!("there is no product {sku}"),
            ));
        }
    }
    tx.put_price_list(list)?;
    let (kind, changes) = match before {
        None => (ChangeKind::PriceListCreated, Vec::new()),
        Some(before) => (
            ChangeKind::PriceListUpdated,
            FieldChange::between(before, list, &["version", "created_at", "updated_at"]),
        ),
    };
    tx.record(
        kind,
        list.code.as_str(),
        actor,
        &TradeChanged {
            version: list.version,
            changes,
        },
    )?;
    Ok(())
}

/// Checks a customer's price list exists, then stores and logs the customer.
fn save_customer(
    tx: &mut WriteTx,
    actor: &Actor,
    customer: &Customer,
    before: Option<&Customer>,
) -> Result<(), AppError> {
    if let Some(list) = &customer.price_list
        && tx.price_list(list)?.is_none()
    {
        return Err(AppError::invalid(
            "price_list",
            format!("there is no price list {list}"),
        ));
    }
    tx.put_customer(customer, before)?;
    let (kind, changes) = match before {
        None => (ChangeKind::CustomerCreated, Vec::new()),
        Some(before) => (
            ChangeKind::CustomerUpdated,
            FieldChange::between(before, customer, &["version", "created_at", "updated_at"]),
        ),
    };
    tx.record(
        kind,
        customer.code.as_str(),
        actor,
        &TradeChanged {
            version: customer.version,
            changes,
        },
    )?;
    Ok(())
}

/// Creates price list `code` in `tx` after checking the code is free.
pub fn create_price_list_in(
    tx: &mut WriteTx,
    actor: &Actor,
    code: PriceListCode,
    input: PriceListInput,
) -> Result<PriceList, AppError> {
    if tx.price_list(&code)?.is_some() {
        return Err(AppError::conflict(
            ErrorCode::DuplicatePriceList,
            "code",
            format!("a price list with code {code} already exists"),
        ));
    }
    if tx.price_lists()?.len() >= MAX_LISTS {
        return Err(AppError::invalid(
            "code",
            format!("a shop has at most {MAX_LISTS} price lists"),
        ));
    }
    let list = input
        .into_list(code, Timestamp::now(), None)
        .map_err(|(f, r)| AppError::invalid(f, r))?;
    save_list(tx, actor, &list, None)?;
    Ok(list)
}

/// Creates customer `code` in `tx` after checking the code is free.
pub fn create_customer_in(
    tx: &mut WriteTx,
    actor: &Actor,
    code: CustomerCode,
    input: CustomerInput,
) -> Result<Customer, AppError> {
    if tx.customer(&code)?.is_some() {
        return Err(AppError::conflict(
            ErrorCode::DuplicateCustomer,
            "code",
            format!("a customer with code {code} already exists"),
        ));
    }
    let customer = input
        .into_customer(code, Timestamp::now(), None)
        .map_err(|(f, r)| AppError::invalid(f, r))?;
    save_customer(tx, actor, &customer, None)?;
    Ok(customer)
}

/// Creates the customer `input` names (its `code`) or replaces its details:
/// an import's row.
pub(super) fn upsert_customer_in(
    tx: &mut WriteTx,
    actor: &Actor,
    input: CustomerInput,
) -> Result<super::catalogue::Upserted, AppError> {
    use super::catalogue::Upserted;
    let code = input
        .code
        .clone()
        .ok_or_else(|| AppError::invalid("code", "is required"))?;
    let Some(before) = tx.customer(&code)? else {
        create_customer_in(tx, actor, code, input)?;
        return Ok(Upserted::Created);
    };
    let mut customer = input
        .into_customer(code, Timestamp::now(), Some(&before))
        .map_err(|(f, r)| AppError::invalid(f, r))?;
    let mut same = customer.clone();
    same.version = before.version;
    same.updated_at = before.updated_at;
    if same == before {
        return Ok(Upserted::Unchanged);
    }
    customer.created_at = before.created_at;
    save_customer(tx, actor, &customer, Some(&before))?;
    Ok(Upserted::Updated)
}

/// Creates the price list `input` names (its `code`) or replaces its name
/// and rules: an import's rows.
pub(super) fn upsert_price_list_in(
    tx: &mut WriteTx,
    actor: &Actor,
    input: PriceListInput,
) -> Result<super::catalogue::Upserted, AppError> {
    use super::catalogue::Upserted;
    let code = input
        .code
        .clone()
        .ok_or_else(|| AppError::invalid("code", "is required"))?;
    let Some(before) = tx.price_list(&code)? else {
        create_price_list_in(tx, actor, code, input)?;
        return Ok(Upserted::Created);
    };
    let list = input
        .into_list(code, Timestamp::now(), Some(&before))
        .map_err(|(f, r)| AppError::invalid(f, r))?;
    if list.name == before.name && list.rules == before.rules {
        return Ok(Upserted::Unchanged);
    }
    save_list(tx, actor, &list, Some(&before))?;
    Ok(Upserted::Updated)
}

/// The code in a `PUT` body must be the path's, if given.
fn same_code<T: PartialEq + std::fmt::Display>(body: Option<&T>, path: &T) -> Result<(), AppError> {
    if body.is_some_and(|c| c != path) {
        return Err(AppError::invalid(
            "code",
            format!(
                "the code in the body differs from the path's ({path}); a code does not change"
            ),
        ));
    }
    Ok(())
}

/// What [`App::preview_price`] answers: the line as the list prices it.
pub struct Preview {
    pub line: PricedLine,
    pub currency: String,
    pub prices_include_tax: bool,
}

impl App {
    /// Every price list, in code order.
    pub async fn price_lists(&self) -> Result<Vec<PriceList>, AppError> {
        self.read(|tx| Ok(tx.price_lists()?)).await
    }

    pub async fn price_list(&self, code: &str) -> Result<PriceList, AppError> {
        let parsed = PriceListCode::parse(code).map_err(|_| list_not_found(code))?;
        self.read(move |tx| {
            tx.price_list(&parsed)?
                .ok_or_else(|| list_not_found(parsed.as_str()))
        })
        .await
    }

    pub async fn create_price_list(
        &self,
        caller: &Principal,
        input: PriceListInput,
    ) -> Result<PriceList, AppError> {
        let code = input
            .code
            .clone()
            .ok_or_else(|| AppError::invalid("code", "is required to create a price list"))?;
        let actor = caller.actor.clone();
        self.write(move |tx| create_price_list_in(tx, &actor, code, input))
            .await
    }

    /// Replaces a price list's name and rules (`PUT`).
    pub async fn replace_price_list(
        &self,
        caller: &Principal,
        code: &str,
        input: PriceListInput,
        precondition: super::catalogue::Precondition,
    ) -> Result<PriceList, AppError> {
        let code = PriceListCode::parse(code).map_err(|_| list_not_found(code))?;
        // Before the version is compared: a malformed body is refused as such.
        input.check().map_err(|(f, r)| AppError::invalid(f, r))?;
        let actor = caller.actor.clone();
        self.write(move |tx| {
            let before = tx
                .price_list(&code)?
                .ok_or_else(|| list_not_found(code.as_str()))?;
            precondition.check(before.version)?;
            same_code(input.code.as_ref(), &code)?;
            let list = input
                .into_list(code, Timestamp::now(), Some(&before))
                .map_err(|(f, r)| AppError::invalid(f, r))?;
            save_list(tx, &actor, &list, Some(&before))?;
            Ok(list)
        })
        .await
    }

    /// Removes a price list no customer buys at.
    pub async fn delete_price_list(&self, caller: &Principal, code: &str) -> Result<(), AppError> {
        let code = PriceListCode::parse(code).map_err(|_| list_not_found(code))?;
        let actor = caller.actor.clone();
        self.write(move |tx| {
            let users = tx.customers_of_list(&code, 3)?;
            if !users.is_empty() {
                return Err(AppError::conflict(
                    ErrorCode::PriceListInUse,
                    "code",
                    format!(
                        "customers buy at price list {code} ({}): give them another list first",
                        users.join(", ")
                    ),
                ));
            }
            if !tx.delete_price_list(&code)? {
                return Err(list_not_found(code.as_str()));
            }
            tx.record(
                ChangeKind::PriceListDeleted,
                code.as_str(),
                &actor,
                &TradeChanged {
                    version: 0,
                    changes: Vec::new(),
                },
            )?;
            Ok(())
        })
        .await
    }

    /// What `quantity` `unit` of `sku` costs at price list `code` today:
    /// the line as a quote for a customer on the list would price it.
    pub async fn preview_price(
        &self,
        code: &str,
        sku: Sku,
        quantity: Quantity,
        unit: Option<UnitName>,
    ) -> Result<Preview, AppError> {
        let parsed = PriceListCode::parse(code).map_err(|_| list_not_found(code))?;
        let config = self.config().clone();
        let shop = super::quotes::shop(&config);
        let line = self
            .read(move |tx| {
                let list = tx
                    .price_list(&parsed)?
                    .ok_or_else(|| list_not_found(parsed.as_str()))?;
                let product = tx.product(&sku)?.filter(|p| p.active).ok_or_else(|| {
                    AppError::invalid("sku", format!("there is no product {sku}"))
                })?;
                let unit = unit.unwrap_or_else(|| product.pricing_unit());
                pricing::price_line_for(&product, quantity, &unit, &shop, Some((&list, today())))
                    .map_err(|e| AppError::invalid(e.field, e.reason))
            })
            .await?;
        Ok(Preview {
            line,
            currency: config.shop.currency.clone(),
            prices_include_tax: config.shop.prices_include_tax,
        })
    }

    /// Customers in code order, a page at a time.
    pub async fn customers(
        &self,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> Result<Listing<Customer>, AppError> {
        let limit = cursor::limit(limit, 50, 200)?;
        let after: Option<String> = cursor.as_deref().map(cursor::decode).transpose()?;
        self.read(move |tx| {
            let mut items = tx.customers_after(after.as_deref(), limit + 1)?;
            let next_cursor = (items.len() > limit).then(|| {
                items.truncate(limit);
                cursor::encode(&items[limit - 1].code.as_str())
            });
            Ok(Listing { items, next_cursor })
        })
        .await
    }

    pub async fn customer(&self, code: &str) -> Result<Customer, AppError> {
        let parsed = CustomerCode::parse(code).map_err(|_| customer_not_found(code))?;
        self.read(move |tx| {
            tx.customer(&parsed)?
                .ok_or_else(|| customer_not_found(parsed.as_str()))
        })
        .await
    }

    pub async fn create_customer(
        &self,
        caller: &Principal,
        input: CustomerInput,
    ) -> Result<Customer, AppError> {
        let code = input
            .code
            .clone()
            .ok_or_else(|| AppError::invalid("code", "is required to create a customer"))?;
        let actor = caller.actor.clone();
        self.write(move |tx| create_customer_in(tx, &actor, code, input))
            .await
    }

    /// Replaces a customer's details (`PUT`); archiving is `active: false`.
    pub async fn replace_customer(
        &self,
        caller: &Principal,
        code: &str,
        input: CustomerInput,
        precondition: super::catalogue::Precondition,
    ) -> Result<Customer, AppError> {
        let code = CustomerCode::parse(code).map_err(|_| customer_not_found(code))?;
        input.check().map_err(|(f, r)| AppError::invalid(f, r))?;
        let actor = caller.actor.clone();
        self.write(move |tx| {
            let before = tx
                .customer(&code)?
                .ok_or_else(|| customer_not_found(code.as_str()))?;
            precondition.check(before.version)?;
            same_code(input.code.as_ref(), &code)?;
            let customer = input
                .into_customer(code, Timestamp::now(), Some(&before))
                .map_err(|(f, r)| AppError::invalid(f, r))?;
            save_customer(tx, &actor, &customer, Some(&before))?;
            Ok(customer)
        })
        .await
    }
}
