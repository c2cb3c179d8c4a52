//! Mail arriving at a real SMTP server: aiosmtpd (tests/mail/sink.py),
//! started by each test on a free loopback port. scripts/mail-test installs
//! aiosmtpd in a virtualenv and runs these with `QUARRY_TEST_AIOSMTPD` set to
//! its Python; without it they fail (they are never skipped). Built only with
//! the `smtp-tests` feature, so `cargo test` needs nothing but the toolchain.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use helpers::{PASSWORD, TestApp, Who, sand};

/// A running sink and the file it writes messages to.
struct Sink {
    child: Child,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sink {
    /// Starts the sink on `port`, requiring `auth` (`user:password`) if given.
    fn start(port: u16, auth: Option<&str>) -> Self {
        let python = std::env::var("QUARRY_TEST_AIOSMTPD").expect(
            "QUARRY_TEST_AIOSMTPD names the Python that has aiosmtpd: run these tests with scripts/mail-test",
        );
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("received.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mail/sink.py");
        let mut command = Command::new(python);
        command
            .arg(script)
            .arg(port.to_string())
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(auth) = auth {
            command.arg(auth);
        }
        let mut child = command.spawn().expect("the sink starts");
        let mut ready = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready", "the sink did not start");
        Self {
            child,
            out,
            _dir: dir,
        }
    }

    /// Every message received so far.
    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// Waits (up to 20 s) until `n` messages arrived; all of them.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() > deadline {
                assert!(
                    got.len() >= n,
                    "{} of {n} messages arrived: {got:?}",
                    got.len()
                );
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A shop whose mail goes to `127.0.0.1:port` as `shop` with password
/// `secret`, retried after a second or two.
async fn shop_mailing(port: u16) -> TestApp {
    TestApp::spawn_with(move |c| {
        c.mail.smtp_url = Some(format!(
            "smtp://shop%40example.com:s3cret@127.0.0.1:{port}?tls=none"
        ));
        c.mail.from = Some("Yard <shop@example.com>".into());
        c.mail.retry_first_secs = 1;
        c.mail.retry_max_secs = 2;
        c.public_base_url = Some("https://shop.example.com".into());
    })
    .await
}

async fn stocked(app: &TestApp) {
    app.create_product(&sand("SAND-04")).await;
    app.create_location("YARD", "Main yard").await;
}

/// The outbox's message `id`, once `check` holds (up to 20 s).
async fn message_when(app: &TestApp, id: u64, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let listed = app.get("/api/v1/mail?limit=200", Who::Owner).await;
        let found = listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("message {id} is not in the outbox: {}", listed.text));
        if check(&found) {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "{found}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The quote link in a message's text, with the secret after `/q/`.
fn quote_link(text: &str) -> (String, String) {
    let link = text
        .lines()
        .find(|l| l.starts_with("https://shop.example.com/q/"))
        .unwrap_or_else(|| panic!("no quote link in {text}"))
        .to_owned();
    let secret = link.rsplit('/').next().unwrap().to_owned();
    (link, secret)
}

#[tokio::test]
async fn a_customers_quote_link_arrives_by_mail_and_opens_the_quote() {
    let port = free_port();
    let sink = Sink::start(port, Some("shop@example.com:s3cret"));
    let app = shop_mailing(port).await;
    stocked(&app).await;
    let made = app
        .post(
            "/api/v1/quotes",
            Who::Anonymous,
            &json!({"lines": [{"sku": "SAND-04", "quantity": "2"}],
                    "contact": {"name": "Sam Builder", "email": "sam@example.com"}}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let number = made.body["number"].as_str().unwrap();
    let got = sink.wait_for(1).await;
    let mail = &got[0];
    assert_eq!(mail["rcpt_tos"], json!(["sam@example.com"]));
    assert_eq!(mail["mail_from"], "shop@example.com");
    assert_eq!(mail["from"], "Yard <shop@example.com>");
    assert_eq!(
        mail["authenticated_as"], "shop@example.com",
        "the URL's credentials are used"
    );
    assert_eq!(mail["subject"], format!("Your quote {number} from Quarry"));
    let text = mail["text"].as_str().unwrap();
    assert!(text.starts_with("Hello Sam Builder,"), "{text}");
    let (link, secret) = quote_link(text);
    assert!(
        mail["html"]
            .as_str()
            .unwrap()
            .contains(&format!("href=\"{link}\"")),
        "{mail}"
    );
    // The mailed link is the customer's: it opens the quote.
    let opened = app
        .get(&format!("/api/v1/quotes/link/{secret}"), Who::Anonymous)
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    assert_eq!(opened.body["number"], number);
    // The outbox says it was sent, once.
    let id = made.body["mail"]["id"].as_u64().unwrap();
    let sent = message_when(&app, id, |m| m["state"] == "sent").await;
    assert_eq!(sent["attempts"], 1, "{sent}");
    assert!(sent["sent_at"].is_string(), "{sent}");
    assert_eq!(sent["last_error"], Value::Null);

    // Staff e-mail a new link: it arrives, opens the quote, and the first
    // one no longer does.
    let relinked = app
        .post(
            &format!("/api/v1/quotes/{number}/link?email=true"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(
        relinked.body["mail"]["state"], "queued",
        "{}",
        relinked.text
    );
    let got = sink.wait_for(2).await;
    let (_, new_secret) = quote_link(got[1]["text"].as_str().unwrap());
    assert_ne!(new_secret, secret);
    let old = app
        .get(&format!("/api/v1/quotes/link/{secret}"), Who::Anonymous)
        .await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let new = app
        .get(&format!("/api/v1/quotes/link/{new_secret}"), Who::Anonymous)
        .await;
    assert_eq!(new.status, StatusCode::OK);
}

#[tokio::test]
async fn with_the_mail_server_down_for_a_while_the_message_arrives_once_it_is_up() {
    let port = free_port();
    let mut app = shop_mailing(port).await;
    stocked(&app).await;
    let made = app
        .post(
            "/api/v1/quotes",
            Who::Anonymous,
            &json!({"lines": [{"sku": "SAND-04", "quantity": "1"}],
                    "contact": {"name": "Sam", "email": "sam@example.com"}}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let id = made.body["mail"]["id"].as_u64().unwrap();
    // Nothing listens: attempts fail and are retried.
    let failing = message_when(&app, id, |m| m["attempts"].as_u64() >= Some(2)).await;
    assert_eq!(failing["state"], "queued", "{failing}");
    assert!(failing["last_error"].is_string(), "{failing}");
    // A restart keeps the message (the outbox is in the store).
    app.restart().await;
    let sink = Sink::start(port, Some("shop@example.com:s3cret"));
    let got = sink.wait_for(1).await;
    assert_eq!(got[0]["rcpt_tos"], json!(["sam@example.com"]));
    let sent = message_when(&app, id, |m| m["state"] == "sent").await;
    assert!(sent["attempts"].as_u64() >= Some(3), "{sent}");
    // Once: nothing more arrives after it was sent.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.received().len(), 1, "{:?}", sink.received());
}

#[tokio::test]
async fn a_mailed_password_reset_link_sets_a_new_password() {
    let port = free_port();
    let sink = Sink::start(port, Some("shop@example.com:s3cret"));
    let app = shop_mailing(port).await;
    let ana = json!({"username": "ana", "password": PASSWORD, "role": "staff",
                     "email": "ana@example.com"});
    assert_eq!(
        app.post("/api/v1/users", Who::Owner, &ana).await.status,
        StatusCode::CREATED
    );
    let asked = app
        .post(
            "/api/v1/auth/forgot",
            Who::Anonymous,
            &json!({"username": "ana"}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.text);
    let got = sink.wait_for(1).await;
    assert_eq!(got[0]["rcpt_tos"], json!(["ana@example.com"]));
    let text = got[0]["text"].as_str().unwrap();
    let link = text
        .lines()
        .find(|l| l.starts_with("https://shop.example.com/reset#"))
        .unwrap_or_else(|| panic!("no reset link in {text}"));
    let token = link.rsplit('#').next().unwrap();
    let reset = app
        .post(
            "/api/v1/auth/reset",
            Who::Anonymous,
            &json!({"token": token, "password": "a fresh long passphrase"}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.text);
    assert_eq!(
        app.login("ana", "a fresh long passphrase").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_recipient_the_server_refuses_for_good_fails_without_retrying() {
    let port = free_port();
    let sink = Sink::start(port, Some("shop@example.com:s3cret"));
    let app = shop_mailing(port).await;
    let queued = app
        .post(
            "/api/v1/mail/test",
            Who::Owner,
            &json!({"to": "refuse@example.com"}),
        )
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.text);
    let id = queued.body["id"].as_u64().unwrap();
    let failed = message_when(&app, id, |m| m["state"] == "failed").await;
    assert_eq!(failed["attempts"], 1, "{failed}");
    assert!(
        failed["last_error"].as_str().unwrap().contains("550"),
        "{failed}"
    );
    // A test message to an address it takes arrives.
    let ok = app
        .post(
            "/api/v1/mail/test",
            Who::Owner,
            &json!({"to": "owner@example.com"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED);
    let got = sink.wait_for(1).await;
    assert_eq!(got[0]["subject"], "Test message from Quarry");
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn the_low_stock_digest_lists_what_is_below_its_reorder_point_once_a_day() {
    let port = free_port();
    let sink = Sink::start(port, Some("shop@example.com:s3cret"));
    let mut app = TestApp::spawn().await;
    let mut low = sand("SAND-04");
    low["reorder_point"] = json!("10");
    app.create_product(&low).await;
    let mut fine = sand("SAND-05");
    fine["reorder_point"] = json!("1");
    app.create_product(&fine).await;
    app.create_location("YARD", "Main yard").await;
    for sku in ["SAND-04", "SAND-05"] {
        let booked = app
            .book(&json!({"kind": "receive", "location": "YARD",
                           "lines": [{"sku": sku, "quantity": "4"}]}))
            .await;
        assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    }
    // Mail with a digest due from midnight (UTC) on: queued at start.
    app.config.mail.smtp_url = Some(format!(
        "smtp://shop%40example.com:s3cret@127.0.0.1:{port}?tls=none"
    ));
    app.config.mail.from = Some("Yard <shop@example.com>".into());
    app.config.mail.low_stock_to = vec!["owner@example.com".into(), "buyer@example.com".into()];
    app.config.mail.low_stock_hour_utc = 0;
    app.restart().await;
    let got = sink.wait_for(2).await;
    let mut to: Vec<&str> = got
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().unwrap())
        .collect();
    to.sort_unstable();
    assert_eq!(to, ["buyer@example.com", "owner@example.com"]);
    let text = got[0]["text"].as_str().unwrap();
    assert!(text.contains("SAND-04"), "{text}");
    assert!(text.contains("(YARD): 4 t, reorder point 10"), "{text}");
    assert!(!text.contains("SAND-05"), "above its reorder point: {text}");
    assert!(
        got[0]["subject"]
            .as_str()
            .unwrap()
            .contains("(1 to reorder)"),
        "{}",
        got[0]["subject"]
    );
    // Once a day: a restart queues no second one.
    app.restart().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.received().len(), 2);
}
