//! Trade contacts: staff invite a customer's people with a single-use link
//! (Quarry sends no mail for it: staff pass the link on), a contact sets a
//! password with it and is signed in; staff rename, disable and enable them.
//! Signing in later is `POST /auth/login` with the e-mail address.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::LONGEST_SIGN_IN_FIELD;
use super::sessions::{Credentials, Holder, SignedIn, opens_session, signs_in};
use crate::app::customers::customer_not_found;
use crate::app::{App, AppError, ErrorCode, Principal};
use crate::auth;
use crate::domain::accounts::Actor;
use crate::domain::contacts::{
    ContactInvite, ContactPatch, ContactView, INVITE_DAYS, InviteInput, MAX_CONTACTS, TradeContact,
    login_of,
};
use crate::domain::customers::{Customer, CustomerCode};
use crate::domain::quotes::Email;
use crate::store::payloads::{ContactChanged, FieldChange};
use crate::store::{ChangeKind, WriteTx};

/// `POST /auth/invite`: the invitation link's secret and the contact's new
/// password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteAcceptance {
    /// The part of the invitation link after `#`.
    pub token: String,
    /// 8 to 128 characters, not a common password.
    #[schema(value_type = crate::domain::accounts::Password)]
    pub password: String,
}

/// A new invitation and the link to pass on (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct NewInvite {
    pub invite: InviteView,
    /// Opens the page where the contact sets their password; works once,
    /// for seven days.
    pub link: String,
}

/// A pending invitation as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteView {
    #[serde(flatten)]
    pub invite: ContactInvite,
    /// `pending`, or `expired` (a new invitation is needed).
    pub status: &'static str,
}

impl InviteView {
    fn new(invite: ContactInvite, now: Timestamp) -> Self {
        let status = if invite.is_usable(now) {
            "pending"
        } else {
            "expired"
        };
        Self { invite, status }
    }
}

/// A customer's contacts and pending invitations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub contacts: Vec<ContactView>,
    pub invites: Vec<InviteView>,
}

/// The customer `code` names (404 when there is none).
fn customer_at(tx: &impl CustomerLookup, code: &str) -> Result<Customer, AppError> {
    let parsed = CustomerCode::parse(code).map_err(|_| customer_not_found(code))?;
    tx.find(&parsed)?.ok_or_else(|| customer_not_found(code))
}

/// Reading a customer in either kind of transaction.
trait CustomerLookup {
    fn find(&self, code: &CustomerCode) -> Result<Option<Customer>, AppError>;
}

impl CustomerLookup for crate::store::ReadTx {
    fn find(&self, code: &CustomerCode) -> Result<Option<Customer>, AppError> {
        Ok(self.customer(code)?)
    }
}

impl CustomerLookup for WriteTx {
    fn find(&self, code: &CustomerCode) -> Result<Option<Customer>, AppError> {
        Ok(self.customer(code)?)
    }
}

fn contact_not_found(login: &str) -> AppError {
    AppError::NotFound {
        what: "contact",
        key: login.to_owned(),
    }
}

fn invalid_invite() -> AppError {
    AppError::Forbidden(
        "this invitation link is not valid: it was used already, has expired or is mistyped; \
         ask the shop for a new one"
            .into(),
    )
}

/// A login's contact, refusing one taken already.
fn login_free(tx: &WriteTx, login: &Email) -> Result<(), AppError> {
    if tx.trade_contact(login.as_str())?.is_some() {
        return Err(AppError::conflict(
            ErrorCode::DuplicateContact,
            "email",
            format!("{login} is a contact already (a login belongs to one customer)"),
        ));
    }
    Ok(())
}

