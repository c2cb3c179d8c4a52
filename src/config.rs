//! Settings, layered: built-in defaults < the `--config` TOML file < `QUARRY_*`
//! environment variables < command-line flags. `config.example.toml` documents
//! every key with its default and is embedded in the binary.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

/// The documented example, printed by `quarry config default`.
pub const EXAMPLE: &str = include_str!("../config.example.toml");

/// The sections of the file (`[shop]`, `[limits]`…): the settings that are
/// tables, read off the settings types themselves, so a new section needs no
/// list to be kept by hand.
fn sections() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(settings)) => settings
            .into_iter()
            .filter(|(_, value)| value.is_object())
            .map(|(key, _)| key)
            .collect(),
        _ => Vec::new(),
    }
}

/// The setting an environment variable names, from its name after `QUARRY_`,
/// lower-cased: `shop_name` is `shop.name`, `store_cache_mb` is
/// `store.cache_mb`, `data_dir` (no section) is `data_dir`.
fn env_key(name: &str, sections: &[String]) -> String {
    sections
        .iter()
        .find_map(|section| {
            name.strip_prefix(section.as_str())
                .and_then(|rest| rest.strip_prefix('_'))
                .map(|rest| format!("{section}.{rest}"))
        })
        .unwrap_or_else(|| name.to_owned())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port the HTTP server listens on.
    pub listen: SocketAddr,
    /// Directory holding the database (and later the search index and backups).
    pub data_dir: PathBuf,
    /// The address customers reach the shop at, e.g. `https://shop.example.com`;
    /// used in links Quarry prints or sends.
    pub public_base_url: Option<String>,
    /// Addresses (or CIDR ranges) of reverse proxies whose `X-Forwarded-For`
    /// is believed. Empty: the connection's own address is the client's.
    pub trusted_proxies: Vec<String>,
    pub shop: ShopConfig,
    pub auth: AuthConfig,
    pub cors: CorsConfig,
    pub tls: TlsConfig,
    pub stock: StockConfig,
    pub quotes: QuotesConfig,
    pub search: SearchConfig,
    pub log: LogConfig,
    pub limits: LimitsConfig,
    pub backup: BackupConfig,
    pub metrics: MetricsConfig,
    pub store: StoreConfig,
    pub webhooks: WebhooksConfig,
    pub mail: MailConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Most memory the data file's page cache may take, in MiB (it grows as
    /// pages are read, up to this).
    pub cache_mb: u32,
    /// Empty: the embedded data file in the data dir. A `postgres://` URL
    /// (libpq syntax, several hosts allowed): the store lives in that
    /// PostgreSQL database, shared by every node pointed at it.
    pub url: String,
    /// With PostgreSQL: the most connections this node opens.
    pub pool_size: u32,
    /// The embedded store acknowledges a write once its journal entry is
    /// synced; the data file takes the journal's writes at a checkpoint at
    /// most this many seconds after the first of them (0: after every
    /// commit, as if there were no journal).
    pub checkpoint_secs: u32,
    /// ... or once the journal holds this many MiB.
    pub checkpoint_mb: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            cache_mb: 32,
            url: String::new(),
            pool_size: 16,
            checkpoint_secs: 10,
            checkpoint_mb: 16,
        }
    }
}

impl StoreConfig {
    /// How the store is opened.
    pub fn options(&self) -> crate::store::Options {
        crate::store::Options {
            cache_bytes: Some(self.cache_bytes()),
            faults: None,
            url: (!self.url.is_empty()).then(|| self.url.clone()),
            pool_size: self.pool_size,
            lock_node: false,
            checkpoints: crate::store::journal::Checkpoints {
                every: std::time::Duration::from_secs(self.checkpoint_secs.into()),
                bytes: u64::from(self.checkpoint_mb) << 20,
            },
        }
    }

    /// Where the store is, for messages: the data dir's file, or the
    /// database without its password.
    pub fn describe(&self, data_dir: &Path) -> String {
        if self.url.is_empty() {
            data_dir.display().to_string()
        } else {
            crate::store::redact_url(&self.url)
        }
    }

