//! Mail without a mail server: what is queued, what the outbox and the
//! metrics show, retries against a server that is not there, and password
//! resets. (Messages arriving at a real SMTP server: tests/mail, run by
//! scripts/mail-test.)

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, Who, sand};

/// A loopback port nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A shop whose mail goes to a server that is not there.
async fn shop_with_unreachable_mail() -> TestApp {
    let port = closed_port();
    TestApp::spawn_with(move |c| {
        c.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}?tls=none"));
        c.mail.from = Some("Yard <shop@example.com>".into());
        c.mail.retry_first_secs = 1;
        c.mail.retry_max_secs = 2;
    })
    .await
}

async fn stocked(app: &TestApp) {
    app.create_product(&sand("SAND-04")).await;
    app.create_location("YARD", "Main yard").await;
}

fn quote_for(contact: &Value) -> Value {
    json!({"lines": [{"sku": "SAND-04", "quantity": "2"}], "contact": contact})
}

/// The outbox, newest first.
async fn outbox(app: &TestApp) -> Vec<Value> {
    let resp = app.get("/api/v1/mail?limit=200", Who::Owner).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    resp.body["items"].as_array().unwrap().clone()
}

/// Waits (up to 10 s) until message `id` satisfies `check`.
async fn message_when(app: &TestApp, id: u64, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found = outbox(app)
            .await
            .into_iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("message {id} is not in the outbox"));
        if check(&found) || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn without_mail_settings_nothing_is_queued_and_the_link_is_shown() {
    let app = TestApp::spawn().await;
    stocked(&app).await;
    let made = app
        .post(
            "/api/v1/quotes",
            Who::Anonymous,
            &quote_for(&json!({"name": "Sam", "email": "sam@example.com"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert!(made.body["link"].as_str().unwrap().contains("/q/"));
    assert_eq!(
        made.body["mail"]["state"], "not_configured",
        "{}",
        made.text
    );
    assert_eq!(made.body["mail"]["id"], Value::Null);
    let listed = app.get("/api/v1/mail", Who::Owner).await;
    assert_eq!(listed.body["enabled"], false);
    assert_eq!(listed.body["items"], json!([]));
    assert_eq!(
        app.get("/api/v1/shop", Who::Anonymous).await.body["mail"],
        false
    );

    let number = made.body["number"].as_str().unwrap();
    let relink = app
        .post(
            &format!("/api/v1/quotes/{number}/link?email=true"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(relink.status, StatusCode::CONFLICT, "{}", relink.text);
    assert_eq!(relink.error().0, "mail_not_configured");
    // Nothing changed: the customer's link still opens the quote.
    let secret = made.body["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let opened = app
        .get(&format!("/api/v1/quotes/link/{secret}"), Who::Anonymous)
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    let test = app
        .post(
            "/api/v1/mail/test",
            Who::Owner,
            &json!({"to": "owner@example.com"}),
        )
        .await;
    assert_eq!(test.status, StatusCode::CONFLICT, "{}", test.text);
    assert_eq!(test.error().0, "mail_not_configured");
}

#[tokio::test]
async fn a_quote_saved_with_an_address_queues_its_link_and_a_server_not_there_is_retried() {
    let app = shop_with_unreachable_mail().await;
    stocked(&app).await;
    assert_eq!(
        app.get("/api/v1/shop", Who::Anonymous).await.body["mail"],
        true
    );
    let made = app
        .post(
            "/api/v1/quotes",
            Who::Anonymous,
            &quote_for(&json!({"name": "Sam", "email": "sam@example.com"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.body["mail"]["state"], "queued", "{}", made.text);
    assert_eq!(made.body["mail"]["to"], "sam@example.com");
    let id = made.body["mail"]["id"].as_u64().unwrap();
    // A quote with only a phone number mails nothing.
    let by_phone = app
        .post(
            "/api/v1/quotes",
            Who::Anonymous,
            &quote_for(&json!({"name": "Pat", "phone": "01234 567890"})),
        )
        .await;
    assert_eq!(by_phone.status, StatusCode::CREATED, "{}", by_phone.text);
    assert_eq!(by_phone.body.get("mail"), None, "{}", by_phone.text);

    // Two attempts fail (nothing listens) and the message stays queued.
    let message = message_when(&app, id, |m| m["attempts"].as_u64() >= Some(2)).await;
    assert_eq!(message["state"], "queued", "{message}");
    assert_eq!(message["kind"], "quote_link");
    assert_eq!(message["to"], "sam@example.com");
    assert_eq!(message["reference"], made.body["number"]);
    assert!(
        message["subject"]
            .as_str()
            .unwrap()
            .contains(made.body["number"].as_str().unwrap()),
        "{message}"
    );
    assert!(
        message["last_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{message}"
    );
    assert!(message["next_attempt_at"].as_str().unwrap() > message["created_at"].as_str().unwrap());
    assert_eq!(message["sent_at"], Value::Null);
    // The outbox never shows a message's text (it carries the link).
    assert_eq!(message.get("body"), None);
    assert!(!message.to_string().contains("/q/"), "{message}");

    let metrics = app.get("/metrics", Who::Owner).await.text;
    assert!(metrics.contains("quarry_mail_queued 1\n"), "{metrics}");
    let retried: u64 = metrics
        .lines()
        .find(|l| l.starts_with("quarry_mail_attempts_total{outcome=\"retrying\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(retried >= 2, "{metrics}");
}

#[tokio::test]
async fn a_new_link_is_mailed_on_request_and_a_quote_without_an_address_says_so() {
    let app = shop_with_unreachable_mail().await;
    stocked(&app).await;
    let with_email = app
        .post(
            "/api/v1/quotes",
            Who::Staff,
            &quote_for(&json!({"name": "Sam", "email": "sam@example.com"})),
        )
        .await;
    let by_phone = app
        .post(
            "/api/v1/quotes",
            Who::Staff,
            &quote_for(&json!({"name": "Pat", "phone": "01234 567890"})),
        )
        .await;
    let number = with_email.body["number"].as_str().unwrap();
    let old_secret = with_email.body["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();

    let relinked = app
        .post(
            &format!("/api/v1/quotes/{number}/link?email=true"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(relinked.status, StatusCode::OK, "{}", relinked.text);
    assert_eq!(
        relinked.body["mail"]["state"], "queued",
        "{}",
        relinked.text
    );
    assert_eq!(relinked.body["mail"]["to"], "sam@example.com");
    let old = app
        .get(&format!("/api/v1/quotes/link/{old_secret}"), Who::Anonymous)
        .await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let links: Vec<Value> = outbox(&app)
        .await
        .into_iter()
        .filter(|m| m["reference"] == number)
        .collect();
    assert_eq!(links.len(), 2, "the first link and the new one: {links:?}");

    // Without `email`, a new link is shown only.
    let plain = app
        .post(
            &format!("/api/v1/quotes/{number}/link"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.text);
    assert_eq!(plain.body.get("mail"), None, "{}", plain.text);

    let phone_number = by_phone.body["number"].as_str().unwrap();
    let no_address = app
        .post(
            &format!("/api/v1/quotes/{phone_number}/link?email=true"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(no_address.status, StatusCode::OK, "{}", no_address.text);
    assert_eq!(no_address.body["mail"]["state"], "no_address");
    assert_eq!(no_address.body["mail"]["id"], Value::Null);
    let bad = app
        .post(
            &format!("/api/v1/quotes/{number}/link?email=maybe"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
}

#[tokio::test]
async fn the_outbox_pages_newest_first_and_a_test_message_is_queued() {
    let app = shop_with_unreachable_mail().await;
    for n in 0..3 {
        let queued = app
            .post(
                "/api/v1/mail/test",
                Who::Owner,
                &json!({"to": format!("owner{n}@example.com")}),
            )
            .await;
        assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.text);
        assert_eq!(queued.body["state"], "queued");
    }
    let first = app.get("/api/v1/mail?limit=2", Who::Owner).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["enabled"], true);
    let tos: Vec<&str> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["to"].as_str().unwrap())
        .collect();
    assert_eq!(tos, ["owner2@example.com", "owner1@example.com"]);
    assert_eq!(first.body["items"][0]["kind"], "test");
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/api/v1/mail?limit=2&cursor={cursor}"), Who::Owner)
        .await;
    assert_eq!(second.body["items"][0]["to"], "owner0@example.com");
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["next_cursor"], Value::Null);
    let bad = app
        .post(
            "/api/v1/mail/test",
            Who::Owner,
            &json!({"to": "not an address"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let limit = app.get("/api/v1/mail?limit=0", Who::Owner).await;
    assert_eq!(limit.status, StatusCode::BAD_REQUEST, "{}", limit.text);
}

/// The secret of a reset link (after `#`).
fn secret_of(link: &Value) -> String {
    let link = link.as_str().unwrap();
    assert!(link.contains("/reset#"), "{link}");
    link.rsplit('#').next().unwrap().to_owned()
}

#[tokio::test]
async fn an_owner_issued_reset_link_sets_a_new_password_once_and_ends_the_users_sessions() {
    let app = TestApp::spawn().await;
    let ana = json!({"username": "ana", "password": PASSWORD, "role": "staff", "email": "ana@example.com"});
    let made = app.post("/api/v1/users", Who::Owner, &ana).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.body["email"], "ana@example.com");
    let signed_in = app.login("ana", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::OK);
    let cookie = crate::helpers::session_cookie(&signed_in).unwrap();

    let issued = app
        .post("/api/v1/users/ana/reset-link", Who::Owner, &json!({}))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    assert_eq!(issued.header("cache-control"), Some("no-store"));
    assert_eq!(issued.body.get("mail"), None);
    assert!(
        issued.body["expires_at"].as_str().unwrap() > jiff::Timestamp::now().to_string().as_str()
    );
    let token = secret_of(&issued.body["link"]);
    // A weak password is refused and the link still works.
    let weak = app
        .post(
            "/api/v1/auth/reset",
            Who::Anonymous,
            &json!({"token": token, "password": "password"}),
        )
        .await;
    assert_eq!(
        weak.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        weak.text
    );
    assert_eq!(weak.error().1.as_deref(), Some("password"));
    let reset = app
        .post(
            "/api/v1/auth/reset",
            Who::Anonymous,
            &json!({"token": token, "password": "a fresh long passphrase"}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.text);
    // The session ended; the old password is refused, the new one works.
    let me = app
        .client
        .get(format!("{}/api/v1/auth/me", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("ana", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("ana", "a fresh long passphrase").await.status,
        StatusCode::OK
    );
    // A link works once.
    let again = app
        .post(
            "/api/v1/auth/reset",
            Who::Anonymous,
            &json!({"token": token, "password": "yet another passphrase"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.text);
    assert!(again.text.contains("does not work"), "{}", again.text);
}

#[tokio::test]
async fn a_newer_reset_link_replaces_the_older_one_and_issuing_one_is_audited() {
    let app = TestApp::spawn().await;
    let ana = json!({"username": "ana", "password": PASSWORD, "role": "staff"});
    assert_eq!(
        app.post("/api/v1/users", Who::Owner, &ana).await.status,
        StatusCode::CREATED
    );
    // A newer link replaces an older one.
    let older = secret_of(
        &app.post("/api/v1/users/ana/reset-link", Who::Owner, &json!({}))
            .await
            .body["link"],
    );
    let newer = app
        .post("/api/v1/users/ana/reset-link", Who::Owner, &json!({}))
        .await;
    let refused = app
        .post(
            "/api/v1/auth/reset",
            Who::Anonymous,
            &json!({"token": older, "password": "yet another passphrase"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let works = app
        .post(
            "/api/v1/auth/reset",
            Who::Anonymous,
            &json!({"token": secret_of(&newer.body["link"]), "password": "yet another passphrase"}),
        )
        .await;
    assert_eq!(works.status, StatusCode::NO_CONTENT, "{}", works.text);
    // Asking to e-mail it without mail settings is refused; unknown users are 404.
    let mailed = app
        .post(
            "/api/v1/users/ana/reset-link?email=true",
            Who::Owner,
            &json!({}),
        )
        .await;
    assert_eq!(mailed.status, StatusCode::CONFLICT, "{}", mailed.text);
    let nobody = app
        .post("/api/v1/users/nobody/reset-link", Who::Owner, &json!({}))
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND, "{}", nobody.text);
    // The audit log names who issued a link.
    let audit = app.get("/api/v1/audit?limit=50", Who::Owner).await;
    assert!(
        audit.text.contains("password-reset link issued"),
        "{}",
        audit.text
    );
}

#[tokio::test]
async fn forgetting_a_password_mails_a_link_only_to_a_user_with_an_address_and_answers_alike() {
    let app = shop_with_unreachable_mail().await;
    for (name, email) in [("ana", Some("ana@example.com")), ("ben", None)] {
        let mut user = json!({"username": name, "password": PASSWORD, "role": "staff"});
        if let Some(email) = email {
            user["email"] = json!(email);
        }
        let made = app.post("/api/v1/users", Who::Owner, &user).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    for name in ["ana", "ben", "nobody", "ana"] {
        let asked = app
            .post(
                "/api/v1/auth/forgot",
                Who::Anonymous,
                &json!({"username": name}),
            )
            .await;
        assert_eq!(asked.status, StatusCode::ACCEPTED, "{name}: {}", asked.text);
        assert_eq!(asked.text, "", "the answer tells nothing");
    }
    // A name no user can have is refused as such.
    let bad = app
        .post(
            "/api/v1/auth/forgot",
            Who::Anonymous,
            &json!({"username": "not a name!"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(bad.error().1.as_deref(), Some("username"));
    let resets: Vec<Value> = outbox(&app)
        .await
        .into_iter()
        .filter(|m| m["kind"] == "password_reset")
        .collect();
    // One message: ana asked twice within two minutes; ben has no address.
    assert_eq!(resets.len(), 1, "{resets:?}");
    assert_eq!(resets[0]["to"], "ana@example.com");
    assert_eq!(resets[0]["reference"], "ana");
    // The owner may e-mail one at once, and one to ben says he has no address.
    let mailed = app
        .post(
            "/api/v1/users/ana/reset-link?email=true",
            Who::Owner,
            &json!({}),
        )
        .await;
    assert_eq!(mailed.status, StatusCode::CREATED, "{}", mailed.text);
    assert_eq!(mailed.body["mail"]["state"], "queued");
    assert_eq!(mailed.body["mail"]["to"], "ana@example.com");
    let ben = app
        .post(
            "/api/v1/users/ben/reset-link?email=true",
            Who::Owner,
            &json!({}),
        )
        .await;
    assert_eq!(ben.body["mail"]["state"], "no_address", "{}", ben.text);
    // A disabled user is mailed nothing.
    let disabled = app
        .patch("/api/v1/users/ana", Who::Owner, &json!({"disabled": true}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    let before = outbox(&app).await.len();
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    let asked = app
        .post(
            "/api/v1/auth/forgot",
            Who::Anonymous,
            &json!({"username": "ana"}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED);
    assert_eq!(outbox(&app).await.len(), before);
}

#[tokio::test]
async fn a_users_address_is_set_changed_and_removed_by_the_owner() {
    let app = TestApp::spawn().await;
    let user = json!({"username": "cal", "password": PASSWORD, "role": "viewer"});
    let made = app.post("/api/v1/users", Who::Owner, &user).await;
    assert_eq!(made.body["email"], Value::Null, "{}", made.text);
    let set = app
        .patch(
            "/api/v1/users/cal",
            Who::Owner,
            &json!({"email": "cal@example.com"}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.body["email"], "cal@example.com");
    let listed = app.get("/api/v1/users", Who::Owner).await;
    let cal = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "cal")
        .unwrap()
        .clone();
    assert_eq!(cal["email"], "cal@example.com");
    let bad = app
        .patch(
            "/api/v1/users/cal",
            Who::Owner,
            &json!({"email": "cal at example"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    // Other changes leave it alone; null removes it.
    let role = app
        .patch("/api/v1/users/cal", Who::Owner, &json!({"role": "staff"}))
        .await;
    assert_eq!(role.body["email"], "cal@example.com");
    let removed = app
        .patch("/api/v1/users/cal", Who::Owner, &json!({"email": null}))
        .await;
    assert_eq!(removed.body["email"], Value::Null, "{}", removed.text);
    // Staff cannot set anyone's address.
    let staff = app
        .patch(
            "/api/v1/users/cal",
            Who::Staff,
            &json!({"email": "x@example.com"}),
        )
        .await;
    assert_eq!(staff.status, StatusCode::FORBIDDEN);
}
