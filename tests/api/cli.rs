//! The `quarry` executable: help, configuration precedence, users and tokens,
//! `check`, and what happens when it meets a running server.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;

use crate::helpers::sand;

pub fn quarry(args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quarry"));
    command
        .args(args)
        .env_remove("QUARRY_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    if let Some(input) = stdin {
        // The command may exit before reading (bad arguments): that is its answer.
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn dir_arg(dir: &Path) -> String {
    dir.to_str().unwrap().to_owned()
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["user", "--help"],
        vec!["user", "add", "--help"],
        vec!["user", "list", "--help"],
        vec!["user", "passwd", "--help"],
        vec!["user", "disable", "--help"],
        vec!["token", "--help"],
        vec!["token", "create", "--help"],
        vec!["token", "list", "--help"],
        vec!["token", "revoke", "--help"],
        vec!["webhook", "--help"],
        vec!["webhook", "add", "--help"],
        vec!["webhook", "verify", "--help"],
        vec!["config", "--help"],
        vec!["config", "default", "--help"],
        vec!["config", "show", "--help"],
        vec!["check", "--help"],
        vec!["reindex", "--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
        vec!["compact", "--help"],
    ] {
        let out = quarry(&args, &[], None);
        assert!(out.status.success(), "{args:?}");
        assert!(stdout(&out).contains("Usage:"), "{args:?}");
    }
}

#[test]
fn config_default_prints_the_documented_example() {
    let out = quarry(&["config", "default"], &[], None);
    assert!(out.status.success());
    assert_eq!(stdout(&out), quarry::config::EXAMPLE);
}

#[test]
fn settings_come_from_defaults_then_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quarry.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9001\"\ndata_dir = \"/from/file\"\n[shop]\nname = \"From file\"\ncurrency = \"GBP\"\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let show = |args: &[&str], envs: &[(&str, &str)]| {
        let mut all = vec!["--config", file];
        all.extend_from_slice(args);
        all.extend_from_slice(&["config", "show"]);
        let out = quarry(&all, envs, None);
        assert!(out.status.success(), "{}", stderr(&out));
        quarry::config::Config::from_toml(&stdout(&out)).unwrap()
    };

    let from_file = show(&[], &[]);
    assert_eq!(from_file.shop.name, "From file");
    assert_eq!(from_file.shop.currency, "GBP");
    assert_eq!(from_file.data_dir, Path::new("/from/file"));
    assert_eq!(from_file.log.level, "info", "defaults fill the rest");

    let from_env = show(
        &[],
        &[
            ("QUARRY_SHOP_NAME", "From env"),
            ("QUARRY_DATA_DIR", "/from/env"),
            ("QUARRY_LIMITS_BODY_BYTES", "2048"),
            ("QUARRY_METRICS_ACCESS", "off"),
        ],
    );
    assert_eq!(from_env.shop.name, "From env");
    assert_eq!(from_env.shop.currency, "GBP");
    assert_eq!(from_env.data_dir, Path::new("/from/env"));
    assert_eq!(from_env.limits.body_bytes, 2048);
    assert_eq!(from_env.metrics.access, quarry::config::MetricsAccess::Off);

    let from_flag = show(
        &["--data-dir", "/from/flag"],
        &[("QUARRY_DATA_DIR", "/from/env")],
    );
    assert_eq!(from_flag.data_dir, Path::new("/from/flag"));

    // The config file can also come from QUARRY_CONFIG.
    let out = quarry(&["config", "show"], &[("QUARRY_CONFIG", file)], None);
    assert!(stdout(&out).contains("From file"));
}

