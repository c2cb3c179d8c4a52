//! Sign-in, sessions and CSRF, passwords, the setup link, the owner's users
//! and tokens API, the audit log, and the abuse limits.

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use quarry::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{BrowserSession, PASSWORD, Resp, TestApp, Who, respond, sand, session_cookie};

impl TestApp {
    /// A request as a browser holding `session` sends it, from `origin`.
    async fn as_browser(
        &self,
        method: Method,
        path: &str,
        session: &BrowserSession,
        origin: Option<&str>,
        csrf: bool,
        body: Option<&Value>,
    ) -> Resp {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &session.cookie);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if csrf {
            request = request.header("x-csrf-token", &session.csrf);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        respond(request).await
    }

    async fn signed_in(&self, username: &str, password: &str) -> BrowserSession {
        let resp = self.login(username, password).await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
        BrowserSession {
            cookie: session_cookie(&resp).unwrap(),
            csrf: resp.body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn me(&self, session: &BrowserSession) -> StatusCode {
        self.as_browser(Method::GET, "/api/v1/auth/me", session, None, false, None)
            .await
            .status
    }

    /// Audit entries matching the query string, newest first.
    async fn audit(&self, query: &str) -> Vec<Value> {
        let resp = self
            .get(&format!("/api/v1/audit?{query}"), Who::Owner)
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
        resp.body["items"].as_array().unwrap().clone()
    }
}

fn secret_of(session: &BrowserSession) -> &str {
    session.cookie.split_once('=').unwrap().1
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_me_shows_the_csrf_token() {
    let app = TestApp::spawn().await;
    let resp = app.login("alice", PASSWORD).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    let cookie = resp.header("set-cookie").unwrap();
    for part in [
        "quarry_session=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag");
    assert_eq!(resp.body["user"]["username"], "alice");
    assert_eq!(resp.body["user"]["role"], "staff");
    assert!(resp.body["user"].get("password_hash").is_none());
    assert_eq!(resp.header("cache-control"), Some("no-store"));

    let session = BrowserSession {
        cookie: session_cookie(&resp).unwrap(),
        csrf: resp.body["csrf_token"].as_str().unwrap().to_owned(),
    };
    let me = app
        .as_browser(Method::GET, "/api/v1/auth/me", &session, None, false, None)
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["actor"], "user:alice");
    assert_eq!(me.body["role"], "staff");
    assert_eq!(me.body["csrf_token"], session.csrf.as_str());

    let token_me = app.get("/api/v1/auth/me", Who::StockClerk).await;
    assert_eq!(token_me.body["actor"], "token:clerk");
    assert_eq!(token_me.body["scopes"], json!(["read", "stock:write"]));
    assert_eq!(token_me.body["csrf_token"], Value::Null);
    assert_eq!(
        app.get("/api/v1/auth/me", Who::Anonymous).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn secure_cookies_use_the_host_prefix() {
    let app = TestApp::spawn_with(|c| c.auth.secure_cookies = true).await;
    let resp = app.login("alice", PASSWORD).await;
    let cookie = resp.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-quarry_session="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    let session = BrowserSession {
        cookie: session_cookie(&resp).unwrap(),
        csrf: String::new(),
    };
    assert_eq!(app.me(&session).await, StatusCode::OK);
    // The unprefixed name is not read when the prefixed one is expected.
    let plain = BrowserSession {
        cookie: session.cookie.replace("__Host-", ""),
        csrf: String::new(),
    };
    assert_eq!(app.me(&plain).await, StatusCode::UNAUTHORIZED);
    let hsts = app.get("/healthz", Who::Anonymous).await;
    assert_eq!(
        hsts.header("strict-transport-security"),
        Some("max-age=31536000")
    );
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let wrong = app.login("alice", "not the password").await;
    let unknown = app.login("nobody", "not the password").await;
    let disabled = app.login("gone", PASSWORD).await;
    for resp in [&wrong, &unknown, &disabled] {
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        assert_eq!(resp.body, wrong.body);
        assert!(resp.header("set-cookie").is_none());
    }
}

#[tokio::test]
async fn cookie_changes_need_the_own_origin_and_the_csrf_token() {
    let app = TestApp::spawn().await;
    app.create_location("YARD", "Main yard").await;
    let session = app.signed_in("alice", PASSWORD).await;
    let product = |n: u32| sand(&format!("CSRF-{n}"));
    let post = |origin: Option<String>, csrf: bool, n: u32| {
        let app = &app;
        let session = &session;
        async move {
            app.as_browser(
                Method::POST,
                "/api/v1/products",
                session,
                origin.as_deref(),
                csrf,
                Some(&product(n)),
            )
            .await
        }
    };
    let own = Some(app.base.clone());
    let evil = Some("https://evil.example".to_owned());

    let cross = post(evil.clone(), true, 1).await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "{}", cross.text);
    assert_eq!(cross.error().0, "csrf_failed");
    let no_token = post(own.clone(), false, 2).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(no_token.error().0, "csrf_failed");
    let no_origin = post(None, true, 3).await;
    assert_eq!(no_origin.status, StatusCode::FORBIDDEN);
    let wrong_token = app
        .as_browser(
            Method::POST,
            "/api/v1/products",
            &BrowserSession {
                cookie: session.cookie.clone(),
                csrf: "guessed".into(),
            },
            own.as_deref(),
            true,
            Some(&product(4)),
        )
        .await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    for n in 1..=4 {
        let gone = app
            .get(&format!("/api/v1/products/CSRF-{n}"), Who::Staff)
            .await;
        assert_eq!(
            gone.status,
            StatusCode::NOT_FOUND,
            "a refused change left nothing"
        );
    }

    let same = post(own, true, 5).await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.text);
    let logged = app.audit("kind=product.created&key=CSRF-5").await;
    assert_eq!(logged[0]["actor"], "user:alice");

    // A Referer from the own origin stands in for a missing Origin.
    let referred = app
        .client
        .post(format!("{}/api/v1/products", app.base))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .header("referer", format!("{}/account", app.base))
        .json(&product(6));
    assert_eq!(respond(referred).await.status, StatusCode::CREATED);

    // Reads need no token; bearer tokens need no CSRF check at all.
    assert_eq!(app.me(&session).await, StatusCode::OK);
    let bearer = app
        .send(
            Method::POST,
            "/api/v1/products",
            Who::Staff,
            Some(&product(7)),
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(bearer.status, StatusCode::CREATED);

    // A batch carries the check to its sub-requests.
    let batch =
        json!({"requests": [{"method": "POST", "path": "/api/v1/products", "body": product(8)}]});
    let cross_batch = post_batch(&app, &session, "https://evil.example", &batch).await;
    assert_eq!(cross_batch.status, StatusCode::FORBIDDEN);
    let own_batch = post_batch(&app, &session, &app.base, &batch).await;
    assert_eq!(own_batch.status, StatusCode::OK, "{}", own_batch.text);
    assert_eq!(own_batch.body["responses"][0]["status"], 201);
}

async fn post_batch(app: &TestApp, session: &BrowserSession, origin: &str, batch: &Value) -> Resp {
    app.as_browser(
        Method::POST,
        "/api/v1/batch",
        session,
        Some(origin),
        true,
        Some(batch),
    )
    .await
}

#[tokio::test]
async fn a_login_from_another_site_is_refused() {
    let app = TestApp::spawn().await;
    let request = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("origin", "https://evil.example")
        .json(&json!({"username": "alice", "password": PASSWORD}));
    let resp = respond(request).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(resp.header("set-cookie").is_none());
}

#[tokio::test]
async fn every_login_makes_a_new_session_and_ends_the_one_it_replaces() {
    let app = TestApp::spawn().await;
    let first = app.signed_in("alice", PASSWORD).await;
    let other_browser = app.signed_in("alice", PASSWORD).await;
    assert_ne!(first.cookie, other_browser.cookie);
    assert_ne!(first.csrf, other_browser.csrf);

    // Signing in again from the first browser replaces its session.
    let request = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("cookie", &first.cookie)
        .json(&json!({"username": "alice", "password": PASSWORD}));
    let again = respond(request).await;
    assert_eq!(again.status, StatusCode::OK);
    let rotated = session_cookie(&again).unwrap();
    assert_ne!(rotated, first.cookie);
    assert_eq!(app.me(&first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&other_browser).await, StatusCode::OK);
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() {
    let app = TestApp::spawn().await;
    let session = app.signed_in("alice", PASSWORD).await;
    let out = app
        .as_browser(
            Method::POST,
            "/api/v1/auth/logout",
            &session,
            Some(&app.base),
            true,
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.header("set-cookie").unwrap();
    assert!(cleared.starts_with("quarry_session=;") && cleared.contains("Max-Age=0"));
    assert_eq!(app.me(&session).await, StatusCode::UNAUTHORIZED);
    // An ended session on a public route is just anonymous.
    let products = app
        .as_browser(Method::GET, "/api/v1/products", &session, None, false, None)
        .await;
    assert_eq!(products.status, StatusCode::OK);
    let entries = app.audit("kind=auth.logout").await;
    assert_eq!(entries[0]["actor"], "user:alice");
    assert_eq!(entries[0]["ip"], "127.0.0.1");
}

/// Rewrites a stored session while the server is stopped.
async fn age_session(
    app: &mut TestApp,
    session: &BrowserSession,
    change: fn(&mut quarry::domain::accounts::Session),
) {
    app.stop().await;
    let hash = quarry::auth::token_hash(secret_of(session));
    crate::helpers::off_runtime(|| {
        crate::helpers::open_store(&app.config)
            .write(|tx| -> Result<(), quarry::store::StoreError> {
                let mut stored = tx.session(&hash)?.expect("the session is stored");
                change(&mut stored);
                tx.put_session(&hash, &stored)
            })
            .unwrap();
    });
    app.restart().await;
}

#[tokio::test]
async fn sessions_end_when_idle_too_long_or_too_old() {
    let mut app = TestApp::spawn().await;
    let idle = app.signed_in("alice", PASSWORD).await;
    let old = app.signed_in("alice", PASSWORD).await;
    let fresh = app.signed_in("alice", PASSWORD).await;
    age_session(&mut app, &idle, |s| {
        s.last_seen_at = Timestamp::now() - SignedDuration::from_mins(61);
    })
    .await;
    age_session(&mut app, &old, |s| {
        s.expires_at = Timestamp::now() - SignedDuration::from_secs(1);
    })
    .await;
    age_session(&mut app, &fresh, |s| {
        s.last_seen_at = Timestamp::now() - SignedDuration::from_mins(30);
    })
    .await;
    assert_eq!(app.me(&idle).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&fresh).await, StatusCode::OK);
    // Housekeeping (at start and every minute) removed what had ended.
    app.stop().await;
    let seen = crate::helpers::off_runtime(|| {
        let store = crate::helpers::open_store(&app.config);
        let read = store.read().unwrap();
        let stored = |s: &BrowserSession| {
            read.session(&quarry::auth::token_hash(secret_of(s)))
                .unwrap()
                .is_some()
        };
        assert!(!stored(&idle) && !stored(&old) && stored(&fresh));
        read.session(&quarry::auth::token_hash(secret_of(&fresh)))
            .unwrap()
            .unwrap()
            .last_seen_at
    });
    // Using a session keeps it from going idle.
    assert!(Timestamp::now().duration_since(seen) < SignedDuration::from_mins(1));
}

#[tokio::test]
async fn a_new_password_or_disabling_ends_sessions_and_revokes_tokens_at_once() {
    let app = TestApp::spawn().await;
    let session = app.signed_in("alice", PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/stock", Who::Staff).await.status,
        StatusCode::OK
    );
    let changed = app
        .patch(
            "/api/v1/users/alice",
            Who::Owner,
            &json!({"password": "another long passphrase"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(app.me(&session).await, StatusCode::UNAUTHORIZED);
    for who in [Who::Staff, Who::StockClerk] {
        assert_eq!(
            app.get("/api/v1/stock", who).await.status,
            StatusCode::UNAUTHORIZED,
            "{who:?}'s token acts for alice"
        );
    }
    assert_eq!(
        app.login("alice", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let renewed = app.signed_in("alice", "another long passphrase").await;

    let disabled = app
        .patch(
            "/api/v1/users/alice",
            Who::Owner,
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(disabled.body["disabled"], true);
    assert_eq!(app.me(&renewed).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("alice", "another long passphrase").await.status,
        StatusCode::UNAUTHORIZED
    );
    let revoked = app.audit("kind=token.revoked").await;
    let names: Vec<_> = revoked.iter().map(|e| e["key"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"staff") && names.contains(&"clerk"),
        "{names:?}"
    );
}

#[tokio::test]
async fn users_change_their_own_password_proving_the_current_one() {
    let app = TestApp::spawn().await;
    let session = app.signed_in("alice", PASSWORD).await;
    let change = |current: &'static str, new: &'static str| {
        let body = json!({"current_password": current, "new_password": new});
        let (app, session) = (&app, &session);
        async move {
            app.as_browser(
                Method::POST,
                "/api/v1/auth/password",
                session,
                Some(&app.base),
                true,
                Some(&body),
            )
            .await
        }
    };
    let wrong = change("wrong", "my new long passphrase").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.error().1.as_deref(), Some("current_password"));
    let common = change(PASSWORD, "password123").await;
    assert_eq!(common.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(common.error().1.as_deref(), Some("new_password"));
    let done = change(PASSWORD, "my new long passphrase").await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.text);
    assert_eq!(app.me(&session).await, StatusCode::UNAUTHORIZED);
    app.signed_in("alice", "my new long passphrase").await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_with_retry_after() {
    let app = TestApp::spawn().await;
    for attempt in 1..=5 {
        let resp = app.login("alice", "guess").await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let locked = app.login("alice", PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert_eq!(locked.error().0, "rate_limited");
    let wait: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // The answer says for what and for how long, in words.
    let message = locked.body["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("for this account") && message.contains(" s"),
        "{message}"
    );
    assert!(
        message.contains(&format!("try again in {wait} s"))
            || message.contains(&format!("try again in {} s", wait - 1)),
        "{message} (retry-after {wait})"
    );
    // Someone else signing in from the same address is not locked out.
    assert_eq!(
        app.login("owner", PASSWORD).await.status,
        StatusCode::OK,
        "one account's failures lock that account only"
    );
    let entries = app.audit("kind=auth.login_failed&key=alice").await;
    assert_eq!(entries.len(), 5, "each failure is audited");
    assert_eq!(entries[0]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn failed_logins_are_throttled_per_address_across_accounts() {
    let app = TestApp::spawn().await;
    // An address may fail four times as often as one account: twenty
    // failures over twenty accounts lock the address.
    for i in 1..=20 {
        assert_eq!(
            app.login(&format!("a{i}"), "guess").await.status,
            StatusCode::UNAUTHORIZED,
            "attempt {i}"
        );
    }
    let resp = app.login("owner", PASSWORD).await;
    assert_eq!(resp.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.header("retry-after").is_some());
    assert!(resp.text.contains("from this address"), "{}", resp.text);
}

#[tokio::test]
async fn unknown_users_take_as_long_to_refuse_as_wrong_passwords() {
    let app = TestApp::spawn_with(|c| c.auth.login_failures_per_minute = 1000).await;
    let time = |name: &'static str| {
        let app = &app;
        async move {
            let started = Instant::now();
            let resp = app.login(name, "a wrong password").await;
            assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
            started.elapsed()
        }
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        known.push(time("alice").await);
        unknown.push(time("nobody-here").await);
    }
    known.sort();
    unknown.sort();
    let (known, unknown) = (known[4].as_secs_f64(), unknown[4].as_secs_f64());
    let ratio = unknown / known;
    assert!(
        (0.5..2.0).contains(&ratio),
        "median refusal: known user {known:.4}s, unknown user {unknown:.4}s"
    );
}

/// Starts Quarry on a fresh data dir with no accounts at all.
async fn bare() -> (tempfile::TempDir, quarry::http::Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    let server = quarry::http::start(config).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    (dir, server, base)
}

#[tokio::test]
async fn the_setup_link_creates_the_first_owner_once() {
    let (_dir, server, base) = bare().await;
    let client = crate::helpers::http_client().build().unwrap();
    let secret = server.app().issue_setup_link().await.unwrap().unwrap();
    let setup = |token: &str, password: &str| {
        client
            .post(format!("{base}/api/v1/setup"))
            .json(&json!({"token": token, "username": "Pat", "password": password}))
    };
    let page = respond(client.get(format!("{base}/setup"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("/assets/setup.js"));
    let state = || respond(client.get(format!("{base}/api/v1/setup")));
    assert_eq!(state().await.body, json!({"needed": true}));

    let wrong = respond(setup("not-the-secret", "a good long passphrase")).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let weak = respond(setup(&secret, "iloveyou")).await;
    assert_eq!(
        weak.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        weak.text
    );
    assert_eq!(weak.error().1.as_deref(), Some("password"));

    let created = respond(setup(&secret, "a good long passphrase")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["user"]["username"], "pat");
    assert_eq!(created.body["user"]["role"], "owner");
    let session = BrowserSession {
        cookie: session_cookie(&created).unwrap(),
        csrf: created.body["csrf_token"].as_str().unwrap().to_owned(),
    };
    let me = respond(
        client
            .get(format!("{base}/api/v1/auth/me"))
            .header("cookie", &session.cookie),
    )
    .await;
    assert_eq!(me.body["role"], "owner");

    assert_eq!(
        state().await.body,
        json!({"needed": false}),
        "the sign-in page stops pointing to the setup link"
    );
    let again = respond(setup(&secret, "a good long passphrase")).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error().0, "setup_done");
    assert_eq!(server.app().issue_setup_link().await.unwrap(), None);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_setup_link_is_refused_once_used_even_before_an_owner_exists() {
    let (_dir, server, base) = bare().await;
    let client = crate::helpers::http_client().build().unwrap();
    let first = server.app().issue_setup_link().await.unwrap().unwrap();
    let second = server.app().issue_setup_link().await.unwrap().unwrap();
    let resp =
        respond(client.post(format!("{base}/api/v1/setup")).json(
            &json!({"token": first, "username": "pat", "password": "a good long passphrase"}),
        ))
        .await;
    assert_eq!(
        resp.status,
        StatusCode::FORBIDDEN,
        "a newer link replaces the old one"
    );
    let resp =
        respond(client.post(format!("{base}/api/v1/setup")).json(
            &json!({"token": second, "username": "pat", "password": "a good long passphrase"}),
        ))
        .await;
    assert_eq!(resp.status, StatusCode::CREATED);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn owners_manage_users_with_password_rules_and_a_last_owner_guard() {
    let app = TestApp::spawn().await;
    let add = |name: &str, password: &str, role: &str| json!({"username": name, "password": password, "role": role});
    let created = app
        .post(
            "/api/v1/users",
            Who::OwnerSession,
            &add("Sam", "gravel and sand 42", "staff"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["username"], "sam");
    assert!(created.body.get("password_hash").is_none());
    let dupe = app
        .post(
            "/api/v1/users",
            Who::Owner,
            &add("sam", "gravel and sand 42", "staff"),
        )
        .await;
    assert_eq!(dupe.status, StatusCode::CONFLICT);
    for (password, why) in [
        ("short", "too short"),
        ("qwerty123", "common"),
        ("sammy", "short"),
        ("Sam1", "short"),
    ] {
        let resp = app
            .post("/api/v1/users", Who::Owner, &add("kim", password, "viewer"))
            .await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        assert_eq!(resp.error().1.as_deref(), Some("password"));
    }
    let long = "x".repeat(129);
    let resp = app
        .post("/api/v1/users", Who::Owner, &add("kim", &long, "viewer"))
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown_field = app
        .post(
            "/api/v1/users",
            Who::Owner,
            &json!({"username": "kim", "password": "gravel and sand 42", "role": "viewer", "disabled": true}),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);

    let listed = app.get("/api/v1/users", Who::Owner).await;
    let names: Vec<_> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "gone", "owner", "sam"]);

    let demote = app
        .patch("/api/v1/users/owner", Who::Owner, &json!({"role": "staff"}))
        .await;
    assert_eq!(demote.status, StatusCode::CONFLICT);
    assert_eq!(demote.error().0, "last_owner");
    let disable = app
        .patch(
            "/api/v1/users/owner",
            Who::Owner,
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(disable.error().0, "last_owner");
    let promoted = app
        .patch("/api/v1/users/sam", Who::Owner, &json!({"role": "owner"}))
        .await;
    assert_eq!(promoted.body["role"], "owner");
    let demoted = app
        .patch(
            "/api/v1/users/owner",
            Who::Owner,
            &json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK);
    // The owner's token acted for the owner, and may not keep more rights.
    assert_eq!(
        app.get("/api/v1/users", Who::Owner).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.patch(
            "/api/v1/users/nobody",
            Who::OwnerSession,
            &json!({"role": "viewer"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN,
        "the owner's session now has the viewer role"
    );
}

#[tokio::test]
async fn owners_make_scoped_expiring_tokens_and_revoke_them() {
    let app = TestApp::spawn().await;
    let made = app
        .post(
            "/api/v1/tokens",
            Who::Owner,
            &json!({"name": "Till", "role": "staff", "scopes": ["stock:write", "read"], "expires_in_days": 30}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.header("cache-control"), Some("no-store"));
    assert_eq!(made.body["token"]["name"], "till");
    assert_eq!(made.body["token"]["scopes"], json!(["read", "stock:write"]));
    let expires: Timestamp = made.body["token"]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let days = expires.duration_since(Timestamp::now()).as_secs_f64() / 86_400.0;
    assert!((29.9..=30.0).contains(&days), "{days}");
    let secret = made.body["secret"].as_str().unwrap().to_owned();
    let with = |method: Method, path: &str, body: Option<Value>| {
        let mut request = app
            .client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&secret);
        if let Some(body) = body {
            request = request.json(&body);
        }
        respond(request)
    };
    app.create_location("YARD", "Main yard").await;
    app.create_product(&sand("SAND-04")).await;
    let booked = with(
        Method::POST,
        "/api/v1/movements",
        Some(json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "SAND-04", "quantity": "1"}]})),
    )
    .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let refused = with(Method::POST, "/api/v1/products", Some(sand("NEW-1"))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.error().0 == "forbidden" && refused.text.contains("catalogue:write"));

    let listed = app.get("/api/v1/tokens", Who::Owner).await;
    assert!(!listed.text.contains(&secret) && !listed.text.contains("hash"));

    for (body, field) in [
        (
            json!({"name": "x1", "role": "staff", "scopes": ["everything"]}),
            "scopes[0]",
        ),
        (
            json!({"name": "x2", "role": "staff", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"name": "x3", "role": "owner", "user": "alice"}),
            "role",
        ),
        (
            json!({"name": "x4", "role": "staff", "user": "gone"}),
            "user",
        ),
        (
            json!({"name": "x5", "role": "staff", "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ] {
        let resp = app.post("/api/v1/tokens", Who::Owner, &body).await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            resp.text
        );
        assert_eq!(resp.error().1.as_deref(), Some(field), "{body}");
    }
    let dupe = app
        .post(
            "/api/v1/tokens",
            Who::Owner,
            &json!({"name": "till", "role": "viewer"}),
        )
        .await;
    assert_eq!(dupe.status, StatusCode::CONFLICT);

    let revoked = app.delete("/api/v1/tokens/till", Who::Owner).await;
    assert_eq!(revoked.body["status"], "revoked");
    assert_eq!(
        with(Method::GET, "/api/v1/stock", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.delete("/api/v1/tokens/nothing", Who::Owner)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn scoped_tokens_without_read_see_only_public_fields() {
    let app = TestApp::spawn().await;
    let mut product = sand("SAND-04");
    product["cost"] = json!("12.00");
    app.create_product(&product).await;
    let made = app
        .post(
            "/api/v1/tokens",
            Who::Owner,
            &json!({"name": "booker", "role": "staff", "scopes": ["stock:write"]}),
        )
        .await;
    let secret = made.body["secret"].as_str().unwrap();
    let read = |token: Option<&str>| {
        let mut request = app
            .client
            .get(format!("{}/api/v1/products/SAND-04", app.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        respond(request)
    };
    let staff = app.get("/api/v1/products/SAND-04", Who::Staff).await;
    assert_eq!(staff.body["cost"], "12.00");
    let scoped = read(Some(secret)).await;
    assert_eq!(scoped.status, StatusCode::OK);
    assert!(scoped.body.get("cost").is_none(), "{}", scoped.text);
    assert_eq!(scoped.body, read(None).await.body);
}

#[tokio::test]
async fn the_audit_log_says_who_did_what_from_where_with_filters_and_pages() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".into()]).await;
    app.create_product(&sand("SAND-04")).await;
    let forwarded = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("x-forwarded-for", "203.0.113.50")
        .json(&json!({"username": "alice", "password": "nope"}));
    assert_eq!(respond(forwarded).await.status, StatusCode::UNAUTHORIZED);
    app.signed_in("alice", PASSWORD).await;
    app.post(
        "/api/v1/tokens",
        Who::Owner,
        &json!({"name": "ci", "role": "viewer"}),
    )
    .await;

    let all = app.audit("").await;
    let kinds: Vec<_> = all.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds[..4],
        [
            "token.created",
            "auth.login",
            "auth.login_failed",
            "product.created"
        ],
        "newest first: {kinds:?}"
    );
    assert!(!kinds.contains(&"token.used"), "bookkeeping is not audited");
    assert_eq!(all[0]["actor"], "token:owner");
    assert_eq!(all[0]["key"], "ci");
    assert_eq!(
        all[2]["ip"], "203.0.113.50",
        "believed from a trusted proxy"
    );
    assert_eq!(all[3]["actor"], "token:staff");
    assert_eq!(all[3]["key"], "SAND-04");

    let auth = app.audit("kind=auth").await;
    assert_eq!(auth.len(), 2);
    let by_owner = app.audit("actor=token:owner").await;
    assert!(by_owner.iter().all(|e| e["actor"] == "token:owner"));
    let future = app.audit("from=2999-01-01T00:00:00Z").await;
    assert!(future.is_empty());

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("/api/v1/audit?limit=2&cursor={c}"),
            None => "/api/v1/audit?limit=2".to_owned(),
        };
        let page = app.get(&query, Who::Owner).await;
        for entry in page.body["items"].as_array().unwrap() {
            seen.push(entry["seq"].as_u64().unwrap());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected: Vec<u64> = all.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seen, expected, "pages hold every entry once");
    assert_eq!(
        app.get("/api/v1/audit?from=yesterday", Who::Owner)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn().await;
    let forged = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("x-forwarded-for", "203.0.113.50")
        .json(&json!({"username": "alice", "password": "nope"}));
    respond(forged).await;
    let entries = app.audit("kind=auth.login_failed").await;
    assert_eq!(entries[0]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn public_endpoints_answer_429_with_retry_after_never_5xx() {
    let app = TestApp::spawn_with(|c| {
        c.limits.public_requests_per_minute = 5;
        c.limits.quote_requests_per_hour = 2;
    })
    .await;
    app.create_product(&sand("SAND-04")).await;
    let paths = [
        "/api/v1/search?q=sand",
        "/api/v1/search/suggest?q=sa",
        "/api/v1/quote/estimate?sku=SAND-04&quantity=1",
    ];
    let mut statuses = Vec::new();
    for i in 0..30 {
        let resp = app.get(paths[i % 3], Who::Anonymous).await;
        if resp.status == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = resp.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait));
            assert_eq!(resp.error().0, "rate_limited");
        }
        statuses.push(resp.status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 25);
    // Signed-in callers are not limited.
    assert_eq!(app.get(paths[0], Who::Viewer).await.status, StatusCode::OK);

    // A flood at once: every answer is 200 or 429.
    let flood = futures_like_join(&app, 40).await;
    assert!(flood.iter().all(|s| *s == 200 || *s == 429), "{flood:?}");

    let quote = json!({
        "lines": [{"sku": "SAND-04", "quantity": "1"}],
        "contact": {"name": "Sam", "email": "sam@example.com"},
    });
    let mut quotes = Vec::new();
    for _ in 0..4 {
        quotes.push(
            app.post("/api/v1/quotes", Who::Anonymous, &quote)
                .await
                .status,
        );
    }
    assert_eq!(
        quotes,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

async fn futures_like_join(app: &TestApp, n: usize) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let request = app.client.get(format!("{}/api/v1/search?q=sand", app.base));
        tasks.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    tasks.join_all().await
}

fn assert_browser_headers(resp: &Resp, what: &str) {
    let csp = resp.header("content-security-policy").unwrap_or_default();
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{what}: CSP lacks {part}: {csp:?}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}");
    assert_eq!(
        resp.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        resp.header("referrer-policy"),
        Some("same-origin"),
        "{what}"
    );
    assert_eq!(resp.header("x-frame-options"), Some("DENY"), "{what}");
    assert!(
        resp.header("strict-transport-security").is_none(),
        "{what}: plain HTTP"
    );
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = TestApp::spawn_with(|c| c.limits.body_bytes = 4096).await;
    let huge_header = "x".repeat(20_000);
    let long_uri = format!("/api/v1/products?category={}", "a".repeat(9000));
    let big_body = json!({"lines": [{"sku": "x".repeat(5000), "quantity": "1"}]});
    let cases: Vec<(&str, Resp)> = vec![
        ("page", app.get("/", Who::Anonymous).await),
        ("asset", app.get("/assets/quarry.css", Who::Anonymous).await),
        ("json", app.get("/api/v1/products", Who::Anonymous).await),
        (
            "document",
            app.get("/api/v1/openapi.json", Who::Anonymous).await,
        ),
        ("401", app.get("/api/v1/stock", Who::Garbage).await),
        ("403", app.get("/api/v1/users", Who::Staff).await),
        ("404", app.get("/nowhere", Who::Anonymous).await),
        (
            "405",
            app.send(Method::PUT, "/healthz", Who::Anonymous, None, &[])
                .await,
        ),
        (
            "413",
            app.post("/api/v1/quote/estimate", Who::Anonymous, &big_body)
                .await,
        ),
        ("414", app.get(&long_uri, Who::Anonymous).await),
        (
            "431",
            app.send(
                Method::GET,
                "/healthz",
                Who::Anonymous,
                None,
                &[("x-big", &huge_header)],
            )
            .await,
        ),
    ];
    let expected = [200, 200, 200, 200, 401, 403, 404, 405, 413, 414, 431];
    for ((what, resp), status) in cases.iter().zip(expected) {
        assert_eq!(resp.status.as_u16(), status, "{what}: {}", resp.text);
        assert_browser_headers(resp, what);
    }
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let app = TestApp::spawn().await;
    // A batch request's body is any JSON, so nesting reaches the parser.
    let deep = format!(
        r#"{{"requests": [{{"method": "POST", "path": "/api/v1/quote/estimate", "body": {}{}}}]}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let resp = respond(
        app.client
            .post(format!("{}/api/v1/batch", app.base))
            .header("content-type", "application/json")
            .body(deep),
    )
    .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{}", resp.text);
    assert_eq!(
        app.get("/healthz", Who::Anonymous).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn cors_is_off_by_default_and_allows_listed_origins_on_the_public_api_only() {
    let closed = TestApp::spawn().await;
    let resp = closed
        .send(
            Method::GET,
            "/api/v1/search?q=sand",
            Who::Anonymous,
            None,
            &[("origin", "https://shop.example.com")],
        )
        .await;
    assert!(resp.header("access-control-allow-origin").is_none());

    let app = TestApp::spawn_with(|c| {
        c.cors.allowed_origins = vec!["https://shop.example.com".into()];
    })
    .await;
    let preflight = |path: &str, origin: &str, method: &str| {
        app.client
            .request(Method::OPTIONS, format!("{}{path}", app.base))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "content-type")
    };
    let allowed = respond(preflight(
        "/api/v1/quote/estimate",
        "https://shop.example.com",
        "POST",
    ))
    .await;
    assert_eq!(allowed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://shop.example.com")
    );
    assert!(allowed.header("access-control-allow-credentials").is_none());
    let other = respond(preflight(
        "/api/v1/quote/estimate",
        "https://evil.example",
        "POST",
    ))
    .await;
    assert!(other.header("access-control-allow-origin").is_none());
    let staff_route = respond(preflight(
        "/api/v1/movements",
        "https://shop.example.com",
        "POST",
    ))
    .await;
    assert!(staff_route.header("access-control-allow-origin").is_none());

    let search = app
        .send(
            Method::GET,
            "/api/v1/search?q=sand",
            Who::Anonymous,
            None,
            &[("origin", "https://shop.example.com")],
        )
        .await;
    assert_eq!(
        search.header("access-control-allow-origin"),
        Some("https://shop.example.com")
    );
    let stock = app
        .send(
            Method::GET,
            "/api/v1/stock",
            Who::Viewer,
            None,
            &[("origin", "https://shop.example.com")],
        )
        .await;
    assert!(stock.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_viewer_token_with_write_scopes_it_could_never_use_is_refused() {
    // Issue "Hardening", item 11.
    let app = TestApp::spawn().await;
    let resp = app
        .post(
            "/api/v1/tokens",
            Who::Owner,
            &json!({"name": "kiosk", "role": "viewer", "scopes": ["read", "stock:write"]}),
        )
        .await;
    assert_eq!(
        resp.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        resp.text
    );
    assert_eq!(resp.error().1.as_deref(), Some("scopes"));
    let message = resp.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("stock:write"), "{message}");
    let listed = app.get("/api/v1/tokens", Who::Owner).await;
    assert!(!listed.text.contains("kiosk"), "nothing was created");

    // The scopes a viewer can use, and a staff token's write scopes, are fine.
    for body in [
        json!({"name": "kiosk", "role": "viewer", "scopes": ["read"]}),
        json!({"name": "till", "role": "staff", "scopes": ["read", "stock:write"]}),
    ] {
        let resp = app.post("/api/v1/tokens", Who::Owner, &body).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{body}: {}", resp.text);
    }
}

#[tokio::test]
async fn a_password_built_from_the_username_or_the_shops_name_is_refused() {
    // Issue "Hardening", item 11: the username plus one character was accepted.
    let app = TestApp::spawn_with(|c| c.shop.name = "Hillside Timber".into()).await;
    for (password, says) in [
        ("dave.miller1", "too close to the username"),
        ("Miller-2024!", "too close to the username"),
        (
            "hillside timber!",
            "too close to the shop's name (Hillside Timber)",
        ),
        ("Timber123456", "too close to the shop's name"),
    ] {
        let resp = app
            .post(
                "/api/v1/users",
                Who::Owner,
                &json!({"username": "dave.miller", "password": password, "role": "staff"}),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}: {}",
            resp.text
        );
        assert_eq!(resp.error().1.as_deref(), Some("password"), "{password}");
        let message = resp.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{password}: {message}");
    }
    let resp = app
        .post(
            "/api/v1/users",
            Who::Owner,
            &json!({"username": "dave.miller", "password": "sawdust on the loading bay", "role": "staff"}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);
}

#[tokio::test]
async fn the_audit_log_says_what_a_change_changed_before_and_after() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let patched = app
        .patch(
            "/api/v1/products/SAND-04",
            Who::Staff,
            &json!({"price": "41.50", "notes": "", "barcode": "4006381333931"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    app.create_location("YARD", "Main yard").await;
    let renamed = app
        .patch(
            "/api/v1/locations/YARD",
            Who::Staff,
            &json!({"name": "Front yard"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);

    let entries = app.audit("kind=product.updated&key=SAND-04").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let changes = entries[0]["data"]["changes"].as_array().unwrap();
    let fields: Vec<&str> = changes
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    // Exactly the fields changed, in name order; not the version or times.
    assert_eq!(fields, ["barcode", "notes", "price"], "{changes:?}");
    assert_eq!(changes[0]["before"], Value::Null);
    assert_eq!(changes[0]["after"], "4006381333931");
    assert_eq!(changes[1]["before"], "Supplier: Pit 3, call before noon");
    assert_eq!(changes[1]["after"], "");
    assert_eq!(changes[2]["before"], "38.00");
    assert_eq!(changes[2]["after"], "41.50");
    // A creation lists nothing (everything is new).
    let created = app.audit("kind=product.created&key=SAND-04").await;
    assert!(created[0]["data"].get("changes").is_none(), "{created:?}");

    let location = app.audit("kind=location.updated&key=YARD").await;
    assert_eq!(
        location[0]["data"]["changes"],
        json!([{"field": "name", "before": "Main yard", "after": "Front yard"}])
    );
}

#[tokio::test]
async fn a_token_known_from_earlier_requests_stops_at_its_revocation_and_its_expiry() {
    let app = TestApp::spawn().await;
    let make = |name: &str, expires_at: Option<Timestamp>| {
        let mut body = json!({"name": name, "role": "viewer"});
        if let Some(at) = expires_at {
            body["expires_at"] = json!(at.to_string());
        }
        let app = &app;
        async move {
            let made = app.post("/api/v1/tokens", Who::Owner, &body).await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
            made.body["secret"].as_str().unwrap().to_owned()
        }
    };
    let stock = |secret: String| {
        let request = app
            .client
            .get(format!("{}/api/v1/stock", app.base))
            .bearer_auth(secret);
        async move { respond(request).await.status }
    };
    let expiry = Timestamp::now() + SignedDuration::from_secs(3);
    let brief = make("brief", Some(expiry)).await;
    let kept = make("kept", None).await;
    // Used again and again: after the first, the server knows them.
    for _ in 0..3 {
        assert_eq!(stock(brief.clone()).await, StatusCode::OK);
        assert_eq!(stock(kept.clone()).await, StatusCode::OK);
    }
    let revoked = app.delete("/api/v1/tokens/kept", Who::Owner).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(
        stock(kept).await,
        StatusCode::UNAUTHORIZED,
        "refused from the answer to its revocation on"
    );
    let left = expiry.duration_since(Timestamp::now()) + SignedDuration::from_millis(200);
    tokio::time::sleep(left.unsigned_abs()).await;
    assert_eq!(
        stock(brief).await,
        StatusCode::UNAUTHORIZED,
        "refused once expired"
    );
}
