//! The access rules, as one table: every route the server documents × every
//! kind of caller → the status class expected. A route missing from the table
//! fails the test, so no route can ship without a rule.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, Who, sand};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// No authentication at all: credentials are not even looked at.
    Open,
    /// Anyone; credentials that are sent must be valid.
    Public,
    /// At least the viewer role, and the `read` scope.
    Viewer,
    /// Staff with `catalogue:write`.
    Catalogue,
    /// Staff with `stock:write`.
    Stock,
    /// Staff with `quotes:write`.
    Quotes,
    /// An owner, not narrowed by scopes.
    Owner,
    /// Any valid credentials.
    SignedIn,
    /// A browser session (a token has none to end: 400).
    Logout,
    /// A caller with a user (the test sends a wrong current password: 422).
    OwnPassword,
    /// Open, but an owner exists already: 409 for everyone.
    SetupDone,
    /// Open, but the table's made-up reset or invitation link is refused:
    /// 403 for everyone.
    ResetRefused,
    /// A signed-in trade contact's own account: contacts get it, anonymous
    /// callers 401, everyone else 403.
    Contact,
    /// A trade contact's printable quote: contacts get it, everyone else is
    /// sent to the account page (303).
    ContactPage,
    /// A delivery note (of the session contact's customer's quote): readers
    /// and that contact get it, visitors are sent to sign in (303).
    DeliveryNote,
    /// A back-office page: readers get it, everyone else is sent to sign in
    /// (303); credentials that are sent must be valid.
    BackOffice,
    /// A job: whoever started it (here `Who::Staff`) and unscoped owners see
    /// it; other signed-in callers are told it does not exist (404).
    Job,
}