    /// The cache size in bytes.
    pub fn cache_bytes(&self) -> usize {
        usize::try_from(u64::from(self.cache_mb) << 20).unwrap_or(usize::MAX)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Allow plain `http://` endpoints (a receiver on the shop's own network);
    /// otherwise only `https://`.
    pub allow_http: bool,
    /// Allow endpoints whose address is loopback, private or link-local
    /// (checked when each message is sent, after the name is resolved);
    /// otherwise such addresses are refused, so an endpoint cannot reach
    /// the machine's or the network's own services.
    pub allow_private: bool,
    /// Seconds a receiver has to answer one message.
    pub timeout_secs: u32,
    /// The first retry's delay in milliseconds; each next one doubles, with
    /// jitter, up to `retry_max_secs`.
    pub retry_first_ms: u64,
    /// The longest delay between two retries, in seconds.
    pub retry_max_secs: u32,
    /// Hours an event is retried before its endpoint is marked failing and
    /// delivery stops until the owner resumes it.
    pub retry_hours: u32,
    /// Days the delivery log of each endpoint is kept.
    pub keep_deliveries_days: u32,
    /// Most endpoints a store may have.
    pub max_endpoints: u32,
    /// Most messages sent per second over all endpoints; 0: no limit. Keeps
    /// delivery (one HTTP exchange per message and endpoint) from taking
    /// the CPU bookings need on a small machine; a backlog drains at this rate.
    pub max_messages_per_sec: u32,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_private: false,
            timeout_secs: 10,
            retry_first_ms: 5_000,
            retry_max_secs: 3_600,
            retry_hours: 72,
            keep_deliveries_days: 14,
            max_endpoints: 50,
            max_messages_per_sec: 1_000,
        }
    }
}

impl WebhooksConfig {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(1..=300).contains(&self.timeout_secs) {
            return Err(("webhooks.timeout_secs", "must be between 1 and 300".into()));
        }
        if !(10..=3_600_000).contains(&self.retry_first_ms) {
            return Err((
                "webhooks.retry_first_ms",
                "must be between 10 and 3600000".into(),
            ));
        }
        if !(1..=86_400).contains(&self.retry_max_secs) {
            return Err((
                "webhooks.retry_max_secs",
                "must be between 1 and 86400".into(),
            ));
        }
        if !(1..=2_160).contains(&self.retry_hours) {
            return Err(("webhooks.retry_hours", "must be between 1 and 2160".into()));
        }
        if !(1..=3_650).contains(&self.keep_deliveries_days) {
            return Err((
                "webhooks.keep_deliveries_days",
                "must be between 1 and 3650".into(),
            ));
        }
        if self.max_messages_per_sec > 1_000_000 {
            return Err((
                "webhooks.max_messages_per_sec",
                "must be between 0 (no limit) and 1000000".into(),
            ));
        }
        if !(1..=1_000).contains(&self.max_endpoints) {
            return Err((
                "webhooks.max_endpoints",
                "must be between 1 and 1000".into(),
            ));
        }
        Ok(())
    }
}

/// Mail: quote links to customers, password-reset links to staff and the
/// low-stock digest, through an SMTP server. Unset `smtp_url`: no mail is
/// sent, and the links are shown instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `smtp://user:pass@host:587` (STARTTLS, required), `smtps://user:pass@host:465`
    /// (TLS from the start); `?tls=none` after a `smtp://` address sends in
    /// the clear (a relay on the machine itself only). Unset: no mail.
    pub smtp_url: Option<String>,
    /// The sender: `Yard <shop@example.com>` or `shop@example.com`.
    pub from: Option<String>,
    /// Seconds one SMTP exchange may take.
    pub timeout_secs: u32,
    /// The first retry's delay in seconds; each next one doubles, with
    /// jitter, up to `retry_max_secs`.
    pub retry_first_secs: u32,
    /// The longest delay between two retries, in seconds.
    pub retry_max_secs: u32,
    /// Hours a message is retried before it is given up as failed.
    pub give_up_hours: u32,
    /// Days sent and failed messages stay listed in the outbox.
    pub keep_days: u32,
    /// Minutes a password-reset link works.
    pub reset_link_minutes: u32,
    /// Addresses the daily low-stock digest goes to (products at or below a
    /// reorder point); empty: no digest.
    pub low_stock_to: Vec<String>,
    /// The hour of the day (0–23, UTC) the digest is sent at.
    pub low_stock_hour_utc: u8,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: None,
            timeout_secs: 30,
            retry_first_secs: 30,
            retry_max_secs: 3_600,
            give_up_hours: 48,
            keep_days: 30,
            reset_link_minutes: 60,
            low_stock_to: Vec::new(),
            low_stock_hour_utc: 6,
        }
    }
}

