//! The command line (clap): `quarry serve`, `demo`, `user`, `token`, `config`,
//! `check`, `reindex`, `backup`, `restore`, `compact`, `import`, `export`.
//! Global flags go before or after the subcommand.
//!
//! Commands that write (`user`, `token`) open the data file themselves, and the
//! file admits one process at a time: while `quarry serve` runs on the same data
//! dir they stop with a clear message and change nothing. Stop the server first,
//! or make the change through the HTTP API.

mod demo;
mod operations;
mod webhook;

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use jiff::Timestamp;
use tracing_subscriber::EnvFilter;

use crate::app::accounts::{TokenRequest, local};
use crate::config::{self, Config, LogFormat, Overrides};
use crate::domain::accounts::{Password, Role, Scope, TokenName, Username};
use crate::store::{self, Store};

#[derive(Debug, Parser)]
#[command(
    name = "quarry",
    version,
    about = "Stock, catalogue and quoting for businesses that sell by weight, volume, length or piece.",
    long_about = None,
)]
pub struct Cli {
    /// Configuration file (TOML). `quarry config default` prints a documented one.
    #[arg(long, global = true, env = "QUARRY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory holding Quarry's data [default: ./quarry-data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Keep the store in this PostgreSQL database instead of the data dir's
    /// file (libpq URL; also `[store] url`, `QUARRY_STORE_URL`)
    #[arg(long, global = true, value_name = "URL")]
    pub store_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (API and UI); creates the data dir on first run.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Run a demo shop: a generated building-materials yard (products,
    /// stock, 90 days of history, quotes) in a temporary data dir, with an
    /// owner and a staff login printed at start. Fully offline.
    Demo {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Keep the demo's data in DIR (made on first run, reused after)
        /// instead of a temporary directory.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage webhook endpoints (signed messages to other systems), and
    /// verify a message as a receiver would.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Print configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Rebuild the search index from the store. Works while `serve` runs on the
    /// same data dir: the server builds the new index aside and swaps it in.
    Reindex,
    /// Verify the store (integrity, schema version, change log, indexes, and that
    /// every stock level equals the sum of its ledger); exits non-zero with a
    /// report when something is wrong.
    Check,
    /// Write a backup of the store to FILE: one file with a consistent
    /// snapshot, its schema version and a checksum. Works while `serve` runs
    /// on the same data dir (writes go on meanwhile).
    Backup {
        /// The backup file to write (replaced if it exists).
        file: PathBuf,
    },
    /// Make a backup the store of the data dir (`--data-dir`). The backup is
    /// checked whole first; the search index is rebuilt on the next start.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Replace the data of a data dir that is not empty.
        #[arg(long)]
        force: bool,
    },
    /// Reclaim free space in the data file (stop the server first); prints
    /// the sizes before and after.
    Compact,
    /// Copy the store between the data dir's file and PostgreSQL, with
    /// progress, checking the copy as `quarry check` does: `--to URL` copies
    /// the data dir's store (stop its server first) into an empty PostgreSQL
    /// database; `--from URL` copies a PostgreSQL store into an empty data dir.
    Migrate {
        /// The PostgreSQL database to copy the data dir's store into.
        #[arg(
            long,
            value_name = "URL",
            conflicts_with = "from",
            required_unless_present = "from"
        )]
        to: Option<String>,
        /// The PostgreSQL database to copy into the data dir.
        #[arg(long, value_name = "URL")]
        from: Option<String>,
    },
    /// Import a CSV file: products (created or replaced by SKU), stock
    /// (counted levels, booked as `adjust` movements) or movements. All or
    /// nothing unless --skip-invalid; bad rows are listed with their row
    /// number, column and reason, and the exit code is non-zero.
    Import {
        /// products, stock, movements, customers or price-lists
        #[arg(value_name = "WHAT")]
        kind: String,
        /// The CSV file (UTF-8, a header row first).
        file: PathBuf,
        /// Check every row and report; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the good rows even when some are bad.
        #[arg(long)]
        skip_invalid: bool,
        /// The reference stock counts are booked with [default: import]
        #[arg(long, value_name = "TEXT", value_parser = crate::domain::ledger::Reference::parse)]
        reference: Option<crate::domain::ledger::Reference>,
        /// How the file writes decimals: dot (2.5) or comma (2,5) [default:
        /// as the shop's locale does]. Cells may be separated by `,` or `;`.
        #[arg(long, value_name = "MARK")]
        decimal: Option<crate::domain::locale::DecimalMark>,
    },
    /// Export products, stock, movements, quotes, customers or price lists from one consistent
    /// snapshot. Product, stock and movement CSV files import back as they are.
    Export {
        /// products, stock, movements, quotes, customers or price-lists
        #[arg(value_name = "WHAT")]
        kind: String,
        /// csv or json
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// How a CSV file writes decimals: dot (2.5, cells separated by
        /// commas) or comma (2,5, cells separated by semicolons) [default: as
        /// the shop's locale does].
        #[arg(long, value_name = "MARK")]
        decimal: Option<crate::domain::locale::DecimalMark>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. Asks for the password twice unless --password-stdin.
    Add {
        /// Login name: letters, digits, '.', '_' or '-'.
        #[arg(long, value_name = "NAME")]
        username: String,
        /// owner (everything), staff (catalogue and stock) or viewer (read only).
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Set a user's password; the user's sessions end and tokens stop working.
    Passwd {
        /// The user.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user; the user's sessions end and tokens stop working.
    Disable {
        /// The user.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it, once, alone on the last line.
    Create {
        /// Name to list and revoke the token by.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// owner, staff or viewer.
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Lifetime such as 90d, 12h or 1y [default: never expires]
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
        /// The user the token acts for: disabling the user stops it.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Narrow the token to this scope (repeat for more): read,
        /// catalogue:write, stock:write or quotes:write [default: all the
        /// role allows]
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token at once.
    Revoke {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// List the endpoints and where their delivery stands.
    List,
    /// Add an endpoint and print its signing secret, once, alone on the last
    /// line. It gets the events that happen from now on.
    Add {
        /// Where messages are sent: https:// (plain http:// where the
        /// settings allow it).
        #[arg(long, value_name = "URL")]
        url: String,
        /// An event (movement.booked), a family (quote.*) or *; repeat for more.
        #[arg(long = "event", value_name = "EVENT", required = true)]
        events: Vec<String>,
        #[arg(long, value_name = "TEXT", default_value = "")]
        description: String,
        /// Send staff-only fields (costs, customers' contact details).
        #[arg(long)]
        trusted: bool,
        /// Add it paused.
        #[arg(long)]
        paused: bool,
    },
    /// Stop sending to an endpoint (its cursor stays).
    Pause { id: u64 },
    /// Send to an endpoint again, from its cursor (a failing one too).
    Resume { id: u64 },
    /// Give an endpoint a new secret, printed once; the old one signs too for
    /// 24 hours.
    Rotate { id: u64 },
    /// Send an endpoint's events again from a change-log seq or a time.
    Replay {
        id: u64,
        #[arg(
            long,
            value_name = "SEQ",
            conflicts_with = "from",
            required_unless_present = "from"
        )]
        from_seq: Option<u64>,
        /// RFC 3339, such as 2026-12-01T00:00:00Z.
        #[arg(long, value_name = "TIME")]
        from: Option<Timestamp>,
    },
    /// Remove an endpoint and its delivery log.
    Remove { id: u64 },
    /// Check a received message's signature as a receiver should (the body
    /// from FILE, or standard input): exits 0 when it is genuine and fresh.
    Verify {
        /// The endpoint's secret (whsec_…).
        #[arg(long, env = "WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
        /// The webhook-id header.
        #[arg(long)]
        id: String,
        /// The webhook-timestamp header.
        #[arg(long)]
        timestamp: i64,
        /// The webhook-signature header.
        #[arg(long)]
        signature: String,
        /// The body as received [default: standard input]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the documented example configuration (all defaults).
    Default,
    /// Print the configuration in effect after files, environment and flags.
    Show,
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let listen = match &cli.command {
        Command::Serve { listen } | Command::Demo { listen, .. } => *listen,
        _ => None,
    };
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        listen,
        store: cli
            .store_url
            .clone()
            .map(|url| config::StoreOverrides { url }),
    };
    if let Command::Webhook {
        command: WebhookCommand::Verify { .. },
    } = &cli.command
    {
        let Command::Webhook { command } = cli.command else {
            unreachable!()
        };
        return webhook::verify(command);
    }
    if let Command::Config {
        command: ConfigCommand::Default,
    } = cli.command
    {
        print!("{}", config::EXAMPLE);
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    match cli.command {
        Command::Serve { .. } => serve(config),
        Command::Demo { keep, .. } => demo::demo(config, keep),
        Command::User { command } => user(&config, command),
        Command::Token { command } => token(&config, command),
        Command::Webhook { command } => webhook::run(&config, command),
        Command::Config { command } => {
            match command {
                ConfigCommand::Default => print!("{}", config::EXAMPLE),
                ConfigCommand::Show => print!("{}", config.to_toml()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => check(&config),
        Command::Reindex => reindex(&config),
        Command::Backup { file } => operations::backup(&config, &file),
        Command::Restore { file, force } => operations::restore(&config, &file, force),
        Command::Compact => operations::compact(&config),
        Command::Migrate { to, from } => operations::migrate(&config, to, from),
        Command::Import {
            kind,
            file,
            dry_run,
            skip_invalid,
            reference,
            decimal,
        } => {
            let options = crate::app::imports::ImportOptions {
                dry_run,
                skip_invalid,
                reference,
                decimal,
            };
            operations::import(&config, &kind, &file, &options)
        }
        Command::Export {
            kind,
            format,
            output,
            decimal,
        } => operations::export(&config, &kind, &format, decimal, output.as_deref()),
    }
}

pub(crate) fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to standard error, what the server tells its operator (the
    // demo's logins, the setup link) to standard output; a closed stream
    // loses lines, never stops the server.
    // Colour codes only on a terminal: a file, a pipe or the journal gets
    // plain text (and `NO_COLOR` turns them off on a terminal too).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    let _ = match config.log.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

fn serve(config: Config) -> anyhow::Result<ExitCode> {
    init_logging(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("quarry")
        .build()?;
    let served = runtime.block_on(async {
        // Caught from the start; one that comes while a large store opens
        // stops the server as soon as it is up, cleanly.
        let stop = crate::http::shutdown_signal();
        let data_dir = config.data_dir.clone();
        let server = crate::http::start(config).await?;
        tracing::info!(
            url = %server.url(),
            data_dir = %data_dir.display(),
            "Quarry is serving"
        );
        if let Some(secret) = server.app().issue_setup_link().await? {
            let base = server
                .app()
                .config()
                .public_base_url
                .clone()
                .unwrap_or_else(|| server.url());
            tell(&format!(
                "No owner account yet. Within an hour, open this link to create the first owner \
                 (it works once; or run `quarry user add --role owner`):\n\n    {}/setup#{secret}\n\n",
                base.trim_end_matches('/')
            ));
        }
        server.run_until(stop).await
    });
    end_runtime(runtime);
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Prints what a running server tells its operator. Best effort: a closed
/// standard output (`quarry demo | head -3`) must not stop a server.
fn tell(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        tracing::warn!(%error, "could not print to standard output");
    }
}

/// Stops the runtime once the server has ended. Work still on its blocking
/// threads (a stream's read, a request's snapshot) gets a moment, never the
/// power to keep the process alive: dropping a runtime would wait for it
/// without end.
fn end_runtime(runtime: tokio::runtime::Runtime) {
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
}

pub(super) fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open_with(&config.data_dir, config.store.options()).with_context(|| {
        format!(
            "cannot open the store in {}",
            config.store.describe(&config.data_dir)
        )
    })
}

fn parse<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> anyhow::Result<T> {
    result.map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

fn user(config: &Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add {
            username,
            role,
            password_stdin,
        } => {
            let username = parse("--username", Username::parse(&username))?;
            let role: Role = parse("--role", role.parse())?;
            let store = open_store(config)?;
            let password = read_password(password_stdin, &username, &config.shop.name)?;
            let user = local::add_user(&store, username, role, &password)?;
            println!("Created user {} with role {}.", user.username, user.role);
        }
        UserCommand::List => {
            let store = open_store(config)?;
            let users = local::list_users(&store)?;
            println!("{:<24} {:<8} {:<9} CREATED", "USERNAME", "ROLE", "STATUS");
            for u in users {
                let status = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:<24} {:<8} {:<9} {}",
                    u.username,
                    u.role,
                    status,
                    u.created_at.strftime("%Y-%m-%d %H:%M")
                );
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let username = parse("user", Username::parse(&name))?;
            let store = open_store(config)?;
            let password = read_password(password_stdin, &username, &config.shop.name)?;
            local::set_password(&store, &username, &password)?;
            println!(
                "Password of {username} changed; the user's sessions ended and tokens were revoked."
            );
        }
        UserCommand::Disable { name } => {
            let username = parse("user", Username::parse(&name))?;
            let store = open_store(config)?;
            local::disable_user(&store, &username)?;
            println!(
                "User {username} disabled; the user's sessions ended and tokens were revoked."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads `user`'s new password from stdin's first line, or asks twice on the
/// terminal; refuses common passwords and ones built from the username or the
/// shop's name.
fn read_password(from_stdin: bool, user: &Username, shop: &str) -> anyhow::Result<Password> {
    let raw = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!("no terminal to ask for the password on; pass --password-stdin");
        }
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            bail!("the passwords do not match; nothing was changed");
        }
        first
    };
    parse("password", crate::auth::new_password(raw, user, shop))
}

/// Parses a lifetime such as `90d`, `12h`, `1y` or `2w`.
fn parse_lifetime(text: &str) -> anyhow::Result<Duration> {
    let lifetime = humantime::parse_duration(text.trim()).map_err(|e| {
        anyhow::anyhow!("--expires-in: {e}; write a lifetime such as 90d, 12h or 1y")
    })?;
    if lifetime.is_zero() {
        bail!("--expires-in must be longer than zero");
    }
    Ok(lifetime)
}

fn token(config: &Config, command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            name,
            role,
            expires_in,
            user,
            scopes,
        } => {
            let name = parse("--name", TokenName::parse(&name))?;
            let scopes = scopes
                .iter()
                .map(|s| parse("--scope", s.parse::<Scope>()))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let role: Role = parse("--role", role.parse())?;
            parse("--scope", Scope::check_all(role, &scopes))?;
            let user = user
                .map(|u| parse("--user", Username::parse(&u)))
                .transpose()?;
            let expires_at = expires_in
                .as_deref()
                .map(|text| -> anyhow::Result<Timestamp> {
                    let lifetime = jiff::SignedDuration::try_from(parse_lifetime(text)?)?;
                    Ok(Timestamp::now().checked_add(lifetime)?)
                })
                .transpose()?;
            let store = open_store(config)?;
            let token = local::create_token(
                &store,
                TokenRequest {
                    name,
                    role,
                    scopes,
                    expires_at,
                    user,
                },
            )?;
            let expiry = token.view.expires_at.map_or_else(
                || "never expires".to_owned(),
                |at| format!("expires {}", at.strftime("%Y-%m-%d %H:%M UTC")),
            );
            println!(
                "Created token {} with role {} ({expiry}).",
                token.view.name, token.view.role
            );
            println!("It is shown only this once; store it now:");
            println!("{}", token.secret);
            std::io::stdout().flush()?;
        }
        TokenCommand::List => {
            let store = open_store(config)?;
            println!(
                "{:<24} {:<8} {:<8} {:<17} {:<17} {:<17} SCOPES",
                "NAME", "ROLE", "STATUS", "CREATED", "EXPIRES", "LAST USED"
            );
            let when = |t: Option<Timestamp>| {
                t.map_or_else(
                    || "-".to_owned(),
                    |t| t.strftime("%Y-%m-%d %H:%M").to_string(),
                )
            };
            for t in local::list_tokens(&store)? {
                let scopes = if t.scopes.is_empty() {
                    "(all of the role)".to_owned()
                } else {
                    t.scopes
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                println!(
                    "{:<24} {:<8} {:<8} {:<17} {:<17} {:<17} {scopes}",
                    t.name,
                    t.role,
                    t.status,
                    when(Some(t.created_at)),
                    when(t.expires_at),
                    when(t.last_used_at)
                );
            }
        }
        TokenCommand::Revoke { name } => {
            let name = parse("token", TokenName::parse(&name))?;
            let store = open_store(config)?;
            local::revoke_token(&store, &name)?;
            println!("Token {name} revoked.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn reindex(config: &Config) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let options = crate::store::Options {
        lock_node: true,
        ..config.store.options()
    };
    match Store::open_with(&config.data_dir, options) {
        Ok(store) => {
            init_logging(config);
            eprintln!(
                "rebuilding the search index of {} …",
                config.data_dir.display()
            );
            let index_dir = config.data_dir.join("index");
            if index_dir.exists() {
                std::fs::remove_dir_all(&index_dir)
                    .with_context(|| format!("removing {}", index_dir.display()))?;
            }
            let index = crate::search::SearchIndex::open(&config.data_dir, &store)?;
            println!(
                "search index rebuilt at change {} in {:.1} s ({} KiB)",
                index.seq(),
                started.elapsed().as_secs_f64(),
                index.size_bytes() / 1024
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(crate::store::StoreError::InUse { .. }) => {
            eprintln!(
                "a server is running on {}: asking it to rebuild …",
                config.data_dir.display()
            );
            match crate::control::call(&config.data_dir, &crate::control::Request::Reindex)? {
                Some(reply) if reply.ok => {
                    println!(
                        "{} in {:.1} s",
                        reply.message,
                        started.elapsed().as_secs_f64()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(reply) => bail!("the server could not rebuild the index: {}", reply.message),
                None => bail!(
                    "the data file is in use, but no server answers on {}",
                    crate::control::socket_path(&config.data_dir).display()
                ),
            }
        }
        Err(error) => Err(error.into()),
    }
}

fn check(config: &Config) -> anyhow::Result<ExitCode> {
    let report =
        store::check_with(&config.data_dir, &config.store.options()).with_context(|| {
            format!(
                "cannot check the store in {}",
                config.store.describe(&config.data_dir)
            )
        })?;
    println!(
        "store:           {}",
        config.store.describe(&config.data_dir)
    );
    println!("schema version:  {}", report.schema_version);
    println!("change log:      {} entries", report.last_seq);
    println!(
        "records:         {} products, {} locations, {} users, {} tokens",
        report.products, report.locations, report.users, report.tokens
    );
    println!(
        "stock ledger:    {} movements; every level checked against their sum",
        report.movements
    );
    if report.problems.is_empty() {
        println!("ok: no problems found");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{} problem(s) found:", report.problems.len());
        for problem in &report.problems {
            println!("  - {problem}");
        }
        Ok(ExitCode::FAILURE)
    }
}
