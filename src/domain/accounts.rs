//! Who may do what: roles, users and API tokens as records. Hashing and token
//! generation live in `auth/`; these types only hold the results.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::InvalidValue;
use super::rules::{Rule, pattern_schema};
use super::values::string_type;

/// A role, from least to most rights: `contact` is a trade customer's login
/// (the storefront and its own customer's quotes, no staff route), `viewer`
/// reads, `staff` also writes the catalogue, locations and stock, `owner`
/// also manages users and tokens. Users and tokens are never contacts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[serde(skip_deserializing)]
    Contact,
    Viewer,
    Staff,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Contact => "contact",
            Role::Viewer => "viewer",
            Role::Staff => "staff",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "staff" => Ok(Role::Staff),
            "owner" => Ok(Role::Owner),
            _ => Err(InvalidValue(format!(
                "unknown role {s:?}; use owner, staff or viewer"
            ))),
        }
    }
}

/// What a token may do, narrower than its role: without scopes a token may do
/// all its role allows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum Scope {
    /// Read everything the role may read.
    #[serde(rename = "read")]
    Read,
    /// Create and change products and locations.
    #[serde(rename = "catalogue:write")]
    CatalogueWrite,
    /// Book and reverse movements.
    #[serde(rename = "stock:write")]
    StockWrite,
    /// Accept, fulfil and cancel quotes.
    #[serde(rename = "quotes:write")]
    QuotesWrite,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::CatalogueWrite => "catalogue:write",
            Scope::StockWrite => "stock:write",
            Scope::QuotesWrite => "quotes:write",
        }
    }

    /// The least role whose routes the scope opens: a token of a lower role
    /// could never use it.
    pub fn needs(self) -> Role {
        match self {
            Scope::Read => Role::Viewer,
            Scope::CatalogueWrite | Scope::StockWrite | Scope::QuotesWrite => Role::Staff,
        }
    }

    /// Refuses scopes that a token of `role` could never use (a viewer token
    /// with `stock:write`), so a token says what it can do.
    pub fn check_all(role: Role, scopes: &[Scope]) -> Result<(), InvalidValue> {
        let unusable: Vec<&str> = scopes
            .iter()
            .filter(|scope| scope.needs() > role)
            .map(|scope| scope.as_str())
            .collect();
        if unusable.is_empty() {
            return Ok(());
        }
        Err(InvalidValue(format!(
            "a {role} token cannot use {} (the staff role's rights); give it only read, \
             or give the token the staff role",
            unusable.join(", ")
        )))
    }
}

impl FromStr for Scope {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Scope::Read,
            Scope::CatalogueWrite,
            Scope::StockWrite,
            Scope::QuotesWrite,
        ]
        .into_iter()
        .find(|scope| scope.as_str() == s.trim())
        .ok_or_else(|| {
            InvalidValue(format!(
                "unknown scope {s:?}; use read, catalogue:write, stock:write or quotes:write"
            ))
        })
    }
}

/// What [`parse_name`] accepts.
const NAME_PATTERN: &str = r"^\s*[A-Za-z0-9._-]{1,64}\s*$";

/// A user or token name: 1–64 characters of `a-z 0-9 . _ -`, case-insensitive
/// (kept lower-case).
fn parse_name(raw: &str, what: &str) -> Result<String, InvalidValue> {
    let name = raw.trim().to_ascii_lowercase();
    if name.is_empty() || name.len() > 64 {
        return Err(InvalidValue(format!("{what} must be 1 to 64 characters")));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(InvalidValue(format!(
            "{what} may contain only the letters a to z (no accents: ö or é cannot be told \
             apart from look-alikes), digits, '.', '_' and '-'"
        )));
    }
    Ok(name)
}

string_type!(
    /// A user's login name.
    Username,
    "owner",
    Rule::Own {
        pattern: NAME_PATTERN,
        exact: true,
        parse: |raw| parse_name(raw, "username")
    }
);

string_type!(
    /// The name an API token is listed and revoked by.
    TokenName,
    "ci",
    Rule::Own {
        pattern: NAME_PATTERN,
        exact: true,
        parse: |raw| parse_name(raw, "token name")
    }
);

/// A password as typed: 8 to 128 characters. Never printed.
#[derive(Clone)]
pub struct Password(String);

