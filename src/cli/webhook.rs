//! `quarry webhook …`: endpoints from the command line (on the store, like
//! `quarry token`), and `verify` for receivers.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use jiff::Timestamp;

use super::{WebhookCommand, open_store};
use crate::app::webhooks::{self, WebhookInput, WebhookPatch, WebhookView};
use crate::config::Config;
use crate::domain::accounts::Actor;
use crate::domain::webhooks as signing;

fn show(hook: &WebhookView) {
    let status = serde_json::to_value(hook.status).expect("serializes");
    println!(
        "{:<5} {:<9} {:<8} {:<10} {:<50} {}",
        hook.id,
        status.as_str().unwrap_or_default(),
        hook.delivery.cursor,
        hook.behind,
        hook.url,
        hook.events.join(",")
    );
    if let Some(error) = &hook.delivery.last_error {
        println!("      last error: {error}");
    }
}

fn secret_once(what: &str, secret: Option<&str>) -> anyhow::Result<()> {
    println!("{what}");
    println!("The signing secret is shown only this once; store it now:");
    println!("{}", secret.unwrap_or_default());
    std::io::stdout().flush()?;
    Ok(())
}

pub fn run(config: &Config, command: WebhookCommand) -> anyhow::Result<ExitCode> {
    let settings = config.webhooks.clone();
    let actor = Actor::cli();
    let patch = |store: &crate::store::Store, id: u64, patch: WebhookPatch| {
        store.write(|tx| webhooks::update(tx, &actor, id, patch, &settings))
    };
    match command {
        WebhookCommand::List => {
            let store = open_store(config)?;
            println!(
                "{:<5} {:<9} {:<8} {:<10} {:<50} EVENTS",
                "ID", "STATUS", "CURSOR", "BEHIND", "URL"
            );
            for hook in webhooks::list(&store.read()?)? {
                show(&hook);
            }
        }
        WebhookCommand::Add {
            url,
            events,
            description,
            trusted,
            paused,
        } => {
            let store = open_store(config)?;
            let input = WebhookInput {
                url,
                events,
                description,
                trusted,
                enabled: !paused,
            };
            let made = store.write(|tx| webhooks::create(tx, &actor, input, &settings))?;
            secret_once(
                &format!("Added webhook {} ({}).", made.webhook.id, made.webhook.url),
                made.secret.as_deref(),
            )?;
        }
        WebhookCommand::Pause { id } | WebhookCommand::Resume { id } => {
            let enabled = matches!(command, WebhookCommand::Resume { .. });
            let store = open_store(config)?;
            let changed = patch(
                &store,
                id,
                WebhookPatch {
                    enabled: Some(enabled),
                    ..WebhookPatch::default()
                },
            )?;
            show(&changed.webhook);
        }
        WebhookCommand::Rotate { id } => {
            let store = open_store(config)?;
            let changed = patch(
                &store,
                id,
                WebhookPatch {
                    rotate_secret: true,
                    ..WebhookPatch::default()
                },
            )?;
            secret_once(
                &format!("Webhook {id} has a new secret; the old one signs too for 24 hours."),
                changed.secret.as_deref(),
            )?;
        }
        WebhookCommand::Replay { id, from_seq, from } => {
            let store = open_store(config)?;
            let at_time = match from {
                Some(at) => Some(webhooks::first_seq_at(&store.read()?, at)?),
                None => None,
            };
            let hook = store.write(|tx| webhooks::replay(tx, &actor, id, from_seq, at_time))?;
            println!(
                "Webhook {id} sends again from seq {} on.",
                hook.delivery.cursor + 1
            );
        }
        WebhookCommand::Remove { id } => {
            let store = open_store(config)?;
            store.write(|tx| webhooks::delete(tx, &actor, id))?;
            println!("Webhook {id} removed.");
        }
        WebhookCommand::Verify { .. } => return verify(command),
    }
    Ok(ExitCode::SUCCESS)
}

/// `quarry webhook verify`: needs no configuration and no store.
pub fn verify(command: WebhookCommand) -> anyhow::Result<ExitCode> {
    let WebhookCommand::Verify {
        secret,
        id,
        timestamp,
        signature,
        file,
    } = command
    else {
        unreachable!("only verify comes here")
    };
    let body = if let Some(path) = file {
        std::fs::read(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
    } else {
        let mut body = Vec::new();
        std::io::stdin().read_to_end(&mut body)?;
        body
    };
    let now = Timestamp::now().as_second();
    match signing::verify(&secret, &id, timestamp, &signature, &body, now) {
        Ok(()) => {
            println!(
                "Genuine: signed with this secret, {} s ago.",
                now - timestamp
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            eprintln!("Not genuine: {why}");
            Ok(ExitCode::FAILURE)
        }
    }
}