/// Stores a new contact of `customer` with a password already hashed, and
/// logs it: the end of an accepted invitation, and the way in for the demo
/// and tests (`actor` and `invited_by` both the one adding them there).
pub fn add_contact_in(
    tx: &mut WriteTx,
    actor: &Actor,
    invited_by: &Actor,
    customer: &CustomerCode,
    (email, name): (&Email, &crate::domain::quotes::ContactName),
    password_hash: String,
) -> Result<TradeContact, AppError> {
    let login = login_of(email);
    login_free(tx, &login)?;
    let now = Timestamp::now();
    let contact = TradeContact {
        login: login.clone(),
        name: name.clone(),
        customer: customer.clone(),
        password_hash,
        active: true,
        invited_by: invited_by.clone(),
        created_at: now,
        updated_at: now,
    };
    tx.put_trade_contact(&contact)?;
    tx.record(
        ChangeKind::ContactJoined,
        customer.as_str(),
        actor,
        &ContactChanged {
            login: login.to_string(),
            changes: Vec::new(),
        },
    )?;
    Ok(contact)
}

impl App {
    /// A customer's contacts and invitations, for staff.
    pub async fn customer_contacts(&self, code: &str) -> Result<ContactList, AppError> {
        let code = code.to_owned();
        let now = Timestamp::now();
        self.read(move |tx| {
            let customer = customer_at(tx, &code)?;
            Ok(ContactList {
                contacts: tx
                    .contacts_of(&customer.code, MAX_CONTACTS)?
                    .iter()
                    .map(ContactView::from)
                    .collect(),
                invites: tx
                    .invites_of(&customer.code, MAX_CONTACTS)?
                    .into_iter()
                    .map(|(_, invite)| InviteView::new(invite, now))
                    .collect(),
            })
        })
        .await
    }

    /// Invites a contact to customer `code`: a single-use link, valid for
    /// [`INVITE_DAYS`] days, that lets them set their password.
    pub async fn invite_contact(
        &self,
        principal: &Principal,
        code: &str,
        input: InviteInput,
        base: String,
    ) -> Result<NewInvite, AppError> {
        let code = code.to_owned();
        let actor = principal.actor.clone();
        self.write(move |tx| {
            let customer = customer_at(tx, &code)?;
            if !customer.active {
                return Err(AppError::invalid(
                    "customer",
                    format!("customer {} is archived: restore them first", customer.code),
                ));
            }
            let email = login_of(&input.email);
            // A contact of this customer invited again gets a link that sets
            // a new password; another customer's login is refused.
            if tx
                .trade_contact(email.as_str())?
                .is_none_or(|c| c.customer != customer.code)
            {
                login_free(tx, &email)?;
            }
            let contacts = tx.contacts_of(&customer.code, MAX_CONTACTS)?.len();
            let invites = tx.invites_of(&customer.code, MAX_CONTACTS)?.len();
            if contacts + invites >= MAX_CONTACTS {
                return Err(AppError::conflict(
                    ErrorCode::TooManyContacts,
                    "email",
                    format!(
                        "{} has {MAX_CONTACTS} contacts and invitations, the most it may have; \
                         withdraw an invitation first",
                        customer.code
                    ),
                ));
            }
            let secret = auth::new_secret();
            let hash = auth::token_hash(&secret);
            let now = Timestamp::now();
            let invite = ContactInvite {
                id: ContactInvite::id_of(&hash),
                customer: customer.code.clone(),
                email: email.clone(),
                name: input.name,
                created_by: actor.clone(),
                created_at: now,
                expires_at: now
                    .checked_add(SignedDuration::from_hours(24 * INVITE_DAYS))
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            };
            tx.put_contact_invite(&hash, &invite)?;
            tx.record(
                ChangeKind::ContactInvited,
                customer.code.as_str(),
                &actor,
                &ContactChanged {
                    login: email.to_string(),
                    changes: Vec::new(),
                },
            )?;
            Ok(NewInvite {
                invite: InviteView::new(invite, now),
                link: format!("{}/invite#{secret}", base.trim_end_matches('/')),
            })
        })
        .await
    }

    /// Withdraws customer `code`'s invitation `id`: its link stops working.
    pub async fn withdraw_invite(
        &self,
        principal: &Principal,
        code: &str,
        id: &str,
    ) -> Result<(), AppError> {
        let (code, id) = (code.to_owned(), id.to_owned());
        let actor = principal.actor.clone();
        self.write(move |tx| {
            let customer = customer_at(tx, &code)?;
            let found = tx
                .invites_of(&customer.code, MAX_CONTACTS)?
                .into_iter()
                .find(|(_, invite)| invite.id == id);
            let Some((hash, invite)) = found else {
                return Err(AppError::NotFound {
                    what: "invitation",
                    key: id,
                });
            };
            tx.delete_contact_invite(&hash)?;
            tx.record(
                ChangeKind::ContactInviteWithdrawn,
                customer.code.as_str(),
                &actor,
                &ContactChanged {
                    login: invite.email.to_string(),
                    changes: Vec::new(),
                },
            )?;
            Ok(())
        })
        .await
    }

