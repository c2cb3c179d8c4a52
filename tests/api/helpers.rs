//! A running Quarry for one test, and a typed client for it.

use jiff::Timestamp;
use quarry::app::accounts::{TokenRequest, local};
use quarry::config::Config;
use quarry::domain::accounts::{Actor, ApiToken, Password, Role, Scope, TokenName, Username};
use quarry::store::faults::Faults;
use quarry::store::{ChangeKind, Store};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

/// Who a request is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    Anonymous,
    Viewer,
    Staff,
    Owner,
    /// A staff token past its expiry.
    Expired,
    /// A staff token that was revoked.
    Revoked,
    /// A staff token whose user was disabled.
    DisabledUser,
    /// Something that is not a token at all.
    Garbage,
    /// A staff token narrowed to the `read` and `stock:write` scopes.
    StockClerk,
    /// An owner token narrowed to the `read` scope.
    ReadOnlyOwner,
    /// A browser session of staff user alice (cookie, CSRF token, own origin).
    StaffSession,
    /// A browser session of the owner.
    OwnerSession,
    /// A browser session of trade contact [`CONTACT`] of customer ACME.
    ContactSession,
}

/// The trade contact `Who::ContactSession` signs in as (login, customer).
pub const CONTACT: (&str, &str) = ("buyer@acme.example", "ACME");

impl Who {
    pub const ALL: [Who; 13] = [
        Who::Anonymous,
        Who::Viewer,
        Who::Staff,
        Who::Owner,
        Who::Expired,
        Who::Revoked,
        Who::DisabledUser,
        Who::Garbage,
        Who::StockClerk,
        Who::ReadOnlyOwner,
        Who::StaffSession,
        Who::OwnerSession,
        Who::ContactSession,
    ];

    /// The user a session caller signs in as.
    pub fn session_user(self) -> Option<&'static str> {
        match self {
            Who::StaffSession => Some("alice"),
            Who::OwnerSession => Some("owner"),
            Who::ContactSession => Some(CONTACT.0),
            _ => None,
        }
    }
}

/// The password every seeded user has.
pub const PASSWORD: &str = "a long test password";

/// A signed-in browser: its session cookie (`name=value`) and CSRF token.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    pub cookie: String,
    pub csrf: String,
}

#[derive(Clone)]
pub struct Tokens {
    pub viewer: String,
    pub staff: String,
    pub owner: String,
    pub expired: String,
    pub revoked: String,
    pub disabled_user: String,
    pub stock_clerk: String,
    pub read_only_owner: String,
}

/// A response, with its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the standard error shape and returns (code, field).
    pub fn error(&self) -> (String, Option<String>) {
        let error = &self.body["error"];
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "not an error body: {}",
            self.text
        );
        (
            error["code"].as_str().unwrap().to_owned(),
            error["field"].as_str().map(str::to_owned),
        )
    }
}

pub struct TestApp {
    pub dir: TempDir,
    pub config: Config,
    pub server: Option<quarry::http::Server>,
    pub base: String,
    pub tokens: Tokens,
    pub client: reqwest::Client,
    /// Browser sessions, signed in on first use.
    pub sessions: tokio::sync::Mutex<std::collections::HashMap<Who, BrowserSession>>,
    /// The I/O faults the store's file operations go through, if any.
    pub faults: Option<Faults>,
}

/// Which store the tests run on: `TEST_STORE=postgres` puts each test
/// app's store in a database of its own on the PostgreSQL server at
/// `TEST_STORE_URL` (`scripts/pg-test-cluster start` gives one);
/// otherwise the embedded file. Asking for PostgreSQL without a server fails
/// the test: it is never skipped.
pub fn test_store_url() -> Option<String> {
    match std::env::var("TEST_STORE").as_deref() {
        Ok("postgres") => {}
        Ok("redb") | Err(_) => return None,
        Ok(other) => panic!("TEST_STORE={other}: expected redb or postgres"),
    }
    let admin = std::env::var("TEST_STORE_URL").expect(
        "TEST_STORE=postgres needs TEST_STORE_URL: eval \"$(scripts/pg-test-cluster start)\"",
    );
    Some(quarry::store::scratch_database(&admin, "q").unwrap())
}

