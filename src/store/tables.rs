//! Every redb table Quarry keeps, declared once, and the schema version they
//! make up. Values are JSON documents of the `domain/` types: readable with any
//! tool, and tolerant of fields added later.

use redb::TableDefinition;

/// Raised whenever a table is added, removed or changes its key or value shape.
/// A file with a newer version than this binary knows is refused.
/// Version 2 added the stock ledger tables, version 3 the quote tables, version
/// 4 the session tables, version 5 the webhook tables, version 6 the files of
/// product photos, version 7 the delivery zones, version 8 the mail outbox,
/// password resets, price lists, customers and their quotes; opening an older file
/// creates them.
pub const SCHEMA_VERSION: u64 = 9;

/// `schema_version`, and other single values about the file itself.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The change log: `seq` (gap-free, from 1) → [`super::Change`]. Appended to by
/// every write transaction; followed by the search index and live events.
pub const CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("changes");

/// SKU → product.
pub const PRODUCTS: TableDefinition<&str, &[u8]> = TableDefinition::new("products");

/// Barcode → SKU: keeps barcodes unique and finds a product by scan.
pub const PRODUCTS_BY_BARCODE: TableDefinition<&str, &str> =
    TableDefinition::new("products_by_barcode");

/// (lower-cased category path, SKU) → (): lists a category subtree in order.
pub const PRODUCTS_BY_CATEGORY: TableDefinition<(&str, &str), ()> =
    TableDefinition::new("products_by_category");

/// Location code → location.
pub const LOCATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("locations");

/// Username → user.
pub const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");

/// Token name → token.
pub const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("tokens");

/// SHA-256 of a token's secret (hex) → token name: finds the token of a request.
pub const TOKENS_BY_HASH: TableDefinition<&str, &str> = TableDefinition::new("tokens_by_hash");

/// Movement id → movement: the append-only stock ledger.
pub const MOVEMENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("movements");

/// (SKU, movement id) → (): a product's history.
pub const MOVEMENTS_BY_SKU: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("movements_by_sku");

/// (location code, movement id) → (): a location's history.
pub const MOVEMENTS_BY_LOCATION: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("movements_by_location");

/// (reference, movement id) → (): the movements of a delivery note or order.
pub const MOVEMENTS_BY_REFERENCE: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("movements_by_reference");

/// Reversed movement id → id of the movement reversing it (at most one).
pub const REVERSALS: TableDefinition<u64, u64> = TableDefinition::new("reversals");

/// (SKU, location code) → level: `on_hand` and `reserved` as two 16-byte
/// exact decimals; always the sum of the ledger for that pair.
pub const LEVELS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("levels");

/// Caller and `Idempotency-Key` → the request's fingerprint and first answer.
pub const IDEMPOTENCY: TableDefinition<&str, &[u8]> = TableDefinition::new("idempotency");

/// (year, number in the year) → quote.
pub const QUOTES: TableDefinition<(i64, u64), &[u8]> = TableDefinition::new("quotes");

/// SHA-256 (hex) of a customer link's secret → (year, number).
pub const QUOTES_BY_LINK: TableDefinition<&str, (i64, u64)> =
    TableDefinition::new("quotes_by_link");

/// (valid until, in microseconds since 1970; year; number) → (): the open
/// quotes in the order they expire.
pub const OPEN_QUOTES: TableDefinition<(i64, i64, u64), ()> = TableDefinition::new("open_quotes");

/// SHA-256 (hex) of a browser session's secret → session.
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");

/// (username, session hash) → (): ends a user's sessions at once.
pub const SESSIONS_BY_USER: TableDefinition<(&str, &str), ()> =
    TableDefinition::new("sessions_by_user");

/// Webhook endpoint id → endpoint, with where its delivery stands.
pub const WEBHOOKS: TableDefinition<u64, &[u8]> = TableDefinition::new("webhooks");

/// (endpoint id, attempt number) → one delivery attempt, kept for
/// `webhooks.keep_deliveries_days`.
pub const WEBHOOK_DELIVERIES: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("webhook_deliveries");

/// `{id}` or `{id}-thumb` → the JPEG file of a product photo.
pub const IMAGE_FILES: TableDefinition<&str, &[u8]> = TableDefinition::new("image_files");

/// Delivery zone code → zone.
pub const DELIVERY_ZONES: TableDefinition<&str, &[u8]> = TableDefinition::new("delivery_zones");

/// Message id → a message of the mail outbox, kept `mail.keep_days`.
pub const MAIL: TableDefinition<u64, &[u8]> = TableDefinition::new("mail");

/// (next attempt, in microseconds since 1970; message id) → (): the messages
/// waiting to be sent, in the order they are due.
pub const MAIL_QUEUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("mail_queue");

/// SHA-256 (hex) of a password-reset link's secret → whose password it sets
/// and until when.
pub const PASSWORD_RESETS: TableDefinition<&str, &[u8]> = TableDefinition::new("password_resets");

/// Price list code → price list.
pub const PRICE_LISTS: TableDefinition<&str, &[u8]> = TableDefinition::new("price_lists");

/// Customer code → customer.
pub const CUSTOMERS: TableDefinition<&str, &[u8]> = TableDefinition::new("customers");

/// (customer code, quote key) → (): a trade customer's quotes, the key being
/// the quote's year and number as `year << 40 | number` (newest last).
pub const QUOTES_BY_CUSTOMER: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("quotes_by_customer");

