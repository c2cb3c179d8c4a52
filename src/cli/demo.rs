//! `quarry demo`: a realistic shop in seconds, offline. The data lives in a
//! temporary directory removed on exit, unless `--keep DIR` names one (run
//! again with the same `--keep` to carry on where you left off).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Config;
use crate::demo::shop;
use crate::store::{DB_FILE, Store};

/// The seed of the demo shop: everyone gets the same one.
const SEED: u64 = 2026;

pub fn demo(mut config: Config, keep: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    super::init_logging(&config);
    // Held until the end: dropping it removes the temporary data.
    let temporary = if let Some(dir) = keep {
        config.data_dir = dir;
        None
    } else {
        let dir = tempfile::Builder::new()
            .prefix("quarry-demo-")
            .tempdir()
            .context("creating a temporary data dir")?;
        dir.path().clone_into(&mut config.data_dir);
        Some(dir)
    };
    if config.shop.name == crate::config::ShopConfig::default().name {
        config.shop.name = "Quarry Demo Building Supplies".into();
        config.shop.contact = "Yard Lane 1 · +44 20 7946 0000 · sales@demo.example".into();
    }
    let fresh = !config.data_dir.join(DB_FILE).exists();
    let started = std::time::Instant::now();
    let seeded = if fresh {
        eprintln!("making the demo shop in {} …", config.data_dir.display());
        let store = Store::open(&config.data_dir)?;
        let seeded = shop::seed(&store, &config.shop, SEED, jiff::Timestamp::now())?;
        drop(store);
        Some(seeded)
    } else {
        eprintln!(
            "carrying on with the demo shop in {}",
            config.data_dir.display()
        );
        None
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("quarry")
        .build()?;
    runtime.block_on(async {
        let server = crate::http::start(config.clone()).await?;
        let mut summary = String::new();
        if let Some(seeded) = &seeded {
            let quotes = shop::seed_quotes(server.app(), &seeded.skus, SEED).await?;
            summary = format!(
                "{} products, {} locations, {} movements over {} days, {} quotes, made in {:.1} s",
                seeded.products,
                shop::LOCATIONS.len(),
                seeded.movements,
                shop::DAYS,
                quotes.len(),
                started.elapsed().as_secs_f64()
            );
        }
        let url = server.url();
        let mut out = std::io::stdout().lock();
        writeln!(out, "\nQuarry demo: {url}")?;
        if !summary.is_empty() {
            writeln!(out, "  {summary}")?;
        }
        writeln!(out, "  storefront:  {url}/")?;
        writeln!(out, "  back office: {url}/admin")?;
        writeln!(out, "  owner login: {} / {}", shop::OWNER.0, shop::OWNER.1)?;
        writeln!(out, "  staff login: {} / {}", shop::STAFF.0, shop::STAFF.1)?;
        match &temporary {
            Some(_) => writeln!(
                out,
                "  data: {} (removed on exit; keep it with --keep DIR)",
                config.data_dir.display()
            )?,
            None => writeln!(out, "  data: {} (kept)", config.data_dir.display())?,
        }
        writeln!(out, "Press Ctrl-C to stop.")?;
        out.flush()?;
        drop(out);
        server.run_until(crate::http::shutdown_signal()).await
    })?;
    drop(temporary);
    Ok(ExitCode::SUCCESS)
}