/// Whether this test run keeps its stores in PostgreSQL.
#[allow(dead_code, reason = "for tests that differ by store")]
pub fn on_postgres() -> bool {
    std::env::var("TEST_STORE").as_deref() == Ok("postgres")
}

/// Runs `f` on a thread of its own, off the test's async runtime: the
/// PostgreSQL client blocks, as the command line does, and must not run on
/// the runtime's thread.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(f).join().expect("the blocking work panicked"))
}

/// Opens the store of `config` as the command line would.
pub fn open_store(config: &Config) -> Store {
    Store::open_with(&config.data_dir, config.store.options()).unwrap()
}

/// Creates the test users and tokens directly in the store, as the CLI would.
fn seed_accounts(config: &Config) -> Tokens {
    let store = open_store(config);
    let password = Password::parse(PASSWORD.into()).unwrap();
    for (name, role) in [
        ("owner", Role::Owner),
        ("alice", Role::Staff),
        ("gone", Role::Staff),
    ] {
        local::add_user(&store, Username::parse(name).unwrap(), role, &password).unwrap();
    }
    let scoped = |name: &str, role: Role, user: Option<&str>, scopes: &[Scope]| {
        local::create_token(
            &store,
            TokenRequest {
                name: TokenName::parse(name).unwrap(),
                role,
                scopes: scopes.to_vec(),
                expires_at: None,
                user: user.map(|u| Username::parse(u).unwrap()),
            },
        )
        .unwrap()
        .secret
    };
    let token = |name: &str, role: Role, user: Option<&str>| scoped(name, role, user, &[]);
    let tokens = Tokens {
        stock_clerk: scoped(
            "clerk",
            Role::Staff,
            Some("alice"),
            &[Scope::Read, Scope::StockWrite],
        ),
        read_only_owner: scoped("owner-read", Role::Owner, None, &[Scope::Read]),
        viewer: token("viewer", Role::Viewer, None),
        staff: token("staff", Role::Staff, Some("alice")),
        owner: token("owner", Role::Owner, Some("owner")),
        revoked: token("revoked", Role::Staff, None),
        disabled_user: token("gone", Role::Staff, Some("gone")),
        expired: expired_token(&store),
    };
    local::revoke_token(&store, &TokenName::parse("revoked").unwrap()).unwrap();
    local::disable_user(&store, &Username::parse("gone").unwrap()).unwrap();
    tokens
}