/// (method, documented path, rule). Path parameters are filled in by `concrete`.
const TABLE: &[(&str, &str, Rule)] = &[
    ("GET", "/", Rule::Open),
    ("GET", "/assets/{path}", Rule::Open),
    ("GET", "/healthz", Rule::Open),
    ("GET", "/readyz", Rule::Open),
    ("GET", "/metrics", Rule::Owner),
    ("GET", "/setup", Rule::Open),
    ("GET", "/account", Rule::Open),
    ("GET", "/invite", Rule::Open),
    ("GET", "/account/quotes/{number}", Rule::ContactPage),
    ("GET", "/api/v1/account", Rule::Contact),
    ("GET", "/api/v1/account/quotes", Rule::Contact),
    ("GET", "/api/v1/account/quotes/{number}", Rule::Contact),
    (
        "POST",
        "/api/v1/account/quotes/{number}/again",
        Rule::Contact,
    ),
    ("POST", "/api/v1/quotes/{number}/again", Rule::Quotes),
    ("GET", "/api/v1/customers/{code}/contacts", Rule::Viewer),
    ("POST", "/api/v1/customers/{code}/invites", Rule::Quotes),
    (
        "DELETE",
        "/api/v1/customers/{code}/invites/{id}",
        Rule::Quotes,
    ),
    (
        "PUT",
        "/api/v1/customers/{code}/contacts/{login}",
        Rule::Quotes,
    ),
    ("POST", "/api/v1/auth/invite", Rule::ResetRefused),
    ("POST", "/api/v1/quotes/{number}/deliveries", Rule::Quotes),
    ("GET", "/api/v1/quotes/{number}/deliveries", Rule::Viewer),
    (
        "GET",
        "/api/v1/account/quotes/{number}/deliveries",
        Rule::Contact,
    ),
    ("POST", "/api/v1/quotes/{number}/close", Rule::Quotes),
    (
        "GET",
        "/delivery-notes/{number}/{delivery}",
        Rule::DeliveryNote,
    ),
    ("GET", "/p/{sku}", Rule::Open),
    ("GET", "/quote", Rule::Open),
    ("GET", "/admin/login", Rule::Open),
    ("GET", "/admin", Rule::BackOffice),
    ("GET", "/admin/{section}", Rule::BackOffice),
    ("GET", "/api/v1/shop", Rule::Open),
    ("GET", "/api/v1/stock/value", Rule::Viewer),
    ("POST", "/api/v1/labels", Rule::Viewer),
    ("GET", "/api/v1/reports/stock-value", Rule::Viewer),
    ("GET", "/api/v1/reports/movements", Rule::Viewer),
    ("GET", "/api/v1/reports/top-products", Rule::Viewer),
    ("GET", "/api/v1/reports/quotes", Rule::Viewer),
    ("GET", "/api/v1/openapi.json", Rule::Open),
    ("GET", "/api/v1/products", Rule::Public),
    ("POST", "/api/v1/products", Rule::Catalogue),
    ("GET", "/api/v1/products/{sku}", Rule::Public),
    ("PUT", "/api/v1/products/{sku}", Rule::Catalogue),
    ("PATCH", "/api/v1/products/{sku}", Rule::Catalogue),
    ("GET", "/api/v1/products/{sku}/images", Rule::Public),
    ("POST", "/api/v1/products/{sku}/images", Rule::Catalogue),
    (
        "PATCH",
        "/api/v1/products/{sku}/images/{id}",
        Rule::Catalogue,
    ),
    (
        "DELETE",
        "/api/v1/products/{sku}/images/{id}",
        Rule::Catalogue,
    ),
    ("GET", "/media/{file}", Rule::Open),
    ("DELETE", "/api/v1/products/{sku}", Rule::Catalogue),
    ("GET", "/api/v1/locations", Rule::Viewer),
    ("POST", "/api/v1/locations", Rule::Catalogue),
    ("GET", "/api/v1/locations/{code}", Rule::Viewer),
    ("PATCH", "/api/v1/locations/{code}", Rule::Catalogue),
    ("GET", "/api/v1/movements", Rule::Viewer),
    ("POST", "/api/v1/movements", Rule::Stock),
    ("GET", "/api/v1/movements/{id}", Rule::Viewer),
    ("POST", "/api/v1/movements/{id}/reverse", Rule::Stock),
    ("GET", "/api/v1/stock", Rule::Viewer),
    ("GET", "/api/v1/products/{sku}/stock", Rule::Public),
    ("GET", "/api/v1/events", Rule::Public),
    ("POST", "/api/v1/batch", Rule::Public),
    ("GET", "/api/v1/search", Rule::Public),
    ("GET", "/api/v1/search/suggest", Rule::Public),
    ("GET", "/api/v1/categories", Rule::Public),
    ("POST", "/api/v1/quote/estimate", Rule::Public),
    ("GET", "/api/v1/quote/estimate", Rule::Public),
    ("POST", "/api/v1/quotes", Rule::Public),
    ("GET", "/api/v1/quotes", Rule::Viewer),
    ("GET", "/api/v1/quotes/{number}", Rule::Viewer),
    ("PUT", "/api/v1/quotes/{number}", Rule::Quotes),
    ("POST", "/api/v1/quotes/{number}/accept", Rule::Quotes),
    ("POST", "/api/v1/quotes/{number}/fulfil", Rule::Quotes),
    ("POST", "/api/v1/quotes/{number}/cancel", Rule::Quotes),
    ("POST", "/api/v1/quotes/{number}/link", Rule::Quotes),
    ("POST", "/api/v1/quotes/{number}/reprice", Rule::Quotes),
    ("GET", "/api/v1/delivery-zones", Rule::Public),
    ("POST", "/api/v1/delivery-zones", Rule::Catalogue),
    ("PUT", "/api/v1/delivery-zones/{code}", Rule::Catalogue),
    ("DELETE", "/api/v1/delivery-zones/{code}", Rule::Catalogue),
    ("GET", "/api/v1/price-lists", Rule::Viewer),
    ("POST", "/api/v1/price-lists", Rule::Quotes),
    ("GET", "/api/v1/price-lists/{code}", Rule::Viewer),
    ("PUT", "/api/v1/price-lists/{code}", Rule::Quotes),
    ("DELETE", "/api/v1/price-lists/{code}", Rule::Quotes),
    ("GET", "/api/v1/price-lists/{code}/preview", Rule::Viewer),
    ("GET", "/api/v1/customers", Rule::Viewer),
    ("POST", "/api/v1/customers", Rule::Quotes),
    ("GET", "/api/v1/customers/{code}", Rule::Viewer),
    ("PUT", "/api/v1/customers/{code}", Rule::Quotes),
    ("GET", "/api/v1/quotes/link/{link}", Rule::Open),
    ("GET", "/q/{link}", Rule::Open),
    ("POST", "/api/v1/auth/login", Rule::Open),
    ("POST", "/api/v1/auth/logout", Rule::Logout),
    ("GET", "/api/v1/auth/me", Rule::SignedIn),
    ("POST", "/api/v1/auth/password", Rule::OwnPassword),
    ("POST", "/api/v1/auth/forgot", Rule::Open),
    ("POST", "/api/v1/auth/reset", Rule::ResetRefused),
    ("GET", "/reset", Rule::Open),
    ("POST", "/api/v1/setup", Rule::SetupDone),
    ("GET", "/api/v1/setup", Rule::Open),
    ("GET", "/api/v1/users", Rule::Owner),
    ("POST", "/api/v1/users", Rule::Owner),
    ("PATCH", "/api/v1/users/{username}", Rule::Owner),
    ("POST", "/api/v1/users/{username}/reset-link", Rule::Owner),
    ("GET", "/api/v1/mail", Rule::Owner),
    ("POST", "/api/v1/mail/test", Rule::Owner),
    ("GET", "/api/v1/tokens", Rule::Owner),
    ("POST", "/api/v1/tokens", Rule::Owner),
    ("DELETE", "/api/v1/tokens/{name}", Rule::Owner),
    ("GET", "/api/v1/audit", Rule::Owner),
    ("GET", "/api/v1/backups", Rule::Owner),
    ("POST", "/api/v1/backups", Rule::Owner),
    ("GET", "/api/v1/backups/{name}", Rule::Owner),
    ("POST", "/api/v1/imports/products", Rule::Catalogue),
    ("POST", "/api/v1/imports/stock", Rule::Stock),
    ("POST", "/api/v1/imports/movements", Rule::Stock),
    ("POST", "/api/v1/imports/customers", Rule::Quotes),
    ("POST", "/api/v1/imports/price-lists", Rule::Quotes),
    ("GET", "/api/v1/exports/{kind}", Rule::Viewer),
    ("GET", "/api/v1/webhooks", Rule::Owner),
    ("POST", "/api/v1/webhooks", Rule::Owner),
    ("GET", "/api/v1/webhooks/events", Rule::Owner),
    ("GET", "/api/v1/webhooks/{id}", Rule::Owner),
    ("PATCH", "/api/v1/webhooks/{id}", Rule::Owner),
    ("DELETE", "/api/v1/webhooks/{id}", Rule::Owner),
    ("GET", "/api/v1/webhooks/{id}/deliveries", Rule::Owner),
    ("POST", "/api/v1/webhooks/{id}/replay", Rule::Owner),
    ("POST", "/api/v1/webhooks/{id}/ping", Rule::Owner),
    ("GET", "/api/v1/jobs/{id}", Rule::Job),
    ("GET", "/api/v1/jobs/{id}/bad-rows", Rule::Job),
];