    /// Renames, disables or enables customer `code`'s contact `login`;
    /// disabling ends their sessions.
    pub async fn update_contact(
        &self,
        principal: &Principal,
        code: &str,
        login: &str,
        patch: ContactPatch,
    ) -> Result<ContactView, AppError> {
        let (code, login) = (code.to_owned(), login.trim().to_lowercase());
        let actor = principal.actor.clone();
        self.write(move |tx| {
            let customer = customer_at(tx, &code)?;
            let before = tx
                .trade_contact(&login)?
                .filter(|c| c.customer == customer.code)
                .ok_or_else(|| contact_not_found(&login))?;
            let mut contact = before.clone();
            if let Some(active) = patch.active {
                contact.active = active;
            }
            if let Some(name) = patch.name {
                contact.name = name;
            }
            let changes = FieldChange::between(
                &ContactView::from(&before),
                &ContactView::from(&contact),
                &["updated_at"],
            );
            if changes.is_empty() {
                return Ok(ContactView::from(&contact));
            }
            contact.updated_at = Timestamp::now();
            tx.put_trade_contact(&contact)?;
            if !contact.active {
                tx.delete_sessions_of(contact.login.as_str())?;
            }
            tx.record(
                ChangeKind::ContactUpdated,
                customer.code.as_str(),
                &actor,
                &ContactChanged {
                    login: contact.login.to_string(),
                    changes,
                },
            )?;
            Ok(ContactView::from(&contact))
        })
        .await
    }

    /// A contact accepts an invitation: sets their password and is signed
    /// in. The link works once; a wrong one is throttled per address.
    pub async fn accept_invite(&self, acceptance: InviteAcceptance) -> Result<SignedIn, AppError> {
        let ip_key = Self::client_key();
        self.throttled(&[&ip_key])?;
        let hash = auth::token_hash(acceptance.token.trim());
        let now = Timestamp::now();
        let key = hash.clone();
        let invite = self
            .read(move |tx| Ok(tx.contact_invite(&key)?))
            .await?
            .filter(|invite| invite.is_usable(now));
        let Some(invite) = invite else {
            self.inner.accounts.throttle.failed(&ip_key);
            return Err(invalid_invite());
        };
        let local = invite.email.as_str().split('@').next().unwrap_or_default();
        let password = auth::new_password(acceptance.password, local, &self.config().shop.name)
            .map_err(AppError::field("password"))?;
        let password_hash = self.hash(password).await?;
        let (idle, lifetime) = (self.inner.accounts.idle, self.inner.accounts.lifetime);
        self.write(move |tx| {
            // Used meanwhile (twice at once): the second finds it gone.
            let Some(invite) = tx.contact_invite(&hash)? else {
                return Err(invalid_invite());
            };
            let customer = customer_at(tx, invite.customer.as_str())?;
            if !customer.active {
                return Err(invalid_invite());
            }
            tx.delete_contact_invite(&hash)?;
            let actor = Actor::contact(&invite.email);
            let contact = match tx.trade_contact(invite.email.as_str())? {
                // Invited again: a new password, and enabled again.
                Some(before) if before.customer == customer.code => {
                    let contact = TradeContact {
                        password_hash,
                        active: true,
                        updated_at: Timestamp::now(),
                        ..before.clone()
                    };
                    tx.delete_sessions_of(contact.login.as_str())?;
                    tx.put_trade_contact(&contact)?;
                    let mut changes = FieldChange::between(
                        &ContactView::from(&before),
                        &ContactView::from(&contact),
                        &["updated_at"],
                    );
                    changes.push(FieldChange {
                        field: "password".into(),
                        before: serde_json::Value::Null,
                        after: serde_json::Value::String("set".into()),
                    });
                    tx.record(
                        ChangeKind::ContactUpdated,
                        customer.code.as_str(),
                        &actor,
                        &ContactChanged {
                            login: contact.login.to_string(),
                            changes,
                        },
                    )?;
                    contact
                }
                _ => add_contact_in(
                    tx,
                    &actor,
                    &invite.created_by,
                    &customer.code,
                    (&invite.email, &invite.name),
                    password_hash,
                )?,
            };
            opens_session(tx, Holder::Contact(&contact), idle, lifetime)
        })
        .await
    }