/// A staff token that expired a minute ago, written as the store would hold it.
fn expired_token(store: &Store) -> String {
    let secret = quarry::auth::new_token();
    let now = Timestamp::now();
    let token = ApiToken {
        name: TokenName::parse("expired").unwrap(),
        role: Role::Staff,
        hash: quarry::auth::token_hash(&secret),
        user: None,
        scopes: Vec::new(),
        created_by: Actor::cli(),
        created_at: now - jiff::SignedDuration::from_hours(2),
        expires_at: Some(now - jiff::SignedDuration::from_mins(1)),
        last_used_at: None,
        revoked_at: None,
    };
    store
        .write(|tx| -> Result<(), quarry::store::StoreError> {
            tx.put_token(&token)?;
            tx.record(
                ChangeKind::TokenCreated,
                "expired",
                &Actor::cli(),
                &quarry::store::payloads::TokenCreated {
                    role: token.role,
                    scopes: Vec::new(),
                    expires_at: token.expires_at,
                    user: None,
                },
            )?;
            Ok(())
        })
        .unwrap();
    secret
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts Quarry with the default configuration changed by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_faulty(configure, None).await
    }

    /// Starts Quarry with its store's file operations going through `faults`
    /// (the embedded store: file faults are the data file's).
    pub async fn spawn_faulty(configure: impl FnOnce(&mut Config), faults: Option<Faults>) -> Self {
        let embedded = faults.is_some();
        Self::start(configure, faults, embedded).await
    }

    /// Starts Quarry on the embedded store whatever `TEST_STORE` says, for
    /// tests of the data file itself (restoring a backup into a data dir).
    pub async fn spawn_embedded(configure: impl FnOnce(&mut Config)) -> Self {
        Self::start(configure, None, true).await
    }

    async fn start(
        configure: impl FnOnce(&mut Config),
        faults: Option<Faults>,
        embedded: bool,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        configure(&mut config);
        if config.store.url.is_empty()
            && !embedded
            && let Some(url) = tokio::task::spawn_blocking(test_store_url).await.unwrap()
        {
            config.store.url = url;
        }
        let seeding = config.clone();
        let tokens = tokio::task::spawn_blocking(move || seed_accounts(&seeding))
            .await
            .unwrap();
        let server = quarry::http::start_with(config.clone(), faults.clone())
            .await
            .unwrap();
        let base = format!("http://{}", server.local_addr());
        Self {
            dir,
            config,
            server: Some(server),
            base,
            tokens,
            // Redirects are answers to check, not to follow.
            client: crate::helpers::http_client()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            sessions: tokio::sync::Mutex::default(),
            faults,
        }
    }

    /// A second node on the same store (PostgreSQL): its own data dir (search
    /// index), the same database, the same users and tokens.
    pub async fn second_node(&self) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            ..self.config.clone()
        };
        let server = quarry::http::start(config.clone()).await.unwrap();
        Self {
            base: format!("http://{}", server.local_addr()),
            dir,
            config,
            server: Some(server),
            tokens: self.tokens.clone(),
            client: self.client.clone(),
            sessions: tokio::sync::Mutex::default(),
            faults: None,
        }
    }

    /// Stops the server gracefully and starts it again on the same data dir.
    pub async fn restart(&mut self) {
        self.stop().await;
        let server = quarry::http::start_with(self.config.clone(), self.faults.clone())
            .await
            .unwrap();
        self.base = format!("http://{}", server.local_addr());
        self.server = Some(server);
    }

    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
    }

    pub fn token(&self, who: Who) -> Option<&str> {
        match who {
            Who::Anonymous | Who::StaffSession | Who::OwnerSession | Who::ContactSession => None,
            Who::Viewer => Some(&self.tokens.viewer),
            Who::Staff => Some(&self.tokens.staff),
            Who::Owner => Some(&self.tokens.owner),
            Who::Expired => Some(&self.tokens.expired),
            Who::Revoked => Some(&self.tokens.revoked),
            Who::DisabledUser => Some(&self.tokens.disabled_user),
            Who::Garbage => Some("qry_not-a-real-token"),
            Who::StockClerk => Some(&self.tokens.stock_clerk),
            Who::ReadOnlyOwner => Some(&self.tokens.read_only_owner),
        }
    }

    /// Signs in over the API, as a browser from Quarry's own page would.
    pub async fn login(&self, username: &str, password: &str) -> Resp {
        let request = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": username, "password": password}));
        respond(request).await
    }

    /// The browser session `who` stands for, signing in on first use.
    pub async fn session(&self, who: Who) -> Option<BrowserSession> {
        let user = who.session_user()?;
        let mut sessions = self.sessions.lock().await;
        if let Some(session) = sessions.get(&who) {
            return Some(session.clone());
        }
        if who == Who::ContactSession {
            self.trade_contact(CONTACT.1, user).await;
        }
        let resp = self.login(user, PASSWORD).await;
        assert_eq!(
            resp.status,
            StatusCode::OK,
            "signing in {user}: {}",
            resp.text
        );
        let session = BrowserSession {
            cookie: session_cookie(&resp).expect("login sets the session cookie"),
            csrf: resp.body["csrf_token"].as_str().unwrap().to_owned(),
        };
        sessions.insert(who, session.clone());
        Some(session)
    }

    /// Makes sure customer `customer` exists and has contact `login` with
    /// [`PASSWORD`]: staff create the customer and invite the contact, who
    /// accepts the invitation (as a browser would).
    pub async fn trade_contact(&self, customer: &str, login: &str) {
        let contacts = format!("/api/v1/customers/{customer}/contacts");
        let mut known = self.as_staff(Method::GET, &contacts, None).await;
        if known.status == StatusCode::NOT_FOUND {
            let made = self
                .as_staff(
                    Method::POST,
                    "/api/v1/customers",
                    Some(&json!({"code": customer, "name": format!("{customer} Ltd")})),
                )
                .await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
            known = self.as_staff(Method::GET, &contacts, None).await;
        }
        let exists = known.body["contacts"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["login"] == login));
        if exists {
            return;
        }
        let secret = self.invite(customer, login).await;
        let accepted = self.accept_invite(&secret, PASSWORD).await;
        assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text);
    }

    /// Staff invite `login` to customer `customer`: the link's secret.
    pub async fn invite(&self, customer: &str, login: &str) -> String {
        let invited = self
            .as_staff(
                Method::POST,
                &format!("/api/v1/customers/{customer}/invites"),
                Some(&json!({"email": login, "name": "Pat Buyer"})),
            )
            .await;
        assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
        let link = invited.body["link"].as_str().unwrap();
        link.split_once("/invite#").unwrap().1.to_owned()
    }

    /// Accepts an invitation with `password`, as the invitation page does.
    pub async fn accept_invite(&self, secret: &str, password: &str) -> Resp {
        let request = self
            .client
            .post(format!("{}/api/v1/auth/invite", self.base))
            .json(&json!({"token": secret, "password": password}));
        respond(request).await
    }

    /// A request with the staff token (never a session: signing a session
    /// in may itself need staff's requests).
    async fn as_staff(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.tokens.staff);
        if let Some(body) = body {
            request = request.json(body);
        }
        respond(request).await
    }

    /// Forgets `who`'s session, so the next request signs in again.
    pub async fn forget_session(&self, who: Who) {
        self.sessions.lock().await.remove(&who);
    }

    /// Sends a request; `body` goes as JSON.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        who: Who,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let request = self.client.request(method, format!("{}{path}", self.base));
        let mut request = self.authorize(request, who).await;
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        respond(request).await
    }

    /// Adds `who`'s credentials: a bearer token, or a session cookie with its
    /// CSRF token.
    pub async fn authorize(
        &self,
        mut request: reqwest::RequestBuilder,
        who: Who,
    ) -> reqwest::RequestBuilder {
        if let Some(token) = self.token(who) {
            request = request.bearer_auth(token);
        }
        if let Some(session) = self.session(who).await {
            request = request
                .header("cookie", &session.cookie)
                .header("x-csrf-token", &session.csrf)
                .header("origin", &self.base);
        }
        request
    }

    /// Uploads `csv` as the `file` part of a multipart form to `path`.
    pub async fn upload(&self, path: &str, who: Who, csv: &str) -> Resp {
        self.upload_with(path, who, csv, &[]).await
    }

    /// A request to `path` with `who`'s credentials, to finish and send with
    /// [`respond`].
    pub async fn request_as(
        &self,
        method: Method,
        path: &str,
        who: Who,
    ) -> reqwest::RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        self.authorize(request, who).await
    }

    /// Uploads `bytes` as the `file` part (named `file_name`, of type `mime`)
    /// of a multipart form, with an `alt` part when given.
    pub async fn upload_file(
        &self,
        path: &str,
        who: Who,
        (file_name, mime, bytes): (&str, &str, Vec<u8>),
        alt: Option<&str>,
    ) -> Resp {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(mime)
            .unwrap();
        let mut form = reqwest::multipart::Form::new().part("file", part);
        if let Some(alt) = alt {
            form = form.text("alt", alt.to_owned());
        }
        let request = self.client.post(format!("{}{path}", self.base));
        respond(self.authorize(request, who).await.multipart(form)).await
    }

    /// [`TestApp::upload`] with extra headers.
    pub async fn upload_with(
        &self,
        path: &str,
        who: Who,
        csv: &str,
        headers: &[(&str, &str)],
    ) -> Resp {
        let part = reqwest::multipart::Part::text(csv.to_owned())
            .file_name("upload.csv")
            .mime_str("text/csv")
            .unwrap();
        let form = reqwest::multipart::Form::new().part("file", part);
        let mut request = self.client.post(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        respond(self.authorize(request, who).await.multipart(form)).await
    }

    pub async fn get(&self, path: &str, who: Who) -> Resp {
        self.send(Method::GET, path, who, None, &[]).await
    }

    pub async fn post(&self, path: &str, who: Who, body: &Value) -> Resp {
        self.send(Method::POST, path, who, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, who: Who, body: &Value) -> Resp {
        self.send(Method::PATCH, path, who, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, who: Who, body: &Value) -> Resp {
        self.send(Method::PUT, path, who, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str, who: Who) -> Resp {
        self.send(Method::DELETE, path, who, None, &[]).await
    }

    /// Creates a product as staff and asserts it was created.
    pub async fn create_product(&self, product: &Value) -> Resp {
        let resp = self.post("/api/v1/products", Who::Staff, product).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);
        resp
    }

    /// Creates a location as staff and asserts it was created.
    pub async fn create_location(&self, code: &str, name: &str) -> Resp {
        let resp = self
            .post(
                "/api/v1/locations",
                Who::Staff,
                &json!({"code": code, "name": name}),
            )
            .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);
        resp
    }
}

/// A complete product body with the given SKU.
/// Sends a request and reads its response.
pub async fn respond(request: reqwest::RequestBuilder) -> Resp {
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

/// The `name=value` of the session cookie a response sets.
pub fn session_cookie(resp: &Resp) -> Option<String> {
    resp.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("quarry_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// A PNG photo of `width` × `height` whose pixels depend on `seed` (so two
/// seeds make two different photos).
pub fn png(seed: u8, width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        #[allow(clippy::cast_possible_truncation)]
        image::Rgb([seed, (x % 256) as u8, (y % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn sand(sku: &str) -> Value {
    json!({
        "sku": sku,
        "name": "Washed sand 0-4 mm",
        "description": "Clean river sand for concrete and screed.",
        "category": "Aggregates/Sand",
        "tags": ["washed", "concrete"],
        "attributes": {"grain_size": "0-4 mm"},
        "unit": "t",
        "density_kg_m3": "1600",
        "price": "38.00",
        "cost": "21.40",
        "notes": "Supplier: Pit 3, call before noon",
    })
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct Sse {
    pub id: u64,
    pub event: String,
    pub data: Value,
}

/// An open event stream.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// The next event, skipping keep-alive comments; `None` on timeout or end.
    pub async fn next(&mut self, wait: std::time::Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut event = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        v.clone_into(&mut event);
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if let Some(id) = id {
                    return Some(Sse {
                        id,
                        event,
                        data: serde_json::from_str(&data).unwrap_or(Value::Null),
                    });
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Collects events until `n` arrived or `wait` passed without one.
    pub async fn take(&mut self, n: usize, wait: std::time::Duration) -> Vec<Sse> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.next(wait).await {
                Some(event) => out.push(event),
                None => break,
            }
        }
        out
    }
}

impl TestApp {
    /// Sends a request and returns once the headers are in, without the body.
    pub async fn send_head(&self, method: Method, path: &str, who: Who) -> (StatusCode, HeaderMap) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = self.token(who) {
            request = request.bearer_auth(token);
        }
        if let Some(session) = self.session(who).await {
            request = request
                .header("cookie", &session.cookie)
                .header("x-csrf-token", &session.csrf)
                .header("origin", &self.base);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.headers().clone())
    }

    /// Opens `/api/v1/events` (with `Last-Event-ID` when given).
    pub async fn events(&self, who: Who, last_event_id: Option<u64>) -> EventStream {
        let mut request = self.client.get(format!("{}/api/v1/events", self.base));
        if let Some(token) = self.token(who) {
            request = request.bearer_auth(token);
        }
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// Books a movement as staff and asserts it was booked.
    pub async fn book(&self, movement: &Value) -> Resp {
        let resp = self.post("/api/v1/movements", Who::Staff, movement).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);
        resp
    }

    /// The stock row of `sku` at `location` as (`on_hand`, reserved, available).
    pub async fn level(&self, sku: &str, location: &str) -> (String, String, String) {
        let resp = self
            .get(
                &format!("/api/v1/stock?sku={sku}&location={location}"),
                Who::Viewer,
            )
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
        match resp.body["items"].as_array().unwrap().first() {
            Some(row) => (
                row["on_hand"].as_str().unwrap().to_owned(),
                row["reserved"].as_str().unwrap().to_owned(),
                row["available"].as_str().unwrap().to_owned(),
            ),
            None => ("0".into(), "0".into(), "0".into()),
        }
    }

    /// Lets `sku` be shipped and reserved beyond what is available.
    pub async fn allow_backorder(&self, sku: &str) {
        let resp = self
            .patch(
                &format!("/api/v1/products/{sku}"),
                Who::Staff,
                &json!({"allow_backorder": true}),
            )
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    }

    /// A product and the locations YARD and WH1, ready for stock.
    pub async fn stock_setup(&self) {
        self.create_product(&sand("SAND-04")).await;
        self.create_location("YARD", "Main yard").await;
        self.create_location("WH1", "Warehouse 1").await;
    }
}

/// A one-line movement.
pub fn movement(kind: &str, location: &str, sku: &str, quantity: &str) -> Value {
    json!({"kind": kind, "location": location, "lines": [{"sku": sku, "quantity": quantity}]})
}

impl TestApp {
    /// Stops the server and asserts `quarry check` finds nothing wrong.
    pub async fn stop_and_check(mut self) {
        self.stop().await;
        let report = self.check();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }

    /// What `quarry check` finds in the store (of a stopped server).
    pub fn check(&self) -> quarry::store::CheckReport {
        off_runtime(|| {
            quarry::store::check_with(&self.config.data_dir, &self.config.store.options()).unwrap()
        })
    }
}

impl TestApp {
    /// Loads the demo catalogue's hand-written base (about 75 products).
    pub async fn load_base_catalogue(&self) {
        for base in quarry::demo::BASE {
            self.create_product(&quarry::demo::product_json(base)).await;
        }
    }

    /// Searches as `who`; asserts success.
    pub async fn search(&self, query: &str, who: Who) -> Resp {
        let path = format!("/api/v1/search?{query}");
        let resp = self.get(&path, who).await;
        assert_eq!(resp.status, StatusCode::OK, "{path}: {}", resp.text);
        resp
    }

    /// The SKUs of the hits of a search.
    pub async fn search_skus(&self, query: &str, who: Who) -> Vec<String> {
        let resp = self.search(query, who).await;
        resp.body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["sku"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Waits (up to 5 s) until `check` holds for the hits of a search: the index
    /// follows the store a moment after each commit.
    pub async fn eventually(
        &self,
        query: &str,
        who: Who,
        check: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let skus = self.search_skus(query, who).await;
            if check(&skus) || tokio::time::Instant::now() > deadline {
                return skus;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// URL-encodes a query value.
pub fn q(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A builder of HTTP clients for the tests. reqwest is built with TLS and no
/// crypto provider of its own (Quarry brings ring): it is installed first.
pub fn http_client() -> reqwest::ClientBuilder {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