/// What the table uploads to the import routes: a file that changes nothing
/// the other rows rely on.
fn upload_for(path: &str) -> &'static str {
    match path {
        "/api/v1/imports/products" => "sku,name,category,unit,price\nIMP-1,Imported,Tools,pc,1\n",
        "/api/v1/imports/stock" => "sku,location,quantity\nOLD-1,YARD,5\n",
        "/api/v1/imports/customers" => "code,name\nIMPORTED,Imported Ltd\n",
        "/api/v1/imports/price-lists" => "code,name,percent_off\nIMPORTED,Imported list,3\n",
        _ => "kind,location,sku,quantity\nreceive,YARD,OLD-1,1\n",
    }
}

/// The backup the table downloads.
const BACKUP: &str = "quarry-20260101T000000.000Z.qbk";

/// Routes that stream: only their status is checked.
const STREAMS: &[&str] = &["/api/v1/events"];

fn year() -> i16 {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year()
}

fn quote_request() -> Value {
    json!({
        "lines": [{"sku": "SAND-04", "quantity": "0.1"}],
        "contact": {"name": "Sam", "email": "sam@example.com"},
    })
}

/// What a caller is: its role's rank (0 for none), its scopes (`None`: all of
/// its role), whether it has a user, whether it is a browser session.
struct Caller {
    rank: u8,
    scopes: Option<&'static [&'static str]>,
    user: bool,
    session: bool,
}

fn caller(who: Who) -> Option<Caller> {
    let plain = |rank, user| Caller {
        rank,
        scopes: None,
        user,
        session: false,
    };
    Some(match who {
        // A trade contact has no staff rank: `contact_expects` says what it gets.
        Who::Anonymous | Who::ContactSession => plain(0, false),
        Who::Viewer => plain(1, false),
        Who::Staff => plain(2, true),
        Who::Owner => plain(3, true),
        Who::StockClerk => Caller {
            scopes: Some(&["read", "stock:write"]),
            ..plain(2, true)
        },
        Who::ReadOnlyOwner => Caller {
            scopes: Some(&["read"]),
            ..plain(3, false)
        },
        Who::StaffSession => Caller {
            session: true,
            ..plain(2, true)
        },
        Who::OwnerSession => Caller {
            session: true,
            ..plain(3, true)
        },
        Who::Expired | Who::Revoked | Who::DisabledUser | Who::Garbage => return None,
    })
}