impl MailConfig {
    /// Whether mail is sent at all.
    pub fn enabled(&self) -> bool {
        self.smtp_url.is_some()
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(url) = &self.smtp_url {
            let scheme = url.split_once("://").map(|(s, _)| s);
            if !matches!(scheme, Some("smtp" | "smtps")) {
                return Err((
                    "mail.smtp_url",
                    "must start with smtp:// (STARTTLS) or smtps:// (TLS)".into(),
                ));
            }
            if self.from.is_none() {
                return Err((
                    "mail.from",
                    "must be set when mail.smtp_url is: the address mail is sent from".into(),
                ));
            }
        }
        if let Some(from) = &self.from
            && from.parse::<lettre::message::Mailbox>().is_err()
        {
            return Err((
                "mail.from",
                format!("{from:?} is not an address such as `Yard <shop@example.com>`"),
            ));
        }
        for to in &self.low_stock_to {
            if to.parse::<lettre::message::Mailbox>().is_err() {
                return Err((
                    "mail.low_stock_to",
                    format!("{to:?} is not an e-mail address"),
                ));
            }
        }
        let ranges: [(&'static str, u32, u32, u32); 6] = [
            ("mail.timeout_secs", self.timeout_secs, 1, 600),
            ("mail.retry_first_secs", self.retry_first_secs, 1, 86_400),
            ("mail.retry_max_secs", self.retry_max_secs, 1, 86_400),
            ("mail.give_up_hours", self.give_up_hours, 1, 720),
            ("mail.keep_days", self.keep_days, 1, 3_650),
            (
                "mail.reset_link_minutes",
                self.reset_link_minutes,
                5,
                10_080,
            ),
        ];
        for (key, value, low, high) in ranges {
            if !(low..=high).contains(&value) {
                return Err((key, format!("must be between {low} and {high}")));
            }
        }
        if self.low_stock_hour_utc > 23 {
            return Err(("mail.low_stock_hour_utc", "must be between 0 and 23".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Where backups made by the server go; unset: `<data_dir>/backups`.
    pub dir: Option<PathBuf>,
    /// Take a backup every this many minutes while serving; 0: never.
    pub every_minutes: u32,
    /// How many scheduled backups to keep; older ones are deleted.
    pub keep: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            dir: None,
            every_minutes: 0,
            keep: 7,
        }
    }
}

impl Config {
    /// The directory server-made backups go to.
    pub fn backup_dir(&self) -> PathBuf {
        self.backup
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("backups"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StockConfig {
    /// What anonymous visitors see of stock: `exact` quantities, a `bucket`
    /// (in stock / low / out), or nothing (`hidden`).
    pub public_availability: PublicAvailability,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchConfig {
    /// Equivalent phrases, one group per entry: `"rebar = reinforcing bar"`.
    pub synonyms: Vec<String>,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            synonyms: [
                "rebar = reinforcing bar = reinforcement bar",
                "m3 = cubic metre = cubic meter",
                "m2 = square metre = square meter",
                "cement = cem",
                "wheelbarrow = barrow",
                "osb = oriented strand board",
                "pir = polyisocyanurate",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublicAvailability {
    Exact,
    Bucket,
    Hidden,
}

impl Default for StockConfig {
    fn default() -> Self {
        Self {
            public_availability: PublicAvailability::Bucket,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShopConfig {
    /// Shown in the UI and on quotes.
    pub name: String,
    /// ISO 4217 code of the currency prices are in.
    pub currency: String,
    /// Contact details printed on quotes and the storefront.
    pub contact: String,
    /// Whether product prices include tax (gross) or not (net).
    pub prices_include_tax: bool,
    /// Tax classes and their rates in percent; products name one.
    pub tax_classes: BTreeMap<String, String>,
    /// How the UI and CSV files write numbers and dates, and the storefront's
    /// language: `en-GB`, `de-DE`, `fr-FR`… (English and German pages; other
    /// languages get English words with their own number format).
    pub locale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// A browser session ends after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// And after this many hours whatever happens.
    pub session_max_hours: u32,
    /// Mark cookies `Secure` with the `__Host-` prefix. Needed behind a TLS
    /// proxy; always on when Quarry serves TLS itself.
    pub secure_cookies: bool,
    /// Failed logins per minute for one account before further attempts are
    /// refused for a while, longer each time; an address may fail four times
    /// as often (several people behind one office router).
    pub login_failures_per_minute: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 60,
            session_max_hours: 12,
            secure_cookies: false,
            login_failures_per_minute: 5,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Origins (`https://shop.example.com`) whose pages may call the public API
    /// (search, suggestions, estimates, quote requests, product reads) from the
    /// browser. Empty: none (CORS off).
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain; with `key`, Quarry serves HTTPS itself.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotesConfig {
    /// Days a saved quote stays valid.
    pub valid_days: u32,
    /// Whether a saved quote reserves its stock until it expires, is cancelled
    /// or is accepted (staff may choose per quote).
    pub hold_stock: bool,
}

impl Default for QuotesConfig {
    fn default() -> Self {
        Self {
            valid_days: 14,
            hold_stock: false,
        }
    }
}

/// ISO 4217 codes Quarry knows, with their minor units.
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PEN", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

impl ShopConfig {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err(("shop.name", "must be 1 to 100 characters".into()));
        }
        let currency = &self.currency;
        if !CURRENCIES.iter().any(|(code, _)| code == currency) {
            return Err((
                "shop.currency",
                format!(
                    "{currency:?} is not an ISO 4217 code Quarry knows, such as EUR, USD or GBP"
                ),
            ));
        }
        if let Err(error) = crate::domain::locale::Locale::parse(&self.locale) {
            return Err(("shop.locale", error.to_string()));
        }
        if self.tax_classes.is_empty() {
            return Err(("shop.tax_classes", "define at least one tax class".into()));
        }
        for (class, rate) in &self.tax_classes {
            if crate::domain::values::TaxClass::parse(class).is_err() {
                return Err((
                    "shop.tax_classes",
                    format!("{class:?} is not a valid class name"),
                ));
            }
            let ok = crate::domain::text::parse_decimal(rate, "rate", 4).is_ok_and(|r| {
                r >= rust_decimal::Decimal::ZERO && r <= rust_decimal::Decimal::from(100)
            });
            if !ok {
                return Err((
                    "shop.tax_classes",
                    format!(
                        "the rate of {class} ({rate:?}) must be a percentage from 0 to 100, like \"20\""
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The shop's locale (checked when the configuration is read).
    pub fn locale(&self) -> crate::domain::locale::Locale {
        crate::domain::locale::Locale::parse(&self.locale).unwrap_or_else(|_| {
            crate::domain::locale::Locale::parse("en-GB").expect("a valid locale")
        })
    }

    /// Digits after the decimal point of the shop's currency.
    pub fn minor_units(&self) -> u32 {
        CURRENCIES
            .iter()
            .find(|(code, _)| *code == self.currency)
            .map_or(2, |(_, units)| *units)
    }

    /// The tax classes as exact rates.
    pub fn tax_rates(&self) -> BTreeMap<String, rust_decimal::Decimal> {
        self.tax_classes
            .iter()
            .filter_map(|(class, rate)| Some((class.clone(), rate.parse().ok()?)))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug`, `trace`, or per-module directives such
    /// as `info,quarry::store=debug`.
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal or journald.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body accepted, in bytes (larger → 413).
    pub body_bytes: usize,
    /// A request taking longer than this is answered with 408 and dropped.
    /// Imports and backups are exempt: their work goes on as a job, and an
    /// import's upload has `upload_timeout_secs`.
    pub request_timeout_secs: u64,
    /// How long an import's upload may take to arrive, in seconds.
    pub upload_timeout_secs: u64,
    /// Requests per minute one address may make to the public endpoints
    /// (search, suggestions, estimates); more get 429.
    pub public_requests_per_minute: u32,
    /// Quote requests per hour one address may make.
    pub quote_requests_per_hour: u32,
    /// Largest CSV file the import endpoints accept, in bytes.
    pub import_bytes: u64,
    /// Live event streams (`GET /api/v1/events`) one client may hold open:
    /// per address for anonymous callers (per /64 for IPv6), per user or
    /// token for signed-in ones. More get 429.
    pub event_streams_per_client: u32,
    /// Live event streams open at once in all; more get 503.
    pub event_streams: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Who may read `GET /metrics` (Prometheus text format).
    pub access: MetricsAccess,
    /// With `access = "open"`: the separate address metrics are served on.
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsAccess {
    /// Not served anywhere.
    Off,
    /// On the main listener, to an owner (an unscoped token or a session).
    #[default]
    Token,
    /// Without authentication, only on `metrics.listen`.
    Open,
}

impl MetricsConfig {
    fn validate(&self, main: SocketAddr) -> Result<(), (&'static str, String)> {
        match (self.access, self.listen) {
            (MetricsAccess::Open, None) => {
                Err((
                    "metrics.listen",
                    "access = \"open\" serves metrics without authentication, so only on a separate address: set `listen`, e.g. \"127.0.0.1:9090\"".into(),
                ))
            }
            (MetricsAccess::Token, Some(_)) => {
                Err((
                    "metrics.listen",
                    "with access = \"token\" metrics are served on the main listener; remove `listen`, or set access = \"open\"".into(),
                ))
            }
            (MetricsAccess::Open, Some(addr)) if addr == main && addr.port() != 0 => {
                Err((
                    "metrics.listen",
                    format!("{addr} is the main listener's address; choose another port"),
                ))
            }
            _ => Ok(()),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./quarry-data"),
            public_base_url: None,
            trusted_proxies: Vec::new(),
            shop: ShopConfig::default(),
            auth: AuthConfig::default(),
            cors: CorsConfig::default(),
            tls: TlsConfig::default(),
            stock: StockConfig::default(),
            quotes: QuotesConfig::default(),
            search: SearchConfig::default(),
            log: LogConfig::default(),
            limits: LimitsConfig::default(),
            backup: BackupConfig::default(),
            store: StoreConfig::default(),
            webhooks: WebhooksConfig::default(),
            mail: MailConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

impl Default for ShopConfig {
    fn default() -> Self {
        Self {
            name: "Quarry".into(),
            currency: "EUR".into(),
            contact: String::new(),
            prices_include_tax: false,
            tax_classes: [("standard", "20"), ("reduced", "5"), ("zero", "0")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            locale: "en-GB".into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Human,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            upload_timeout_secs: 600,
            public_requests_per_minute: 600,
            quote_requests_per_hour: 60,
            import_bytes: 256 * 1024 * 1024,
            event_streams_per_client: 8,
            event_streams: 500,
        }
    }
}

/// Settings given as command-line flags: they win over everything else.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreOverrides>,
}

/// `--store-url`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreOverrides {
    pub url: String,
}

/// The `QUARRY_*` variables, reported by their own names in errors.
struct EnvVars(Env);

impl Provider for EnvVars {
    fn metadata(&self) -> Metadata {
        Metadata::named("the environment").interpolater(|_: &Profile, keys: &[&str]| {
            format!("QUARRY_{}", keys.join("_").to_uppercase())
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.0.data()
    }
}

/// A setting that could not be used; the message names the key and its source.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Whether `text` is a web origin: `http(s)://host[:port]`, nothing after.
fn is_origin(text: &str) -> bool {
    let Some((scheme, authority)) = text.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && !authority.contains(['/', '?', '#', '@', ' '])
}

/// An address or a CIDR range: `10.0.0.0/8`, `::1`, `192.0.2.7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address.parse().ok()?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        (prefix <= bits).then_some(Self { network, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl Config {
    /// Loads the layered configuration from the process environment.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let sections = sections();
        let env = Env::prefixed("QUARRY_")
            .filter(|key| !key.as_str().eq_ignore_ascii_case("config"))
            .map(move |key| env_key(&key.as_str().to_ascii_lowercase(), &sections).into());
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let figment = figment
            .merge(EnvVars(env))
            .merge(Serialized::defaults(overrides));
        Self::extract(&figment)
    }

    /// Parses a TOML document on its own (defaults for what it leaves out).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::extract(
            &Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(text)),
        )
    }

    fn extract(figment: &Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|error| {
            ConfigError(
                error
                    .into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        config.validate().map_err(|(key, reason)| {
            let source = figment
                .find_metadata(key)
                .map(|md| match &md.source {
                    Some(source) => format!(" (from {source})"),
                    None => format!(" (from {})", md.name),
                })
                .unwrap_or_default();
            ConfigError(format!("invalid value for `{key}`{source}: {reason}"))
        })?;
        Ok(config)
    }

    /// Backups, imports and event streams.
    fn validate_operations(&self) -> Result<(), (&'static str, String)> {
        let url = &self.store.url;
        if !(url.is_empty() || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err((
                "store.url",
                "must be empty (the embedded data file) or a postgres:// URL".into(),
            ));
        }
        if !(2..=1000).contains(&self.store.pool_size) {
            return Err(("store.pool_size", "must be between 2 and 1000".into()));
        }
        if self.store.checkpoint_secs > 3600 {
            return Err(("store.checkpoint_secs", "must be between 0 and 3600".into()));
        }
        if !(1..=1024).contains(&self.store.checkpoint_mb) {
            return Err(("store.checkpoint_mb", "must be between 1 and 1024".into()));
        }
        if self.backup.keep == 0 {
            return Err(("backup.keep", "must be at least 1".into()));
        }
        if !(1024..=16 * 1024 * 1024 * 1024).contains(&self.limits.import_bytes) {
            return Err((
                "limits.import_bytes",
                "must be between 1024 and 17179869184 (16 GiB)".into(),
            ));
        }
        if !(1..=86_400).contains(&self.limits.upload_timeout_secs) {
            return Err((
                "limits.upload_timeout_secs",
                "must be between 1 and 86400".into(),
            ));
        }
        let streams = self.limits.event_streams;
        if !(1..=100_000).contains(&streams) {
            return Err((
                "limits.event_streams",
                "must be between 1 and 100000".into(),
            ));
        }
        if !(1..=streams).contains(&self.limits.event_streams_per_client) {
            return Err((
                "limits.event_streams_per_client",
                format!("must be between 1 and limits.event_streams ({streams})"),
            ));
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(url) = &self.public_base_url {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && !url.contains(char::is_whitespace);
            if !ok {
                return Err((
                    "public_base_url",
                    format!("{url:?} must be an http:// or https:// address"),
                ));
            }
        }
        self.shop.validate()?;
        for proxy in &self.trusted_proxies {
            if IpRange::parse(proxy).is_none() {
                return Err((
                    "trusted_proxies",
                    format!("{proxy:?} is not an address or CIDR range"),
                ));
            }
        }
        for origin in &self.cors.allowed_origins {
            if !is_origin(origin) {
                return Err((
                    "cors.allowed_origins",
                    format!(
                        "{origin:?} must be an origin such as https://shop.example.com (no path, no trailing /)"
                    ),
                ));
            }
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(("tls", "give both `cert` and `key`, or neither".into()));
        }
        if self.auth.session_idle_minutes == 0 || self.auth.session_max_hours == 0 {
            return Err(("auth", "session lifetimes must be at least 1".into()));
        }
        if self.auth.login_failures_per_minute == 0
            || self.limits.public_requests_per_minute == 0
            || self.limits.quote_requests_per_hour == 0
        {
            return Err(("limits", "rate limits must be at least 1".into()));
        }
        if !(1..=365).contains(&self.quotes.valid_days) {
            return Err(("quotes.valid_days", "must be between 1 and 365".into()));
        }
        if let Err(error) = crate::search::query::Synonyms::parse(&self.search.synonyms) {
            return Err(("search.synonyms", error));
        }
        if let Err(error) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(("log.level", error.to_string()));
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.limits.body_bytes) {
            return Err((
                "limits.body_bytes",
                "must be between 1024 and 67108864 (64 MiB)".into(),
            ));
        }
        self.metrics.validate(self.listen)?;
        self.validate_operations()?;
        self.webhooks.validate()?;
        self.mail.validate()?;
        if !(1..=3600).contains(&self.limits.request_timeout_secs) {
            return Err((
                "limits.request_timeout_secs",
                "must be between 1 and 3600".into(),
            ));
        }
        Ok(())
    }

    /// The effective settings as TOML, for `quarry config show`, without
    /// the passwords in the store's and the mail server's addresses.
    pub fn to_toml(&self) -> String {
        let mut shown = self.clone();
        shown.store.url = crate::store::redact_url(&shown.store.url);
        shown.mail.smtp_url = shown.mail.smtp_url.as_deref().map(crate::store::redact_url);
        toml::to_string(&shown).expect("the configuration serializes to TOML")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting's dotted path (`limits.body_bytes`), read off the
    /// defaults, with its default value.
    pub(crate) fn every_setting() -> Vec<(String, serde_json::Value)> {
        let serde_json::Value::Object(top) = serde_json::to_value(Config::default()).unwrap()
        else {
            unreachable!("the settings are a table")
        };
        let mut out = Vec::new();
        for (key, value) in top {
            match value {
                serde_json::Value::Object(section) => {
                    for (name, value) in section {
                        out.push((format!("{key}.{name}"), value));
                    }
                }
                value => out.push((key, value)),
            }
        }
        out
    }

    #[test]
    fn every_setting_has_an_environment_variable_that_names_it() {
        let sections = sections();
        assert!(sections.contains(&"store".to_owned()), "{sections:?}");
        let settings = every_setting();
        assert!(settings.len() > 30, "{}", settings.len());
        for (path, _) in &settings {
            let var = path.replace('.', "_");
            assert_eq!(
                env_key(&var, &sections),
                *path,
                "QUARRY_{}",
                var.to_uppercase()
            );
            // No setting outside a section may read as one inside it.
            if !path.contains('.') {
                assert!(
                    !sections.iter().any(|s| path.starts_with(&format!("{s}_"))),
                    "{path} starts like a section"
                );
            }
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn mail_needs_a_sender_and_an_smtp_address_and_its_password_is_never_shown() {
        let ok = Config::from_toml(
            "[mail]\nsmtp_url = \"smtp://shop%40example.com:s3cret@mail.example.com:587\"\nfrom = \"Yard <shop@example.com>\"\n",
        )
        .unwrap();
        assert!(ok.mail.enabled());
        let shown = ok.to_toml();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("mail.example.com:587"), "{shown}");
        for (toml, key) in [
            (
                "[mail]\nsmtp_url = \"smtp://mail.example.com\"\n",
                "mail.from",
            ),
            (
                "[mail]\nsmtp_url = \"http://mail.example.com\"\nfrom = \"a@example.com\"\n",
                "mail.smtp_url",
            ),
            ("[mail]\nfrom = \"not an address\"\n", "mail.from"),
            ("[mail]\nlow_stock_to = [\"nobody\"]\n", "mail.low_stock_to"),
            (
                "[mail]\nlow_stock_hour_utc = 24\n",
                "mail.low_stock_hour_utc",
            ),
            (
                "[mail]\nreset_link_minutes = 1\n",
                "mail.reset_link_minutes",
            ),
        ] {
            let error = Config::from_toml(toml).unwrap_err().to_string();
            assert!(error.contains(key), "{toml}: {error}");
        }
        assert!(!Config::default().mail.enabled());
    }

    #[test]
    fn ranges_parse_and_contain() {
        let private = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(private.contains(ip("10.200.3.4")));
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(private.contains(ip("::ffff:10.1.2.3")), "v4-mapped v6");
        let one = IpRange::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")));
        assert!(!one.contains(ip("192.0.2.8")));
        let v6 = IpRange::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0/8", "::/129", ""] {
            assert_eq!(IpRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_security_settings_are_refused() {
        let refused = |change: fn(&mut Config)| {
            let mut config = Config::default();
            change(&mut config);
            config.validate().unwrap_err().0
        };
        assert_eq!(
            refused(|c| c.trusted_proxies = vec!["10.0.0.0/33".into()]),
            "trusted_proxies"
        );
        assert_eq!(
            refused(|c| c.cors.allowed_origins = vec!["https://shop.example.com/".into()]),
            "cors.allowed_origins"
        );
        assert_eq!(
            refused(|c| c.cors.allowed_origins = vec!["shop.example.com".into()]),
            "cors.allowed_origins"
        );
        assert_eq!(refused(|c| c.tls.cert = Some("cert.pem".into())), "tls");
        assert_eq!(refused(|c| c.auth.session_idle_minutes = 0), "auth");
        assert_eq!(refused(|c| c.limits.quote_requests_per_hour = 0), "limits");
        assert_eq!(
            refused(|c| c.metrics.access = MetricsAccess::Open),
            "metrics.listen"
        );
        assert_eq!(
            refused(|c| c.metrics.listen = Some(c.listen)),
            "metrics.listen"
        );
        assert_eq!(
            refused(|c| {
                c.metrics.access = MetricsAccess::Open;
                c.metrics.listen = Some(c.listen);
            }),
            "metrics.listen"
        );
        let fine = Config {
            trusted_proxies: vec!["127.0.0.1".into(), "10.0.0.0/8".into(), "::1".into()],
            cors: CorsConfig {
                allowed_origins: vec![
                    "https://shop.example.com".into(),
                    "http://localhost:3000".into(),
                ],
            },
            ..Config::default()
        };
        assert!(fine.validate().is_ok());
    }

    #[test]
    fn the_example_parses_and_equals_the_defaults() {
        assert_eq!(Config::from_toml(EXAMPLE).unwrap(), Config::default());
    }

    #[test]
    fn the_example_mentions_every_key() {
        let defaults = toml::Value::try_from(Config::default()).unwrap();
        let mut missing = Vec::new();
        for (key, value) in defaults.as_table().unwrap() {
            let mut keys = vec![key.clone()];
            if let Some(table) = value.as_table() {
                keys.extend(table.keys().cloned());
            }
            for key in keys {
                let documented = [format!("{key} ="), format!("[{key}]"), format!(".{key}]")];
                if !documented.iter().any(|d| EXAMPLE.contains(d.as_str())) {
                    missing.push(key);
                }
            }
        }
        assert!(EXAMPLE.contains("public_base_url ="));
        assert!(
            missing.is_empty(),
            "not in config.example.toml: {missing:?}"
        );
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let err = Config::from_toml("[shop]\nnmae = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("nmae"), "{err}");
    }

    #[test]
    fn a_bad_value_is_an_error_naming_the_key() {
        let err = Config::from_toml("[shop]\nlocale = \"german\"\n").unwrap_err();
        assert!(err.to_string().contains("shop.locale"), "{err}");
        let err = Config::from_toml("[shop]\ncurrency = \"euro\"\n").unwrap_err();
        assert!(err.to_string().contains("shop.currency"), "{err}");
        let err = Config::from_toml("listen = \"nowhere\"\n").unwrap_err();
        assert!(err.to_string().contains("listen"), "{err}");
        let err = Config::from_toml("[limits]\nbody_bytes = 10\n").unwrap_err();
        assert!(err.to_string().contains("limits.body_bytes"), "{err}");
    }

    #[test]
    fn open_metrics_on_their_own_address_are_accepted() {
        let config =
            Config::from_toml("[metrics]\naccess = \"open\"\nlisten = \"127.0.0.1:9090\"\n")
                .unwrap();
        assert_eq!(config.metrics.access, MetricsAccess::Open);
        assert_eq!(
            config.metrics.listen,
            Some("127.0.0.1:9090".parse().unwrap())
        );
        let err = Config::from_toml("[metrics]\naccess = \"public\"\n").unwrap_err();
        assert!(err.to_string().contains("metrics.access"), "{err}");
    }

    #[test]
    fn a_file_that_does_not_exist_is_an_error() {
        let err = Config::load(
            Some(Path::new("/nonexistent/quarry.toml")),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