#[test]
fn an_unknown_key_or_bad_value_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[shop]\nnmae = \"typo\"\n").unwrap();
    let out = quarry(
        &["--config", file.to_str().unwrap(), "config", "show"],
        &[],
        None,
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("nmae") && err.contains("bad.toml"), "{err}");

    std::fs::write(&file, "[shop]\ncurrency = \"euros\"\n").unwrap();
    let out = quarry(
        &["--config", file.to_str().unwrap(), "config", "show"],
        &[],
        None,
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("shop.currency") && err.contains("bad.toml"),
        "{err}"
    );

    let out = quarry(
        &["config", "show"],
        &[("QUARRY_METRICS_ACCESS", "open")],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("metrics.listen"), "{}", stderr(&out));

    let out = quarry(&["config", "show"], &[("QUARRY_LOG_FORMAT", "xml")], None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("QUARRY_LOG_FORMAT") || stderr(&out).contains("log.format"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn users_and_tokens_made_on_the_command_line_work_against_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir_arg(&dir.path().join("data"));
    let out = quarry(
        &[
            "--data-dir",
            &data,
            "user",
            "add",
            "--username",
            "Owner",
            "--role",
            "owner",
            "--password-stdin",
        ],
        &[],
        Some("a long owner password\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = quarry(
        &[
            "token",
            "create",
            "--name",
            "ci",
            "--role",
            "staff",
            "--expires-in",
            "90d",
            "--data-dir",
            &data,
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let secret = printed.lines().last().unwrap().to_owned();
    assert!(
        secret.starts_with("qry_") && !secret.contains(' '),
        "{printed}"
    );

    let list = stdout(&quarry(&["--data-dir", &data, "token", "list"], &[], None));
    assert!(list.contains("ci") && list.contains("staff") && list.contains("active"));
    assert!(
        !list.contains(&secret),
        "token list must never show a secret"
    );
    let users = stdout(&quarry(&["--data-dir", &data, "user", "list"], &[], None));
    assert!(users.contains("owner") && users.contains("active"));

    let config = quarry::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    let server = quarry::http::start(config).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = crate::helpers::http_client().build().unwrap();
    let created = client
        .post(format!("{base}/api/v1/products"))
        .bearer_auth(&secret)
        .json(&sand("SAND-04"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    // While the server runs, writing commands refuse cleanly and change nothing.
    let busy = quarry(&["--data-dir", &data, "token", "revoke", "ci"], &[], None);
    assert!(!busy.status.success());
    assert!(
        stderr(&busy).contains("in use by another Quarry process"),
        "{}",
        stderr(&busy)
    );
    let still = client
        .get(format!("{base}/api/v1/locations"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), StatusCode::OK);
    server.shutdown().await.unwrap();

    let out = quarry(&["--data-dir", &data, "token", "revoke", "ci"], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = stdout(&quarry(&["--data-dir", &data, "token", "list"], &[], None));
    assert!(list.contains("revoked"), "{list}");

    let check = quarry(&["--data-dir", &data, "check"], &[], None);
    assert!(check.status.success(), "{}", stdout(&check));
    assert!(stdout(&check).contains("ok: no problems found"));
}

#[test]
fn passwd_and_disable_revoke_the_users_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir_arg(dir.path());
    let pw = Some("a long staff password\n");
    let add = quarry(
        &[
            "--data-dir",
            &data,
            "user",
            "add",
            "--username",
            "sam",
            "--role",
            "staff",
            "--password-stdin",
        ],
        &[],
        pw,
    );
    assert!(add.status.success(), "{}", stderr(&add));
    for name in ["t1", "t2"] {
        let out = quarry(
            &[
                "--data-dir",
                &data,
                "token",
                "create",
                "--name",
                name,
                "--role",
                "staff",
                "--user",
                "sam",
            ],
            &[],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = quarry(
        &[
            "--data-dir",
            &data,
            "user",
            "passwd",
            "sam",
            "--password-stdin",
        ],
        &[],
        Some("another long password\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let list = stdout(&quarry(&["--data-dir", &data, "token", "list"], &[], None));
    assert_eq!(list.matches("revoked").count(), 2, "{list}");

    let out = quarry(
        &[
            "--data-dir",
            &data,
            "token",
            "create",
            "--name",
            "t3",
            "--role",
            "staff",
            "--user",
            "sam",
        ],
        &[],
        None,
    );
    assert!(out.status.success());
    let out = quarry(&["--data-dir", &data, "user", "disable", "sam"], &[], None);
    assert!(out.status.success());
    let list = stdout(&quarry(&["--data-dir", &data, "token", "list"], &[], None));
    assert_eq!(list.matches("revoked").count(), 3, "{list}");
    let users = stdout(&quarry(&["--data-dir", &data, "user", "list"], &[], None));
    assert!(users.contains("disabled"));
    // A disabled user cannot get new tokens.
    let out = quarry(
        &[
            "--data-dir",
            &data,
            "token",
            "create",
            "--name",
            "t4",
            "--role",
            "staff",
            "--user",
            "sam",
        ],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("disabled"));
}

#[test]
#[allow(clippy::too_many_lines)] // a table of cases
fn bad_command_line_input_is_refused_with_a_reason_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir_arg(dir.path());
    let cases: [(&[&str], Option<&str>, &str); 6] = [
        (
            &[
                "user",
                "add",
                "--username",
                "bob",
                "--role",
                "admin",
                "--password-stdin",
            ],
            Some("long enough pw\n"),
            "unknown role",
        ),
        (
            &[
                "user",
                "add",
                "--username",
                "bob smith",
                "--role",
                "staff",
                "--password-stdin",
            ],
            Some("long enough pw\n"),
            "--username",
        ),
        (
            &[
                "user",
                "add",
                "--username",
                "bob",
                "--role",
                "staff",
                "--password-stdin",
            ],
            Some("short\n"),
            "at least 8",
        ),
        (
            &["user", "add", "--username", "bob", "--role", "staff"],
            None,
            "--password-stdin",
        ),
        (
            &[
                "token",
                "create",
                "--name",
                "x",
                "--role",
                "staff",
                "--expires-in",
                "soon",
            ],
            None,
            "--expires-in",
        ),
        (&["token", "revoke", "nothing"], None, "does not exist"),
    ];
    for (args, input, reason) in cases {
        let mut all = vec!["--data-dir", &data];
        all.extend_from_slice(args);
        let out = quarry(&all, &[], input);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(reason), "{args:?}: {}", stderr(&out));
    }
    let users = stdout(&quarry(&["--data-dir", &data, "user", "list"], &[], None));
    assert_eq!(users.lines().count(), 1, "only the header: {users}");
    let dup = quarry(
        &[
            "--data-dir",
            &data,
            "user",
            "add",
            "--username",
            "bob",
            "--role",
            "staff",
            "--password-stdin",
        ],
        &[],
        Some("long enough pw\n"),
    );
    assert!(dup.status.success());
    let dup = quarry(
        &[
            "--data-dir",
            &data,
            "user",
            "add",
            "--username",
            "BOB",
            "--role",
            "staff",
            "--password-stdin",
        ],
        &[],
        Some("long enough pw\n"),
    );
    assert!(!dup.status.success());
    assert!(stderr(&dup).contains("already exists"));
}

#[test]
fn check_reports_a_problem_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let missing = quarry(
        &["--data-dir", &dir_arg(&dir.path().join("none")), "check"],
        &[],
        None,
    );
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("no Quarry data file"),
        "{}",
        stderr(&missing)
    );

    // A file that is not a database at all.
    std::fs::write(
        dir.path().join(quarry::store::DB_FILE),
        b"this is not a redb file",
    )
    .unwrap();
    let garbage = quarry(&["--data-dir", &dir_arg(dir.path()), "check"], &[], None);
    assert!(!garbage.status.success());
}

#[tokio::test]
async fn reindex_works_offline_and_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = quarry::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.clone(),
        ..Default::default()
    };
    let store = quarry::store::Store::open(&data).unwrap();
    drop(store);
    let offline = quarry(&["--data-dir", &dir_arg(&data), "reindex"], &[], None);
    assert!(offline.status.success(), "{}", stderr(&offline));
    assert!(stdout(&offline).contains("search index rebuilt"));

    let server = quarry::http::start(config).await.unwrap();
    let data_arg = dir_arg(&data);
    let online = tokio::task::spawn_blocking(move || {
        quarry(&["--data-dir", &data_arg, "reindex"], &[], None)
    })
    .await
    .unwrap();
    assert!(online.status.success(), "{}", stderr(&online));
    assert!(
        stderr(&online).contains("a server is running"),
        "{}",
        stderr(&online)
    );
    assert!(
        stdout(&online).contains("swapped in"),
        "{}",
        stdout(&online)
    );
    server.shutdown().await.unwrap();
    assert!(
        !quarry::control::socket_path(&data).exists(),
        "the socket is removed at shutdown"
    );
}

#[test]
fn token_create_refuses_a_viewer_token_with_write_scopes() {
    // Issue "Hardening", item 11.
    let dir = tempfile::tempdir().unwrap();
    let data = dir_arg(dir.path());
    let create = |role: &str, scope: &str| {
        quarry(
            &[
                "--data-dir",
                &data,
                "token",
                "create",
                "--name",
                "kiosk",
                "--role",
                role,
                "--scope",
                "read",
                "--scope",
                scope,
            ],
            &[],
            None,
        )
    };
    let out = create("viewer", "catalogue:write");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--scope: a viewer token cannot use catalogue:write"),
        "{}",
        stderr(&out)
    );
    let list = stdout(&quarry(&["--data-dir", &data, "token", "list"], &[], None));
    assert!(!list.contains("kiosk"), "{list}");
    let out = create("staff", "catalogue:write");
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Every setting can be set by its `QUARRY_*` variable (none is taken for an
/// unknown key, as `QUARRY_STORE_CACHE_MB` once was).
#[test]
fn every_setting_is_read_from_its_environment_variable() {
    let defaults = serde_json::to_value(quarry::config::Config::default()).unwrap();
    let mut vars: Vec<(String, String)> = Vec::new();
    for (key, value) in defaults.as_object().unwrap() {
        let leaves: Vec<(String, &serde_json::Value)> = match value {
            serde_json::Value::Object(section) => section
                .iter()
                .map(|(name, v)| (format!("{key}_{name}"), v))
                .collect(),
            other => vec![(key.clone(), other)],
        };
        for (name, value) in leaves {
            let text = match value {
                serde_json::Value::String(s) if !s.is_empty() => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            vars.push((format!("QUARRY_{}", name.to_uppercase()), text));
        }
    }
    assert!(vars.len() > 20, "{}", vars.len());
    // Each variable set to its default is taken (an unknown key is refused)…
    let envs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = quarry(&["config", "show"], &envs, None);
    assert!(out.status.success(), "{}", stderr(&out));
    // …and a changed value reaches its setting.
    let out = quarry(
        &["config", "show"],
        &[
            ("QUARRY_STORE_CACHE_MB", "64"),
            ("QUARRY_LIMITS_EVENT_STREAMS", "40"),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = quarry::config::Config::from_toml(&stdout(&out)).unwrap();
    assert_eq!(shown.store.cache_mb, 64);
    assert_eq!(shown.limits.event_streams, 40);
}

#[test]
fn webhooks_are_managed_from_the_command_line_and_receivers_verify_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir_arg(&dir.path().join("data"));
    let base = ["--data-dir", data.as_str(), "webhook"];
    let run = |args: &[&str]| quarry(&[&base[..], args].concat(), &[], None);

    let refused = run(&["add", "--url", "http://10.0.0.1/", "--event", "*"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("url"), "{}", stderr(&refused));
    let added = run(&[
        "add",
        "--url",
        "https://accounts.example.com/hooks",
        "--event",
        "movement.booked",
        "--event",
        "quote.*",
        "--description",
        "Accounting",
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    let secret = stdout(&added).lines().last().unwrap().trim().to_owned();
    assert!(secret.starts_with("whsec_"), "{}", stdout(&added));
    let listed = run(&["list"]);
    let text = stdout(&listed);
    assert!(
        text.contains("https://accounts.example.com/hooks"),
        "{text}"
    );
    assert!(
        text.contains("active") && text.contains("movement.booked,quote.*"),
        "{text}"
    );
    assert!(!text.contains("whsec_"), "{text}");
    assert!(stdout(&run(&["pause", "1"])).contains("paused"));
    assert!(stdout(&run(&["resume", "1"])).contains("active"));
    let rotated = run(&["rotate", "1"]);
    let new = stdout(&rotated).lines().last().unwrap().trim().to_owned();
    assert!(
        new.starts_with("whsec_") && new != secret,
        "{}",
        stdout(&rotated)
    );
    let replayed = run(&["replay", "1", "--from-seq", "1"]);
    assert!(
        stdout(&replayed).contains("from seq 1"),
        "{}",
        stderr(&replayed)
    );
    assert!(!run(&["replay", "1"]).status.success());
    assert!(run(&["remove", "1"]).status.success());
    assert!(!run(&["remove", "1"]).status.success());
    assert!(!stdout(&run(&["list"])).contains("accounts.example.com"));

    // A receiver checks a message with `quarry webhook verify`.
    let body = r#"{"type":"movement.booked","seq":7,"data":{}}"#;
    let now = jiff::Timestamp::now().as_second();
    let signature = quarry::domain::webhooks::sign(&secret, "7", now, body.as_bytes()).unwrap();
    let stamp = now.to_string();
    let verify = |secret: &str, body: &str| {
        quarry(
            &[
                "webhook",
                "verify",
                "--secret",
                secret,
                "--id",
                "7",
                "--timestamp",
                &stamp,
                "--signature",
                &signature,
            ],
            &[],
            Some(body),
        )
    };
    let genuine = verify(&secret, body);
    assert!(genuine.status.success(), "{}", stderr(&genuine));
    assert!(stdout(&genuine).contains("Genuine"));
    let altered = verify(&secret, &body.replace('7', "8"));
    assert!(!altered.status.success());
    assert!(
        stderr(&altered).contains("Not genuine"),
        "{}",
        stderr(&altered)
    );
    assert!(!verify(&new, body).status.success());
}

#[test]
fn logs_written_to_a_file_carry_no_terminal_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = crate::crash::Server::start_with(
        &data,
        "127.0.0.1:0",
        &[("QUARRY_LOG_LEVEL", "info"), ("NO_COLOR", "")],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let log = loop {
        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
        if log.contains("Quarry is serving") {
            break log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start in 60 s:\n{log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    drop(server);
    assert!(log.contains("INFO"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file:\n{log:?}"
    );
}