/// What a trade contact's session gets: the storefront, their own account
/// and their session; never a staff route or the back office.
fn contact_expects(rule: Rule) -> StatusCode {
    match rule {
        Rule::Open
        | Rule::Public
        | Rule::SignedIn
        | Rule::Logout
        | Rule::Contact
        | Rule::ContactPage
        | Rule::DeliveryNote => StatusCode::OK,
        Rule::SetupDone => StatusCode::CONFLICT,
        Rule::BackOffice => StatusCode::SEE_OTHER,
        Rule::Job => StatusCode::NOT_FOUND,
        // Their own password, with a wrong current one.
        Rule::OwnPassword => StatusCode::UNPROCESSABLE_ENTITY,
        Rule::ResetRefused
        | Rule::Viewer
        | Rule::Catalogue
        | Rule::Stock
        | Rule::Quotes
        | Rule::Owner => StatusCode::FORBIDDEN,
    }
}

fn expected(rule: Rule, who: Who) -> StatusCode {
    if who == Who::ContactSession {
        return contact_expects(rule);
    }
    match rule {
        Rule::Open => return StatusCode::OK,
        Rule::SetupDone => return StatusCode::CONFLICT,
        Rule::ResetRefused => return StatusCode::FORBIDDEN,
        _ => {}
    }
    let Some(caller) = caller(who) else {
        return StatusCode::UNAUTHORIZED;
    };
    if rule == Rule::Public {
        return StatusCode::OK;
    }
    if rule == Rule::ContactPage || (rule == Rule::DeliveryNote && caller.rank == 0) {
        return StatusCode::SEE_OTHER;
    }
    if caller.rank == 0 && rule != Rule::BackOffice {
        return StatusCode::UNAUTHORIZED;
    }
    let has = |scope: &str| caller.scopes.is_none_or(|s| s.contains(&scope));
    if rule == Rule::BackOffice {
        return if caller.rank > 0 && has("read") {
            StatusCode::OK
        } else {
            StatusCode::SEE_OTHER
        };
    }
    let allowed = match rule {
        Rule::Contact => false,
        Rule::DeliveryNote => {
            return if has("read") {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
        }
        Rule::Viewer => has("read"),
        Rule::Catalogue => caller.rank >= 2 && has("catalogue:write"),
        Rule::Stock => caller.rank >= 2 && has("stock:write"),
        Rule::Quotes => caller.rank >= 2 && has("quotes:write"),
        Rule::Owner => caller.rank == 3 && caller.scopes.is_none(),
        Rule::SignedIn => true,
        Rule::Job => {
            return if who == Who::Staff || (caller.rank == 3 && caller.scopes.is_none()) {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
        }
        Rule::Logout => {
            return if caller.session {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
        }
        Rule::OwnPassword => {
            return if caller.user {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::FORBIDDEN
            };
        }
        Rule::Open
        | Rule::Public
        | Rule::SetupDone
        | Rule::ResetRefused
        | Rule::BackOffice
        | Rule::ContactPage => {
            unreachable!()
        }
    };
    if allowed {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    }
}

/// A request for the route that succeeds for a caller with the rights.
fn concrete(method: &str, path: &str, n: usize, made: &Fixtures) -> (String, Option<Value>) {
    // Each reversal needs a movement of its own: movements 1.. are receipts.
    // Archiving gets a product of its own, so the others stay public.
    let sku = if method == "DELETE" {
        "OLD-1"
    } else {
        "SAND-04"
    };
    // Webhook endpoint 1 is shared; each caller deletes one of its own
    // (2 and on, made by the fixtures).
    let hook = if method == "DELETE" {
        2 + n % Who::ALL.len()
    } else {
        1
    };
    // Photo 0 of SAND-04 is changed by everyone; each caller deletes its own
    // of OLD-1's twelve.
    let photo = if method == "DELETE" {
        &made.old_photos[n % made.old_photos.len()]
    } else {
        &made.photo
    };
    // Zone YARD is shared; each caller deletes one of its own.
    let zone_code = if method == "DELETE" {
        format!("DZ{}", n % Who::ALL.len())
    } else {
        "YARD".to_owned()
    };
    // Price list YARD is shared; each caller deletes one of its own.
    let list_code = if method == "DELETE" {
        format!("PL{}", n % Who::ALL.len())
    } else {
        "YARD".to_owned()
    };
    // The contact's own quote, for their account's routes and its delivery
    // note; an accepted quote shared by the deliveries, and one of its own
    // for each caller to close.
    let path = if path.contains("account/quotes/{number}") || path.starts_with("/delivery-notes/") {
        path.replace("{number}", &made.account_quote)
            .replace("{delivery}", "1")
    } else if path.ends_with("/deliveries") && method == "POST" {
        path.replace("{number}", &made.accepted)
    } else if path.ends_with("/close") {
        path.replace("{number}", &made.closable[n % made.closable.len()])
    } else {
        path.to_owned()
    };
    let path = path
        .replace(
            "/invites/{id}",
            &format!("/invites/{}", made.invites[n % made.invites.len()]),
        )
        .replace("{login}", "pat@yard.example")
        .replace(
            "/delivery-zones/{code}",
            &format!("/delivery-zones/{zone_code}"),
        )
        .replace("/price-lists/{code}", &format!("/price-lists/{list_code}"))
        .replace("/images/{id}", &format!("/images/{photo}"))
        .replace("{file}", &format!("{}-thumb.jpg", made.photo))
        .replace("/webhooks/{id}", &format!("/webhooks/{hook}"))
        .replace("/backups/{name}", &format!("/backups/{BACKUP}"))
        .replace("/jobs/{id}", &format!("/jobs/{}", made.job))
        .replace("{sku}", sku)
        .replace("{code}", "YARD")
        .replace("{path}", "quarry.css")
        .replace("{id}", &n.to_string())
        .replace("{number}", &format!("Q-{}-{n:04}", year()))
        .replace("{link}", &made.link)
        .replace("{username}", "bob")
        .replace("{section}", "stock")
        .replace("{kind}", "products")
        .replace("{name}", "victim");
    let path =
        if method == "GET" && (path == "/api/v1/quote/estimate" || path.ends_with("/preview")) {
            format!("{path}?sku=SAND-04&quantity=1")
        } else {
            path
        };
    let body = body_for(method, &path, n);
    (path, body)
}

/// The body the table's request sends, if it sends one.
fn body_for(method: &str, path: &str, n: usize) -> Option<Value> {
    match (method, path) {
        ("POST", "/api/v1/movements") => Some(json!({
            "kind": "receive", "location": "YARD",
            "lines": [{"sku": "SAND-04", "quantity": "1"}],
        })),
        ("POST", "/api/v1/products") => Some(sand(&format!("NEW-{n}"))),
        ("POST", "/api/v1/delivery-zones") => Some(zone(&format!("Z{n}"))),
        ("PUT", p) if p.starts_with("/api/v1/delivery-zones/") => Some(zone("YARD")),
        ("POST", "/api/v1/price-lists") => Some(price_list(&format!("P{n}"))),
        ("PUT", p) if p.starts_with("/api/v1/price-lists/") => Some(price_list("YARD")),
        ("POST", "/api/v1/customers") => Some(json!({"code": format!("C{n}"), "name": "Builder"})),
        ("PUT", p) if p.contains("/contacts/") => Some(json!({"name": format!("Pat {n}")})),
        ("POST", p) if p.ends_with("/deliveries") => {
            Some(json!({"lines": [{"line": 1, "quantity": "0.01"}]}))
        }
        ("POST", p) if p.ends_with("/invites") => Some(json!({
            "email": format!("p{n}@yard.example"), "name": "Pat",
        })),
        ("POST", "/api/v1/auth/invite") => Some(json!({
            "token": "made-up", "password": "a brand new passphrase",
        })),
        ("PUT", p) if p.starts_with("/api/v1/customers/") => {
            Some(json!({"name": format!("Builder {n}"), "price_list": "YARD"}))
        }
        ("PUT", p) if p.starts_with("/api/v1/quotes/") => Some(quote_request()),
        ("PUT", _) => Some(sand("SAND-04")),
        ("PATCH", p) if p.contains("/images/") => Some(json!({"alt": format!("Sand heap {n}")})),
        ("PATCH", p) if p.starts_with("/api/v1/products") => {
            Some(json!({"name": format!("Sand {n}")}))
        }
        ("POST", "/api/v1/batch") => {
            Some(json!({"requests": [{"method": "GET", "path": "/api/v1/products"}]}))
        }
        ("POST", "/api/v1/quote/estimate") => {
            Some(json!({"lines": [{"sku": "SAND-04", "quantity": "1"}]}))
        }
        ("POST", "/api/v1/quotes") => Some(quote_request()),
        ("POST", "/api/v1/labels") => Some(json!({"skus": ["SAND-04"]})),
        ("POST", "/api/v1/locations") => Some(json!({"code": format!("L{n}"), "name": "Shelf"})),
        ("PATCH", "/api/v1/users/bob") => Some(json!({"role": "viewer"})),
        ("POST", "/api/v1/webhooks") => Some(paused_webhook(n)),
        ("PATCH", p) if p.starts_with("/api/v1/webhooks/") => {
            Some(json!({"description": format!("Endpoint {n}")}))
        }
        ("POST", p) if p.ends_with("/replay") => Some(json!({"from_seq": 1})),
        ("PATCH", _) => Some(json!({"name": format!("Yard {n}")})),
        ("POST", "/api/v1/auth/login") => Some(json!({"username": "alice", "password": PASSWORD})),
        ("POST", "/api/v1/auth/password") => Some(json!({
            "current_password": "not the password", "new_password": "a brand new passphrase",
        })),
        ("POST", "/api/v1/setup") => Some(json!({
            "token": "made-up", "username": "mallory", "password": PASSWORD,
        })),
        ("POST", "/api/v1/users") => Some(json!({
            "username": format!("user{n}"), "password": PASSWORD, "role": "viewer",
        })),
        ("POST", "/api/v1/tokens") => Some(json!({"name": format!("t{n}"), "role": "viewer"})),
        ("POST", "/api/v1/auth/forgot") => Some(json!({"username": "bob"})),
        ("POST", "/api/v1/auth/reset") => Some(json!({
            "token": "made-up", "password": "a brand new passphrase",
        })),
        ("POST", "/api/v1/mail/test") => Some(json!({"to": "owner@example.com"})),
        _ => None,
    }
}

/// A delivery zone with a postcode prefix of its own.
fn zone(code: &str) -> Value {
    json!({"code": code, "name": "Zone", "postcodes": [code], "per_load": "45",
           "vehicle_capacity_t": "10"})
}

/// A price list taking 5% off everything.
fn price_list(code: &str) -> Value {
    json!({"code": code, "name": "Trade", "rules": [{"percent_off": "5"}]})
}

/// A paused endpoint on a local port nothing listens on: a ping is refused
/// at once.
fn paused_webhook(n: usize) -> Value {
    json!({"url": format!("http://127.0.0.1:9/hook{n}"), "events": ["*"], "enabled": false})
}

/// Delivery zones, price lists and a customer: YARD shared, one of each
/// kind that is deleted per caller.
async fn coded_fixtures(app: &TestApp) {
    for code in
        std::iter::once("YARD".to_owned()).chain((0..=Who::ALL.len()).map(|n| format!("DZ{n}")))
    {
        let made = app
            .post("/api/v1/delivery-zones", Who::Owner, &zone(&code))
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    for code in
        std::iter::once("YARD".to_owned()).chain((0..=Who::ALL.len()).map(|n| format!("PL{n}")))
    {
        let made = app
            .post("/api/v1/price-lists", Who::Owner, &price_list(&code))
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    let customer = json!({"code": "YARD", "name": "Builder", "price_list": "YARD"});
    let made = app.post("/api/v1/customers", Who::Owner, &customer).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
}

/// Customer YARD's contact (renamed by the table), invitations for each
/// caller to withdraw, and a quote of the session contact's customer;
/// returns the invitations' ids and that quote's number.
async fn contact_fixtures(app: &TestApp) -> (Vec<String>, String) {
    app.trade_contact("YARD", "pat@yard.example").await;
    let mut invites = Vec::new();
    for n in 0..=Who::ALL.len() {
        app.invite("YARD", &format!("w{n}@yard.example")).await;
    }
    let listed = app.get("/api/v1/customers/YARD/contacts", Who::Staff).await;
    for invite in listed.body["invites"].as_array().unwrap() {
        invites.push(invite["id"].as_str().unwrap().to_owned());
    }
    app.trade_contact(crate::helpers::CONTACT.1, crate::helpers::CONTACT.0)
        .await;
    let mut theirs = quote_request();
    theirs["customer"] = json!(crate::helpers::CONTACT.1);
    let number = accepted_quote(app, &theirs).await;
    let load = json!({"lines": [{"line": 1, "quantity": "0.05"}]});
    let delivered = app
        .post(
            &format!("/api/v1/quotes/{number}/deliveries"),
            Who::Staff,
            &load,
        )
        .await;
    assert_eq!(delivered.status, StatusCode::CREATED, "{}", delivered.text);
    (invites, number)
}

/// An accepted quote for `request`: its number.
async fn accepted_quote(app: &TestApp, request: &Value) -> String {
    let quote = app.post("/api/v1/quotes", Who::Staff, request).await;
    assert_eq!(quote.status, StatusCode::CREATED, "{}", quote.text);
    let number = quote.body["number"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/quotes/{number}/accept");
    let accepted = app.post(&path, Who::Staff, &json!({})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    number
}

/// What the table's requests act on: products, a location, a movement and a
/// quote for each call that uses one up, a user and a token to change; returns
/// a quote's link and a job of `Who::Staff`'s.
async fn fixtures(app: &TestApp) -> Fixtures {
    app.create_product(&sand("SAND-04")).await;
    app.create_product(&sand("OLD-1")).await;
    app.create_location("YARD", "Main yard").await;
    // Every call that needs one gets a movement and a quote of its own.
    for _ in 0..TABLE.len() * Who::ALL.len() {
        app.book(&json!({
            "kind": "receive", "location": "YARD",
            "lines": [{"sku": "SAND-04", "quantity": "10"}],
        }))
        .await;
        let quote = app
            .post("/api/v1/quotes", Who::Staff, &quote_request())
            .await;
        assert_eq!(quote.status, StatusCode::CREATED, "{}", quote.text);
    }
    let bob = json!({"username": "bob", "password": PASSWORD, "role": "viewer"});
    assert_eq!(
        app.post("/api/v1/users", Who::Owner, &bob).await.status,
        StatusCode::CREATED
    );
    let victim = json!({"name": "victim", "role": "viewer"});
    assert_eq!(
        app.post("/api/v1/tokens", Who::Owner, &victim).await.status,
        StatusCode::CREATED
    );
    for n in 0..=Who::ALL.len() {
        let made = app
            .post("/api/v1/webhooks", Who::Owner, &paused_webhook(n))
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    coded_fixtures(app).await;
    let (invites, account_quote) = contact_fixtures(app).await;
    let mut big = quote_request();
    big["lines"][0]["quantity"] = json!("5");
    let accepted = accepted_quote(app, &big).await;
    let mut closable = Vec::new();
    for _ in 0..=Who::ALL.len() {
        closable.push(accepted_quote(app, &quote_request()).await);
    }
    let backup = app.config.backup_dir().join(BACKUP);
    let owner = quarry::domain::accounts::Actor::cli();
    let server = app.server.as_ref().unwrap();
    server
        .app()
        .backup_to(backup, &owner, Arc::default())
        .await
        .unwrap();
    let linked = app
        .post("/api/v1/quotes", Who::Staff, &quote_request())
        .await;
    // A dry run with a bad row: the job keeps its bad rows to download.
    let job = app
        .upload_with(
            "/api/v1/imports/products?dry_run=true",
            Who::Staff,
            "sku,name,category,unit,price\nIMP-2,Imported,Tools,pc,cheap\n",
            &[("prefer", "respond-async")],
        )
        .await;
    assert_eq!(job.status, StatusCode::ACCEPTED, "{}", job.text);
    // Finished before the table looks at it.
    let path = format!("/api/v1/jobs/{}", job.body["id"].as_str().unwrap());
    while app.get(&path, Who::Staff).await.body["state"] == "running" {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let photo_of = async |sku: &str, seed: u8| {
        let made = app
            .upload_file(
                &format!("/api/v1/products/{sku}/images"),
                Who::Staff,
                ("photo.png", "image/png", crate::helpers::png(seed, 40, 30)),
                None,
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        made.body["id"].as_str().unwrap().to_owned()
    };
    let photo = photo_of("SAND-04", 200).await;
    let mut old_photos = Vec::new();
    for seed in 0..12 {
        old_photos.push(photo_of("OLD-1", seed).await);
    }
    Fixtures {
        photo,
        old_photos,
        link: linked.body["link"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned(),
        job: job.body["id"].as_str().unwrap().to_owned(),
        invites,
        account_quote,
        accepted,
        closable,
    }
}

/// What [`fixtures`] made that requests name.
struct Fixtures {
    link: String,
    job: String,
    /// A photo of SAND-04.
    photo: String,
    /// Twelve photos of OLD-1, one for each caller to delete.
    old_photos: Vec<String>,
    /// Invitations to customer YARD, one for each caller to withdraw.
    invites: Vec<String>,
    /// An accepted quote of the session contact's customer, delivered once.
    account_quote: String,
    /// An accepted quote of 5 t, delivered a little by each caller.
    accepted: String,
    /// Accepted quotes, one for each caller to close.
    closable: Vec<String>,
}

#[tokio::test]
async fn every_documented_route_has_a_rule_and_every_caller_gets_what_the_rule_says() {
    let app = TestApp::spawn_with(|c| {
        c.webhooks.allow_http = true;
        c.webhooks.allow_private = true;
        // Mail to a port nothing listens on: queued, and retried later.
        c.mail.smtp_url = Some("smtp://127.0.0.1:9?tls=none".into());
        c.mail.from = Some("Yard <shop@example.com>".into());
    })
    .await;
    let made = fixtures(&app).await;

    let document = app.get("/api/v1/openapi.json", Who::Anonymous).await;
    let mut documented = BTreeSet::new();
    for (path, item) in document.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let tabled: BTreeSet<_> = TABLE
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let without_rule: Vec<_> = documented.difference(&tabled).collect();
    assert!(
        without_rule.is_empty(),
        "routes without an access rule: {without_rule:?}"
    );
    let undocumented: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "rules for routes that do not exist: {undocumented:?}"
    );

    let mut failures = Vec::new();
    let mut n = 0;
    for (method, path, rule) in TABLE {
        for who in Who::ALL {
            n += 1;
            let (url, body) = concrete(method, path, n, &made);
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let want = expected(*rule, who);
            if STREAMS.contains(path) {
                let (status, _) = app.send_head(method.clone(), &url, who).await;
                let ok = if want == StatusCode::OK {
                    status.is_success()
                } else {
                    status == want
                };
                if !ok {
                    failures.push(format!(
                        "{method} {url} as {who:?}: got {status}, want {want}"
                    ));
                }
                continue;
            }
            let resp = if path.starts_with("/api/v1/imports/") {
                app.upload(&url, who, upload_for(path)).await
            } else if method == Method::POST && path.ends_with("/images") {
                let photo = ("photo.png", "image/png", crate::helpers::png(7, 20, 20));
                app.upload_file(&url, who, photo, None).await
            } else {
                app.send(method.clone(), &url, who, body.as_ref(), &[])
                    .await
            };
            // Signing in replaces the browser's session, signing out ends it.
            if path.starts_with("/api/v1/auth/log") {
                app.forget_session(who).await;
            }
            let ok = if want == StatusCode::OK {
                resp.status.is_success()
            } else {
                resp.status == want
            };
            if !ok {
                failures.push(format!(
                    "{method} {url} as {who:?}: got {}, want {want}",
                    resp.status
                ));
            }
            if resp.status == StatusCode::UNAUTHORIZED {
                assert_eq!(resp.error().0, "unauthenticated");
                assert!(resp.header("www-authenticate").is_some());
            }
            if resp.status == StatusCode::FORBIDDEN {
                assert_eq!(resp.error().0, "forbidden");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_malformed_authorization_header_is_401_not_anonymous() {
    let app = TestApp::spawn().await;
    for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token"] {
        let resp = app
            .send(
                Method::GET,
                "/api/v1/products",
                Who::Anonymous,
                None,
                &[("authorization", value)],
            )
            .await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{value:?}");
    }
}

#[tokio::test]
async fn a_token_records_when_it_was_last_used() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/locations", Who::Viewer).await;
    // The use is recorded in the background; give it a moment to be queued.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut app = app;
    app.stop().await;
    let tokens = crate::helpers::off_runtime(|| {
        quarry::app::accounts::local::list_tokens(&crate::helpers::open_store(&app.config)).unwrap()
    });
    let viewer = tokens.iter().find(|t| t.name.as_str() == "viewer").unwrap();
    assert!(viewer.last_used_at.is_some());
    let unused = tokens.iter().find(|t| t.name.as_str() == "owner").unwrap();
    assert!(unused.last_used_at.is_none());
}