/// (price list code, customer code) → (): the customers buying at a list.
pub const CUSTOMERS_BY_PRICE_LIST: TableDefinition<(&str, &str), ()> =
    TableDefinition::new("customers_by_price_list");

/// A trade contact's login (lower-case e-mail) → the contact.
pub const CONTACTS: TableDefinition<&str, &[u8]> = TableDefinition::new("contacts");

/// (customer code, contact login) → (): a customer's contacts.
pub const CONTACTS_BY_CUSTOMER: TableDefinition<(&str, &str), ()> =
    TableDefinition::new("contacts_by_customer");

/// SHA-256 (hex) of an invitation link's secret → the pending invitation.
pub const CONTACT_INVITES: TableDefinition<&str, &[u8]> = TableDefinition::new("contact_invites");

/// (customer code, invitation hash) → (): a customer's pending invitations.
pub const INVITES_BY_CUSTOMER: TableDefinition<(&str, &str), ()> =
    TableDefinition::new("invites_by_customer");

/// (quote year, quote number, delivery number) → a delivery of the quote.
pub const DELIVERIES: TableDefinition<(i64, i64, u64), &[u8]> = TableDefinition::new("deliveries");

/// The key in [`META`] that holds the schema version.
pub const SCHEMA_VERSION_KEY: &str = "schema_version";

/// The key in [`META`] that names this store's history: a random number
/// written when the store is created, restored or migrated. A search index
/// built from another history (a restore while its node was stopped) sees a
/// different epoch and is rebuilt. Absent in stores from before it: 0.
pub const STORE_EPOCH_KEY: &str = "store_epoch";

/// The key in [`META`] that holds the last webhook endpoint id given out
/// (ids are never reused, so a deleted endpoint's deliveries cannot be
/// mistaken for a new one's).
pub const WEBHOOK_ID_KEY: &str = "webhook_id";

/// The key in [`META`] that holds the last mail message id given out.
pub const MAIL_ID_KEY: &str = "mail_id";

/// The key in [`META`] that holds the day (since 1970, UTC) the last
/// low-stock digest was queued for.
pub const MAIL_DIGEST_DAY_KEY: &str = "mail_digest_day";

/// A new random store epoch.
pub fn new_epoch() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    u64::from_le_bytes(bytes) >> 1
}

/// The name of every table, in the order a copy writes them.
pub const ALL: [&str; 37] = [
    "meta",
    "changes",
    "products",
    "products_by_barcode",
    "products_by_category",
    "locations",
    "users",
    "tokens",
    "tokens_by_hash",
    "movements",
    "movements_by_sku",
    "movements_by_location",
    "movements_by_reference",
    "reversals",
    "levels",
    "idempotency",
    "quotes",
    "quotes_by_link",
    "open_quotes",
    "sessions",
    "sessions_by_user",
    "webhooks",
    "webhook_deliveries",
    "image_files",
    "delivery_zones",
    "mail",
    "mail_queue",
    "password_resets",
    "price_lists",
    "customers",
    "customers_by_price_list",
    "quotes_by_customer",
    "contacts",
    "contacts_by_customer",
    "contact_invites",
    "invites_by_customer",
    "deliveries",
];

/// The `'static` name of a table this module declares.
pub fn static_name(name: &str) -> Option<&'static str> {
    ALL.iter().copied().find(|n| *n == name)
}

/// Calls `$callback!(TABLE)` for every table definition of this module, in
/// the order of [`ALL`].
macro_rules! every_table {
    ($callback:ident) => {
        $callback!(META);
        $callback!(CHANGES);
        $callback!(PRODUCTS);
        $callback!(PRODUCTS_BY_BARCODE);
        $callback!(PRODUCTS_BY_CATEGORY);
        $callback!(LOCATIONS);
        $callback!(USERS);
        $callback!(TOKENS);
        $callback!(TOKENS_BY_HASH);
        $callback!(MOVEMENTS);
        $callback!(MOVEMENTS_BY_SKU);
        $callback!(MOVEMENTS_BY_LOCATION);
        $callback!(MOVEMENTS_BY_REFERENCE);
        $callback!(REVERSALS);
        $callback!(LEVELS);
        $callback!(IDEMPOTENCY);
        $callback!(QUOTES);
        $callback!(QUOTES_BY_LINK);
        $callback!(OPEN_QUOTES);
        $callback!(SESSIONS);
        $callback!(SESSIONS_BY_USER);
        $callback!(WEBHOOKS);
        $callback!(WEBHOOK_DELIVERIES);
        $callback!(IMAGE_FILES);
        $callback!(DELIVERY_ZONES);
        $callback!(MAIL);
        $callback!(MAIL_QUEUE);
        $callback!(PASSWORD_RESETS);
        $callback!(PRICE_LISTS);
        $callback!(CUSTOMERS);
        $callback!(CUSTOMERS_BY_PRICE_LIST);
        $callback!(QUOTES_BY_CUSTOMER);
        $callback!(CONTACTS);
        $callback!(CONTACTS_BY_CUSTOMER);
        $callback!(CONTACT_INVITES);
        $callback!(INVITES_BY_CUSTOMER);
        $callback!(DELIVERIES);
    };
}
pub(super) use every_table;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_listed_once_in_all_and_in_every_table() {
        use redb::TableHandle as _;
        let mut named = Vec::new();
        macro_rules! name {
            ($t:ident) => {
                named.push($t.name().to_owned());
            };
        }
        every_table!(name);
        assert_eq!(named, ALL.map(str::to_owned));
    }
}