    /// A signed-in contact changes their own password, proving the current
    /// one; all their sessions end (this one too), as a user's do.
    pub(super) async fn change_contact_password(
        &self,
        principal: &Principal,
        change: super::PasswordChange,
    ) -> Result<(), AppError> {
        let login = principal.contact_login().to_owned();
        let key = format!("user:{login}");
        self.throttled(&[&key])?;
        let local = login.split('@').next().unwrap_or_default().to_owned();
        let new = auth::new_password(change.new_password, &local, &self.config().shop.name)
            .map_err(AppError::field("new_password"))?;
        let found = login.clone();
        let contact = self.read(move |tx| Ok(tx.trade_contact(&found)?)).await?;
        let current = if change.current_password.len() <= LONGEST_SIGN_IN_FIELD {
            change.current_password
        } else {
            String::new()
        };
        let hash = contact.as_ref().map(|c| c.password_hash.clone());
        if !self.verify_hash(current, hash).await? {
            self.inner.accounts.throttle.failed(&key);
            return Err(AppError::invalid(
                "current_password",
                "is not the current password",
            ));
        }
        let password_hash = self.hash(new).await?;
        let actor = principal.actor.clone();
        self.write(move |tx| {
            let before = tx
                .trade_contact(&login)?
                .ok_or_else(|| contact_not_found(&login))?;
            let contact = TradeContact {
                password_hash,
                updated_at: Timestamp::now(),
                ..before.clone()
            };
            tx.put_trade_contact(&contact)?;
            tx.delete_sessions_of(&login)?;
            tx.record(
                ChangeKind::ContactUpdated,
                contact.customer.as_str(),
                &actor,
                &ContactChanged {
                    login: login.clone(),
                    changes: vec![FieldChange {
                        field: "password".into(),
                        before: serde_json::Value::Null,
                        after: serde_json::Value::String("set".into()),
                    }],
                },
            )?;
            Ok(())
        })
        .await
    }

    /// Signs a trade contact in (the `@` in the login told them apart):
    /// throttled, timed and audited as a staff sign-in is.
    pub(super) async fn contact_login(
        &self,
        credentials: Credentials,
        previous: Option<String>,
        attempted: String,
        user_key: String,
        ip_key: String,
    ) -> Result<SignedIn, AppError> {
        let fits = credentials.password.len() <= LONGEST_SIGN_IN_FIELD;
        let login = attempted.clone();
        let contact = if fits {
            self.read(move |tx| {
                let Some(contact) = tx.trade_contact(&login)? else {
                    return Ok(None);
                };
                let customer_active = tx.customer(&contact.customer)?.is_some_and(|c| c.active);
                Ok(Some((contact, customer_active)))
            })
            .await?
        } else {
            None
        };
        let password = if fits {
            credentials.password
        } else {
            String::new()
        };
        let hash = contact.as_ref().map(|(c, _)| c.password_hash.clone());
        let verified = self.verify_hash(password, hash).await?;
        let contact = contact
            .filter(|(c, customer_active)| verified && c.active && *customer_active)
            .map(|(c, _)| c);
        let Some(contact) = contact else {
            return Err(self.sign_in_failed(attempted, &user_key, &ip_key).await);
        };
        self.inner.accounts.throttle.forget(&user_key);
        let (idle, lifetime) = (self.inner.accounts.idle, self.inner.accounts.lifetime);
        self.write(move |tx| {
            signs_in(
                tx,
                previous.as_deref(),
                Holder::Contact(&contact),
                idle,
                lifetime,
            )
        })
        .await
    }
}
