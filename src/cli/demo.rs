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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("quarry")
        .build()?;
    // Caught from here on: a Ctrl-C while the shop is being made stops the
    // demo once it has started, cleanly, rather than leaving its data behind.
    let stop = {
        let _entered = runtime.enter();
        crate::http::shutdown_signal()
    };
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
        let _ = writeln!(
            std::io::stderr(),
            "making the demo shop in {} …",
            config.data_dir.display()
        );
        let store = Store::open(&config.data_dir)?;
        let seeded = shop::seed(&store, &config.shop, SEED, jiff::Timestamp::now())?;
        drop(store);
        Some(seeded)
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "carrying on with the demo shop in {}",
            config.data_dir.display()
        );
        None
    };
    let served = runtime.block_on(async {
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
        let summary = if summary.is_empty() {
            summary
        } else {
            format!("  {summary}\n")
        };
        let data = match &temporary {
            Some(_) => format!(
                "  data: {} (removed on exit; keep it with --keep DIR)",
                config.data_dir.display()
            ),
            None => format!("  data: {} (kept)", config.data_dir.display()),
        };
        let banner = format!(
            "\nQuarry demo: {url}\n{summary}  storefront:  {url}/\n  back office: {url}/admin\n  \
             owner login: {} / {}\n  staff login: {} / {}\n  trade login: {} / {} (at {url}/account)\n\
             {data}\nPress Ctrl-C to stop.\n",
            shop::OWNER.0,
            shop::OWNER.1,
            shop::STAFF.0,
            shop::STAFF.1,
            shop::TRADE.0,
            shop::TRADE.1
        );
        super::tell(&banner);
        server.run_until(stop).await
    });
    super::end_runtime(runtime);
    served?;
    drop(temporary);
    Ok(ExitCode::SUCCESS)
}