pattern_schema!(
    Password,
    string_schema,
    Password::PATTERN,
    "A password: 8 to 128 characters (not a common one, nor one close to the username or the shop's name).",
    "correct horse battery"
);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 128;
    /// What [`Password::parse`] accepts (the rest of the rules need the
    /// user's name and the shop's, and answer 422).
    pub const PATTERN: &str = r"^[\s\S]{8,128}$";

    pub fn parse(raw: String) -> Result<Self, InvalidValue> {
        let len = raw.chars().count();
        if len < Self::MIN {
            return Err(InvalidValue(format!(
                "password must be at least {} characters",
                Self::MIN
            )));
        }
        if len > Self::MAX {
            return Err(InvalidValue(format!(
                "password must be at most {} characters",
                Self::MAX
            )));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Who made a change, as recorded in the change log: `user:NAME`, `token:NAME`,
/// `cli` or `system`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor(String);

impl Actor {
    pub fn user(name: &Username) -> Self {
        Self(format!("user:{name}"))
    }
    pub fn token(name: &TokenName) -> Self {
        Self(format!("token:{name}"))
    }
    pub fn cli() -> Self {
        Self("cli".into())
    }
    pub fn system() -> Self {
        Self("system".into())
    }
    /// A trade customer's contact, by their login.
    pub fn contact(login: &super::quotes::Email) -> Self {
        Self(format!("contact:{login}"))
    }
    /// An anonymous visitor (a customer asking for a quote).
    pub fn public() -> Self {
        Self("public".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user account. `password_hash` is an argon2id PHC string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub username: Username,
    pub role: Role,
    pub password_hash: String,
    /// Where password-reset links go.
    #[serde(default)]
    pub email: Option<super::quotes::Email>,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What the API and CLI show of a user: never the hash.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UserView {
    pub username: Username,
    pub role: Role,
    /// Where password-reset links go.
    pub email: Option<super::quotes::Email>,
    pub disabled: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            username: u.username.clone(),
            role: u.role,
            email: u.email.clone(),
            disabled: u.disabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// An API token. Only the SHA-256 of the secret is kept (`hash`, hex); the
/// secret itself is shown once, when created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub name: TokenName,
    pub role: Role,
    pub hash: String,
    /// The user the token acts for, if any: disabling the user stops the token.
    pub user: Option<Username>,
    /// What the token may do; empty: all its role allows.
    #[serde(default)]
    pub scopes: Vec<Scope>,
    pub created_by: Actor,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Whether the token may be used at `now` (its user's state is checked apart).
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }

    pub fn status(&self, now: Timestamp) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if !self.is_usable(now) {
            "expired"
        } else {
            "active"
        }
    }
}

/// A signed-in browser: kept in the store under the SHA-256 of its secret,
/// which only the browser's cookie holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The staff user signed in; `None` for a trade contact's session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Username>,
    /// The trade contact signed in (their login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<super::quotes::Email>,
    /// Sent back by the browser in `X-CSRF-Token` with every change.
    pub csrf: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// When the session ends however active it is.
    pub expires_at: Timestamp,
    pub ip: Option<String>,
}

impl Session {
    /// Whose session it is, as the sessions-by-holder index keys it: a
    /// username, or a contact's login (which has an `@`, which usernames
    /// cannot).
    pub fn holder(&self) -> &str {
        match (&self.user, &self.contact) {
            (Some(user), _) => user.as_str(),
            (None, Some(contact)) => contact.as_str(),
            (None, None) => "",
        }
    }

    /// Whether the session may be used at `now`, given the idle limit.
    pub fn is_live(&self, now: Timestamp, idle: jiff::SignedDuration) -> bool {
        now < self.expires_at && now.duration_since(self.last_seen_at) < idle
    }
}

/// What the API and CLI show of a token: never its hash.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TokenView {
    pub name: TokenName,
    pub role: Role,
    pub user: Option<Username>,
    pub scopes: Vec<Scope>,
    /// `active`, `expired` or `revoked`.
    pub status: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
}

impl TokenView {
    pub fn new(token: &ApiToken, now: Timestamp) -> Self {
        Self {
            name: token.name.clone(),
            role: token.role,
            user: token.user.clone(),
            scopes: token.scopes.clone(),
            status: token.status(now),
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_rights() {
        assert!(Role::Owner > Role::Staff && Role::Staff > Role::Viewer);
        assert_eq!("Owner".parse::<Role>().unwrap(), Role::Owner);
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn a_token_may_only_have_scopes_its_role_can_use() {
        let all = [
            Scope::Read,
            Scope::CatalogueWrite,
            Scope::StockWrite,
            Scope::QuotesWrite,
        ];
        assert!(Scope::check_all(Role::Viewer, &[Scope::Read]).is_ok());
        assert!(Scope::check_all(Role::Staff, &all).is_ok());
        assert!(Scope::check_all(Role::Owner, &all).is_ok());
        let refused = Scope::check_all(Role::Viewer, &all).unwrap_err().0;
        assert!(
            refused.contains("catalogue:write, stock:write, quotes:write")
                && !refused.contains("use read"),
            "{refused}"
        );
    }

    #[test]
    fn passwords_have_bounds_and_never_print() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("x".repeat(129)).is_err());
        let pw = Password::parse("correct horse".into()).unwrap();
        assert_eq!(format!("{pw:?}"), "Password(***)");
    }

    #[test]
    fn a_token_stops_at_its_expiry_or_revocation() {
        let t0 = Timestamp::from_second(1_000).unwrap();
        let mut token = ApiToken {
            name: TokenName::parse("ci").unwrap(),
            role: Role::Staff,
            hash: String::new(),
            user: None,
            scopes: Vec::new(),
            created_by: Actor::cli(),
            created_at: t0,
            expires_at: Some(Timestamp::from_second(2_000).unwrap()),
            last_used_at: None,
            revoked_at: None,
        };
        assert!(token.is_usable(t0));
        assert_eq!(
            token.status(Timestamp::from_second(2_000).unwrap()),
            "expired"
        );
        token.revoked_at = Some(t0);
        assert_eq!(token.status(t0), "revoked");
    }
}
