//! Trade contacts over HTTP: invitations (single use, expiring, withdrawn),
//! signing in with an e-mail address through the staff sign-in, their own
//! prices and quotes, ordering again, and that a contact of one customer
//! reaches nothing of another's.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::customers::shop_with_list;
use crate::helpers::{BrowserSession, PASSWORD, Resp, TestApp, Who, respond, session_cookie};

/// Signs `login` in with `password`: the browser session, or the refusal.
async fn sign_in(app: &TestApp, login: &str, password: &str) -> Result<BrowserSession, Resp> {
    let resp = app.login(login, password).await;
    if resp.status != StatusCode::OK {
        return Err(resp);
    }
    Ok(BrowserSession {
        cookie: session_cookie(&resp).expect("login sets the session cookie"),
        csrf: resp.body["csrf_token"].as_str().unwrap().to_owned(),
    })
}

/// A request from a contact's browser, from Quarry's own pages.
async fn as_contact(
    app: &TestApp,
    session: &BrowserSession,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Resp {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .header("origin", &app.base);
    if let Some(body) = body {
        request = request.json(body);
    }
    respond(request).await
}

/// Customer NORTHBUILD (trade list B) with contact `pat@northbuild.example`,
/// signed in.
async fn northbuild_contact() -> (TestApp, BrowserSession) {
    let app = shop_with_list().await;
    app.trade_contact("NORTHBUILD", "pat@northbuild.example")
        .await;
    let session = sign_in(&app, "pat@northbuild.example", PASSWORD)
        .await
        .unwrap();
    (app, session)
}

fn quote_for(customer: Option<&str>, sku: &str, quantity: &str) -> Value {
    let mut body = json!({
        "lines": [{"sku": sku, "quantity": quantity, "unit": "t"}],
        "contact": {"name": "Pat Buyer", "email": "pat@northbuild.example"},
    });
    if let Some(customer) = customer {
        body["customer"] = json!(customer);
    }
    body
}

#[tokio::test]
async fn an_invitation_makes_a_contact_once_who_then_signs_in_with_their_email() {
    let app = shop_with_list().await;
    let secret = app.invite("NORTHBUILD", "Pat@Northbuild.example").await;
    let listed = app
        .get("/api/v1/customers/NORTHBUILD/contacts", Who::Viewer)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["invites"][0]["email"], "pat@northbuild.example");
    assert_eq!(listed.body["invites"][0]["status"], "pending");
    assert!(!listed.text.contains(&secret), "the secret is shown once");

    // A weak password is refused and the link still works.
    let weak = app.accept_invite(&secret, "password").await;
    assert_eq!(
        weak.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        weak.text
    );
    assert_eq!(weak.error().1.as_deref(), Some("password"));
    let accepted = app.accept_invite(&secret, PASSWORD).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text);
    assert_eq!(accepted.body["contact"]["login"], "pat@northbuild.example");
    assert_eq!(accepted.body["contact"]["customer"], "NORTHBUILD");
    assert!(accepted.body.get("user").is_none(), "{}", accepted.text);
    assert!(session_cookie(&accepted).is_some());
    // Single use.
    let again = app.accept_invite(&secret, PASSWORD).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.text);

    // Signing in: the same route as staff, the address in any case.
    let session = sign_in(&app, "PAT@northbuild.example", PASSWORD)
        .await
        .unwrap();
    let me = as_contact(&app, &session, Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(me.body["role"], "contact", "{}", me.text);
    assert_eq!(me.body["customer"], "NORTHBUILD");
    assert_eq!(me.body["actor"], "contact:pat@northbuild.example");
    let wrong = sign_in(&app, "pat@northbuild.example", "not the password at all")
        .await
        .unwrap_err();
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let listed = app
        .get("/api/v1/customers/NORTHBUILD/contacts", Who::Viewer)
        .await;
    assert_eq!(listed.body["contacts"][0]["name"], "Pat Buyer");
    assert_eq!(listed.body["invites"], json!([]));
    assert!(!listed.text.contains("password"), "{}", listed.text);

    // Someone else's login cannot be invited to another customer.
    let other = json!({"code": "SOUTH", "name": "South Works"});
    assert_eq!(
        app.post("/api/v1/customers", Who::Staff, &other)
            .await
            .status,
        StatusCode::CREATED
    );
    let taken = app
        .post(
            "/api/v1/customers/SOUTH/invites",
            Who::Staff,
            &json!({"email": "pat@northbuild.example", "name": "Pat"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    assert_eq!(taken.error().0, "duplicate_contact");

    let audit = app.get("/api/v1/audit?limit=200", Who::Owner).await;
    let kinds: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for kind in ["contact.invited", "contact.joined"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    app.stop_and_check().await;
}

#[tokio::test]
async fn an_invitation_stops_working_when_withdrawn_or_expired() {
    let mut app = shop_with_list().await;
    let withdrawn = app.invite("NORTHBUILD", "lee@northbuild.example").await;
    let listed = app
        .get("/api/v1/customers/NORTHBUILD/contacts", Who::Staff)
        .await;
    let id = listed.body["invites"][0]["id"].as_str().unwrap().to_owned();
    let gone = app
        .delete(
            &format!("/api/v1/customers/NORTHBUILD/invites/{id}"),
            Who::Staff,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    let refused = app.accept_invite(&withdrawn, PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);

    // Seven days pass: the invitation is written as if made a week ago.
    let expiring = app.invite("NORTHBUILD", "kim@northbuild.example").await;
    app.stop().await;
    let config = app.config.clone();
    crate::helpers::off_runtime(move || {
        let store = crate::helpers::open_store(&config);
        let code = quarry::domain::customers::CustomerCode::parse("NORTHBUILD").unwrap();
        store
            .write(|tx| {
                for (hash, mut invite) in tx.invites_of(&code, 50)? {
                    invite.expires_at = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1);
                    tx.put_contact_invite(&hash, &invite)?;
                    tx.record(
                        quarry::store::ChangeKind::ContactInvited,
                        "NORTHBUILD",
                        &quarry::domain::accounts::Actor::cli(),
                        &quarry::store::payloads::ContactChanged {
                            login: invite.email.to_string(),
                            changes: Vec::new(),
                        },
                    )?;
                }
                Ok::<_, quarry::store::StoreError>(())
            })
            .unwrap();
    });
    app.restart().await;
    let listed = app
        .get("/api/v1/customers/NORTHBUILD/contacts", Who::Staff)
        .await;
    assert_eq!(
        listed.body["invites"][0]["status"], "expired",
        "{}",
        listed.text
    );
    let late = app.accept_invite(&expiring, PASSWORD).await;
    assert_eq!(late.status, StatusCode::FORBIDDEN, "{}", late.text);
    assert!(late.text.contains("expired"), "{}", late.text);
    let nobody = sign_in(&app, "kim@northbuild.example", PASSWORD).await;
    assert_eq!(nobody.unwrap_err().status, StatusCode::UNAUTHORIZED);
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_contact_is_priced_at_their_list_and_their_quotes_are_their_customers() {
    let (app, pat) = northbuild_contact().await;
    // 5 t: 8% off Aggregates, 38.00 → 34.96 per t.
    let ask = json!({"lines": [{"sku": "SAND-04", "quantity": "5", "unit": "t"}]});
    let priced = as_contact(
        &app,
        &pat,
        Method::POST,
        "/api/v1/quote/estimate",
        Some(&ask),
    )
    .await;
    assert_eq!(priced.status, StatusCode::OK, "{}", priced.text);
    assert_eq!(priced.body["lines"][0]["unit_price"], "34.96");
    assert_eq!(
        priced.body["lines"][0]["list_price"]["rule"],
        "Trade list B: 8% off Aggregates"
    );
    assert_eq!(priced.body["lines"][0]["list_price"]["saving"], "15.20");
    // Anonymous: the list price.
    let public = app
        .post("/api/v1/quote/estimate", Who::Anonymous, &ask)
        .await;
    assert_eq!(public.body["lines"][0]["unit_price"], "38.00");
    let mut other = ask.clone();
    other["customer"] = json!("SOUTH");
    let refused = as_contact(
        &app,
        &pat,
        Method::POST,
        "/api/v1/quote/estimate",
        Some(&other),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);

    let made = as_contact(
        &app,
        &pat,
        Method::POST,
        "/api/v1/quotes",
        Some(&quote_for(None, "SAND-04", "5")),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let number = made.body["number"].as_str().unwrap();
    assert_eq!(made.body["lines"][0]["unit_price"], "34.96");
    let staff_view = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Staff)
        .await;
    assert_eq!(staff_view.body["customer"], "NORTHBUILD");
    assert_eq!(
        staff_view.body["created_by"],
        "contact:pat@northbuild.example"
    );
    let theirs = as_contact(&app, &pat, Method::GET, "/api/v1/account/quotes", None).await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.text);
    assert_eq!(theirs.body["items"][0]["number"], number);
    assert!(theirs.body["items"][0].get("created_by").is_none());
    let one = as_contact(
        &app,
        &pat,
        Method::GET,
        &format!("/api/v1/account/quotes/{number}"),
        None,
    )
    .await;
    assert_eq!(one.body["totals"], made.body["totals"]);
    let page = as_contact(
        &app,
        &pat,
        Method::GET,
        &format!("/account/quotes/{number}"),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains(number) && page.text.contains("34.96"),
        "{}",
        page.text
    );

    let account = as_contact(&app, &pat, Method::GET, "/api/v1/account", None).await;
    assert_eq!(account.body["customer"]["name"], "Northbuild Ltd");
    assert_eq!(
        account.body["customer"]["price_list"]["name"],
        "Trade list B"
    );
    assert!(
        !account.text.contains("Pays on time"),
        "staff notes: {}",
        account.text
    );
    app.stop_and_check().await;
}

/// What a contact of NORTHBUILD tries on customer SOUTH and its quote
/// `{n}`, and the status they get: their own routes say "not found", staff
/// routes "forbidden", the back office sends them to sign in.
const OTHER_CUSTOMERS: &[(&str, &str, u16)] = &[
    ("GET", "/api/v1/account/quotes/{n}", 404),
    ("POST", "/api/v1/account/quotes/{n}/again", 404),
    ("GET", "/account/quotes/{n}", 404),
    ("GET", "/api/v1/quotes/{n}", 403),
    ("POST", "/api/v1/quotes/{n}/again", 403),
    ("PUT", "/api/v1/quotes/{n}", 403),
    ("POST", "/api/v1/quotes/{n}/accept", 403),
    ("POST", "/api/v1/quotes/{n}/link", 403),
    ("GET", "/api/v1/quotes?customer=SOUTH", 403),
    ("GET", "/api/v1/customers/SOUTH", 403),
    ("GET", "/api/v1/customers/SOUTH/contacts", 403),
    (
        "PUT",
        "/api/v1/customers/SOUTH/contacts/sam@south.example",
        403,
    ),
    ("POST", "/api/v1/customers/SOUTH/invites", 403),
    ("GET", "/api/v1/exports/customers", 403),
    ("GET", "/api/v1/exports/quotes", 403),
    ("GET", "/api/v1/customers", 403),
    ("GET", "/api/v1/price-lists/TRADE-B", 403),
    ("GET", "/api/v1/audit", 403),
    ("GET", "/admin", 303),
    ("GET", "/admin/customers", 303),
];

#[tokio::test]
async fn a_contact_reaches_nothing_of_another_customer() {
    let (app, pat) = northbuild_contact().await;
    let south = json!({"code": "SOUTH", "name": "South Works", "notes": "Slow payer"});
    assert_eq!(
        app.post("/api/v1/customers", Who::Staff, &south)
            .await
            .status,
        StatusCode::CREATED
    );
    app.trade_contact("SOUTH", "sam@south.example").await;
    let theirs = app
        .post(
            "/api/v1/quotes",
            Who::Staff,
            &quote_for(Some("SOUTH"), "SAND-04", "2"),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
    let number = theirs.body["number"].as_str().unwrap();
    let ours = app
        .post(
            "/api/v1/quotes",
            Who::Staff,
            &quote_for(Some("NORTHBUILD"), "SAND-04", "1"),
        )
        .await;
    for (method, path, want) in OTHER_CUSTOMERS {
        let path = path.replace("{n}", number);
        let body = match (*method, path.as_str()) {
            ("PUT", p) if p.starts_with("/api/v1/quotes/") => Some(quote_for(None, "SAND-04", "9")),
            ("PUT", _) => Some(json!({"active": false})),
            ("POST", p) if p.ends_with("/invites") => {
                Some(json!({"email": "x@y.example", "name": "X"}))
            }
            _ => None,
        };
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let got = as_contact(&app, &pat, method.clone(), &path, body.as_ref()).await;
        assert_eq!(got.status.as_u16(), *want, "{method} {path}: {}", got.text);
        assert!(!got.text.contains("Slow payer"), "{path}");
    }
    // Their own list has their quote only; the product shows no staff field.
    let listed = as_contact(&app, &pat, Method::GET, "/api/v1/account/quotes", None).await;
    let numbers: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, [ours.body["number"].as_str().unwrap()]);
    let product = as_contact(&app, &pat, Method::GET, "/api/v1/products/SAND-04", None).await;
    assert_eq!(product.status, StatusCode::OK);
    assert!(product.body.get("cost").is_none() && product.body.get("notes").is_none());
    // South's quote is untouched.
    let still = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Staff)
        .await;
    assert_eq!(still.body["status"], "open");
    assert_eq!(still.body["version"], theirs.body["version"]);
    app.stop_and_check().await;
}

#[tokio::test]
async fn disabling_a_contact_or_archiving_their_customer_ends_their_sign_in() {
    let (app, pat) = northbuild_contact().await;
    let login = "pat@northbuild.example";
    let path = format!("/api/v1/customers/NORTHBUILD/contacts/{login}");
    let disabled = app.put(&path, Who::Staff, &json!({"active": false})).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    assert_eq!(disabled.body["active"], false);
    let me = as_contact(&app, &pat, Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.text);
    assert!(sign_in(&app, login, PASSWORD).await.is_err());
    let enabled = app.put(&path, Who::Staff, &json!({"active": true})).await;
    assert_eq!(enabled.body["active"], true);
    let pat = sign_in(&app, login, PASSWORD).await.unwrap();

    let customer = app.get("/api/v1/customers/NORTHBUILD", Who::Staff).await;
    let mut archived = customer.body.clone();
    for key in ["created_at", "updated_at", "version", "code"] {
        archived.as_object_mut().unwrap().remove(key);
    }
    archived["active"] = json!(false);
    let put = app
        .put("/api/v1/customers/NORTHBUILD", Who::Staff, &archived)
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let me = as_contact(&app, &pat, Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert!(sign_in(&app, login, PASSWORD).await.is_err());
    archived["active"] = json!(true);
    app.put("/api/v1/customers/NORTHBUILD", Who::Staff, &archived)
        .await;

    // Invited again: a link that sets a new password; the old one stops.
    let secret = app.invite("NORTHBUILD", login).await;
    let reset = app
        .accept_invite(&secret, "a fresh quarry passphrase")
        .await;
    assert_eq!(reset.status, StatusCode::CREATED, "{}", reset.text);
    assert!(sign_in(&app, login, PASSWORD).await.is_err());
    assert!(
        sign_in(&app, login, "a fresh quarry passphrase")
            .await
            .is_ok()
    );
    let contacts = app
        .get("/api/v1/customers/NORTHBUILD/contacts", Who::Staff)
        .await;
    assert_eq!(contacts.body["contacts"].as_array().unwrap().len(), 1);
    app.stop_and_check().await;
}

#[tokio::test]
async fn ordering_again_prices_today_and_says_what_changed() {
    let (app, pat) = northbuild_contact().await;
    let mut gravel = crate::helpers::sand("GRAV-10");
    gravel["name"] = json!("Gravel 10 mm");
    app.create_product(&gravel).await;
    let mut earlier = quote_for(Some("NORTHBUILD"), "SAND-04", "5");
    earlier["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"sku": "GRAV-10", "quantity": "2", "unit": "t"}));
    let made = app.post("/api/v1/quotes", Who::Staff, &earlier).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let number = made.body["number"].as_str().unwrap();
    // Since then sand went up to 40.00 (8% off: 36.80) and gravel was withdrawn.
    let raised = app
        .patch(
            "/api/v1/products/SAND-04",
            Who::Staff,
            &json!({"price": "40.00"}),
        )
        .await;
    assert_eq!(raised.status, StatusCode::OK, "{}", raised.text);
    assert_eq!(
        app.delete("/api/v1/products/GRAV-10", Who::Staff)
            .await
            .status,
        StatusCode::OK
    );
    let again = as_contact(
        &app,
        &pat,
        Method::POST,
        &format!("/api/v1/account/quotes/{number}/again"),
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.body["from"], number);
    let changes = again.body["changes"].as_array().unwrap();
    assert_eq!(changes[0]["change"], "price_up");
    assert_eq!(changes[0]["note"], "34.96 → 36.80 per t");
    assert_eq!(changes[1]["change"], "dropped");
    let new = &again.body["quote"];
    assert_ne!(new["number"], number);
    assert_eq!(new["lines"].as_array().unwrap().len(), 1);
    assert_eq!(new["lines"][0]["requested"]["quantity"], "5");
    let staff_view = app
        .get(
            &format!("/api/v1/quotes/{}", new["number"].as_str().unwrap()),
            Who::Staff,
        )
        .await;
    assert_eq!(staff_view.body["customer"], "NORTHBUILD");
    // Staff may order it again for the customer too.
    let by_staff = app
        .post(
            &format!("/api/v1/quotes/{number}/again"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(by_staff.status, StatusCode::CREATED, "{}", by_staff.text);
    // A quote of nothing still sold cannot be ordered again.
    let only_gravel = json!({
        "lines": [{"sku": "SAND-04", "quantity": "1", "unit": "t"}],
        "contact": {"name": "Pat Buyer", "phone": "01234 567890"},
        "customer": "NORTHBUILD",
    });
    let last = app.post("/api/v1/quotes", Who::Staff, &only_gravel).await;
    assert_eq!(
        app.delete("/api/v1/products/SAND-04", Who::Staff)
            .await
            .status,
        StatusCode::OK
    );
    let nothing = as_contact(
        &app,
        &pat,
        Method::POST,
        &format!(
            "/api/v1/account/quotes/{}/again",
            last.body["number"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(
        nothing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        nothing.text
    );
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_contact_changes_their_own_password_proving_the_current_one() {
    let (app, pat) = northbuild_contact().await;
    let login = "pat@northbuild.example";
    let change = |current: &str| json!({"current_password": current, "new_password": "gravel lorry at dawn"});
    let wrong = as_contact(
        &app,
        &pat,
        Method::POST,
        "/api/v1/auth/password",
        Some(&change("not my password")),
    )
    .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert_eq!(wrong.error().1.as_deref(), Some("current_password"));
    let changed = as_contact(
        &app,
        &pat,
        Method::POST,
        "/api/v1/auth/password",
        Some(&change(PASSWORD)),
    )
    .await;
    assert!(changed.status.is_success(), "{}", changed.text);
    // Every session ends, this one too; the new password is the one.
    let me = as_contact(&app, &pat, Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert!(sign_in(&app, login, PASSWORD).await.is_err());
    assert!(sign_in(&app, login, "gravel lorry at dawn").await.is_ok());
    let audit = app.get("/api/v1/audit?kind=contact", Who::Owner).await;
    assert!(audit.text.contains("\"password\""), "{}", audit.text);
    app.stop_and_check().await;
}
