//! A trade customer's people: contact logins, and the single-use invitations
//! staff make them with. A contact is a principal of its own kind (the
//! `contact` role), below every staff role: it reaches the storefront and its
//! own customer's quotes, never a staff route.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::Actor;
use super::customers::CustomerCode;
use super::quotes::{ContactName, Email};

/// How long an invitation link works.
pub const INVITE_DAYS: i64 = 7;

/// Most contacts (and pending invitations) one customer has.
pub const MAX_CONTACTS: usize = 50;

/// A contact's login name: their e-mail address in lower case, so
/// `Sam@Harbour.example` and `sam@harbour.example` are one login. Staff
/// usernames cannot contain `@`, so the two never collide.
pub fn login_of(email: &Email) -> Email {
    Email::parse(&email.as_str().to_lowercase()).unwrap_or_else(|_| email.clone())
}

/// A contact login as stored. `password_hash` is an argon2id PHC string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeContact {
    pub login: Email,
    pub name: ContactName,
    pub customer: CustomerCode,
    pub password_hash: String,
    /// A disabled contact cannot sign in; their sessions ended when disabled.
    pub active: bool,
    pub invited_by: Actor,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What the API shows of a contact: never the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContactView {
    /// The e-mail address they sign in with.
    pub login: Email,
    pub name: ContactName,
    pub customer: CustomerCode,
    pub active: bool,
    #[schema(value_type = String)]
    pub invited_by: Actor,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&TradeContact> for ContactView {
    fn from(c: &TradeContact) -> Self {
        Self {
            login: c.login.clone(),
            name: c.name.clone(),
            customer: c.customer.clone(),
            active: c.active,
            invited_by: c.invited_by.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A pending invitation, stored under the SHA-256 of its link's secret
/// (which only the link holds) and shown to staff as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContactInvite {
    /// What staff withdraw it by: the start of the secret's hash.
    pub id: String,
    pub customer: CustomerCode,
    /// The login the contact will have.
    pub email: Email,
    pub name: ContactName,
    #[schema(value_type = String)]
    pub created_by: Actor,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

impl ContactInvite {
    /// The id of the invitation whose secret hashes to `hash`.
    pub fn id_of(hash: &str) -> String {
        hash.chars().take(16).collect()
    }

    pub fn is_usable(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// The body of `POST /customers/{code}/invites`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "buyer@northbuild.example", "name": "Pat Buyer"}))]
pub struct InviteInput {
    /// The contact's e-mail address: their login.
    pub email: Email,
    pub name: ContactName,
}

/// The body of `PUT /customers/{code}/contacts/{login}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct ContactPatch {
    /// `false` disables the login and ends its sessions; `true` enables it.
    pub active: Option<bool>,
    pub name: Option<ContactName>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_the_address_in_lower_case() {
        let email = Email::parse("Sam.Buyer@Harbour.Example").unwrap();
        assert_eq!(login_of(&email).as_str(), "sam.buyer@harbour.example");
    }

    #[test]
    fn an_invitation_stops_working_at_its_expiry() {
        let at = Timestamp::from_second(10_000).unwrap();
        let invite = ContactInvite {
            id: ContactInvite::id_of("0123456789abcdef0123"),
            customer: CustomerCode::parse("HARBOUR").unwrap(),
            email: Email::parse("a@b.example").unwrap(),
            name: ContactName::parse("A").unwrap(),
            created_by: Actor::cli(),
            created_at: at,
            expires_at: at,
        };
        assert_eq!(invite.id, "0123456789abcdef");
        assert!(!invite.is_usable(at));
        assert!(invite.is_usable(Timestamp::from_second(9_999).unwrap()));
    }
}
