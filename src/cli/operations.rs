//! The owner's operations from the command line: `backup`, `restore`,
//! `compact`, `import`, `export`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::config::Config;
use crate::control::{self, Request};
use crate::domain::accounts::Actor;
use crate::store::{self, ChangeKind, Store, StoreError};

/// Sizes for people: `12.3 MiB`.
pub fn size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // for display only
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GiB", b / (1024.0 * 1024.0 * 1024.0))
    }
}

/// `quarry backup FILE`: from the running server through the control socket
/// when there is one, else from the data file directly.
pub fn backup(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let file = std::path::absolute(file).with_context(|| format!("{}", file.display()))?;
    if file.is_dir() {
        bail!(
            "{} is a directory; name the backup file to write",
            file.display()
        );
    }
    if let Some(reply) = control::call(&config.data_dir, &Request::Backup { path: file.clone() })? {
        if reply.ok {
            println!("{}", reply.message);
            return Ok(ExitCode::SUCCESS);
        }
        bail!("the server could not write the backup: {}", reply.message);
    }
    let store = super::open_store(config)?;
    let header = store.backup_to(&file, &|_, _| {})?;
    store.write(|tx| -> Result<(), StoreError> {
        let data = crate::store::payloads::BackupCreated {
            file: file.display().to_string(),
            last_seq: header.last_seq,
            size: header.length,
        };
        tx.record(ChangeKind::BackupCreated, "", &Actor::cli(), &data)?;
        Ok(())
    })?;
    println!(
        "backup written to {} ({} of data up to change {}, sha256 {})",
        file.display(),
        size(header.length),
        header.last_seq,
        header.sha256
    );
    Ok(ExitCode::SUCCESS)
}

/// Whether `dir` holds anything.
fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

/// `quarry restore FILE`: checks the backup whole, then makes it the store of
/// the data dir; the search index is rebuilt on the next start.
pub fn restore(config: &Config, file: &Path, force: bool) -> anyhow::Result<ExitCode> {
    if !config.store.url.is_empty() {
        return restore_into_postgres(config, file, force);
    }
    let data_dir = &config.data_dir;
    if data_dir.join(store::DB_FILE).exists()
        && matches!(Store::open(data_dir), Err(StoreError::InUse { .. }))
    {
        bail!(
            "a server is running on {}; stop it before restoring",
            data_dir.display()
        );
    }
    if has_entries(data_dir) && !force {
        bail!(
            "{} is not empty; restore into an empty data dir, or pass --force to replace its \
             data with the backup's",
            data_dir.display()
        );
    }
    let header = store::backup::verify(file)?;
    eprintln!(
        "backup of {} (schema {}, up to change {}) checked: sha256 {}",
        header.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        header.schema_version,
        header.last_seq,
        header.sha256
    );
    // The data being replaced is kept aside until the restored store checks out.
    let current = data_dir.join(store::DB_FILE);
    let aside = data_dir.join(format!("{}.replaced", store::DB_FILE));
    let replacing = current.exists();
    if replacing {
        std::fs::rename(&current, &aside)
            .with_context(|| format!("moving {} aside", current.display()))?;
    }
    let restored = restore_checked(file, data_dir);
    match (&restored, replacing) {
        (Ok(_), true) => {
            std::fs::remove_file(&aside)
                .with_context(|| format!("removing {}", aside.display()))?;
        }
        (Err(_), true) => {
            std::fs::rename(&aside, &current)
                .with_context(|| format!("putting {} back", current.display()))?;
        }
        _ => {}
    }
    let report = restored?;
    println!(
        "restored {} into {}: {} products, {} movements, change log at {}; the search index is \
         rebuilt on the next start",
        file.display(),
        data_dir.display(),
        report.products,
        report.movements,
        report.last_seq
    );
    Ok(ExitCode::SUCCESS)
}

/// Puts the backup in place, opens it (migrating an older schema) and checks
/// it whole.
fn restore_checked(file: &Path, data_dir: &Path) -> anyhow::Result<store::CheckReport> {
    store::backup::restore(file, data_dir)?;
    // The index belongs to the replaced store; it is rebuilt on the next start.
    let index = data_dir.join("index");
    if index.exists() {
        std::fs::remove_dir_all(&index).with_context(|| format!("removing {}", index.display()))?;
    }
    drop(Store::open(data_dir)?);
    let report = store::check(data_dir)?;
    if !report.problems.is_empty() {
        bail!(
            "the restored store has problems, so the data it replaced was put back: {}",
            report.problems.join("; ")
        );
    }
    Ok(report)
}

/// `quarry compact`: reclaims free space in the data file.
pub fn compact(config: &Config) -> anyhow::Result<ExitCode> {
    if !config.store.url.is_empty() {
        bail!("the store is in PostgreSQL, which reclaims space itself (autovacuum, VACUUM FULL)");
    }
    let (before, after) = store::compact(&config.data_dir)
        .with_context(|| format!("cannot compact the store in {}", config.data_dir.display()))?;
    println!(
        "compacted {}: {} → {} ({} reclaimed)",
        config.data_dir.join(store::DB_FILE).display(),
        size(before),
        size(after),
        size(before.saturating_sub(after))
    );
    Ok(ExitCode::SUCCESS)
}

/// `quarry import WHAT FILE`: one transaction, with a progress bar on a
/// terminal; non-zero exit when a row is bad.
pub fn import(
    config: &Config,
    kind: &str,
    file: &Path,
    options: &crate::app::imports::ImportOptions,
) -> anyhow::Result<ExitCode> {
    use crate::app::imports::{ImportKind, Listeners, import_into_store};
    let kind: ImportKind = kind.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let length = input.metadata().map_or(0, |m| m.len());
    let store = super::open_store(config)?;
    let bar = indicatif::ProgressBar::new(length);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({eta} left)",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.set_message(format!("importing {}", file.display()));
    let started = std::time::Instant::now();
    // Products into an embedded store that has none: the search index is
    // built from the rows as they are saved, on a thread of its own, so the
    // catalogue is searchable when the import ends and the server need not
    // read it back. (A PostgreSQL store may be written by other nodes
    // meanwhile; its index follows the change log as usual.)
    let alongside = if kind == ImportKind::Products
        && !options.dry_run
        && !store.is_postgres()
        && store.read()?.has_no_products()?
    {
        Some(crate::search::SearchIndex::build_alongside(
            &config.data_dir,
            &store,
        )?)
    } else {
        None
    };
    let report = import_into_store(
        &store,
        &Actor::cli(),
        &config.shop,
        kind,
        std::io::BufReader::with_capacity(256 * 1024, input),
        options,
        Listeners {
            progress: &mut |bytes| {
                bar.set_position(bytes);
                Ok(())
            },
            // Every bad row, as it is found: a file may have more than any
            // report keeps, and memory stays flat.
            bad_row: &mut |error| {
                bar.suspend(|| {
                    let column = error
                        .column
                        .as_deref()
                        .map(|c| format!(", column {c}"))
                        .unwrap_or_default();
                    eprintln!("row {}{column}: {}", error.row, error.reason);
                });
            },
            product_saved: &mut |product| {
                if let Some(index) = &alongside {
                    index.add(product);
                }
            },
        },
    )?;
    bar.finish_and_clear();
    if let Some(index) = alongside.filter(|_| report.written && report.created > 0) {
        let seq = index.finish(&store)?;
        eprintln!("search index built with the import (at change {seq})");
    }
    let what = match kind {
        ImportKind::Products | ImportKind::Customers | ImportKind::PriceLists => format!(
            "{} created, {} updated, {} unchanged",
            report.created, report.updated, report.unchanged
        ),
        ImportKind::Stock | ImportKind::Movements => {
            format!("{} movements booked", report.movements)
        }
    };
    if !report.locations_created.is_empty() {
        eprintln!(
            "new locations (named by their code; rename them in the back office): {}",
            report.locations_created.join(", ")
        );
    }
    let outcome = if report.written {
        "imported"
    } else if report.dry_run {
        "dry run, nothing written"
    } else {
        "nothing written: fix the rows above, or pass --skip-invalid to import the good ones"
    };
    println!(
        "{} rows read in {:.1} s, {} bad; {what}; {outcome}",
        report.rows,
        started.elapsed().as_secs_f64(),
        report.rejected
    );
    Ok(if report.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `quarry export WHAT`: to standard output or `--output FILE`.
pub fn export(
    config: &Config,
    kind: &str,
    format: &str,
    decimal: Option<crate::domain::locale::DecimalMark>,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    use crate::app::exports::{ExportKind, Format, export};
    let decimal =
        decimal.unwrap_or_else(|| crate::domain::locale::DecimalMark::of(&config.shop.locale()));
    let kind: ExportKind = kind.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let format: Format = format
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--format: {e}"))?;
    let store = match Store::open_with(&config.data_dir, config.store.options()) {
        Ok(store) => store,
        Err(StoreError::InUse { .. }) => bail!(
            "a server is running on {}; export through it (GET /api/v1/exports/WHAT) or stop it \
             first",
            config.data_dir.display()
        ),
        Err(error) => return Err(error.into()),
    };
    let tx = store.read()?;
    if let Some(path) = output {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let rows = export(&tx, kind, format, decimal, std::io::BufWriter::new(file))?;
        eprintln!("exported {rows} rows to {}", path.display());
    } else {
        let stdout = std::io::BufWriter::new(std::io::stdout().lock());
        export(&tx, kind, format, decimal, stdout)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar over rows copied.
fn rows_bar(message: String) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} rows ({eta} left)",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

/// `quarry restore FILE --store-url URL`: the backup checked whole, then
/// copied into the database in one transaction, checked before it commits.
fn restore_into_postgres(config: &Config, file: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let shown = config.store.describe(&config.data_dir);
    let bar = rows_bar(format!("restoring {} into {shown}", file.display()));
    let moved =
        store::backup::restore_into_postgres(file, &config.store.url, force, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .map_err(|error| match error {
            store::backup::BackupError::Store(StoreError::Backend { detail, .. })
                if detail.contains("already holds") =>
            {
                anyhow::anyhow!("{detail}: pass --force to replace it with the backup's")
            }
            other => other.into(),
        })?;
    bar.finish_and_clear();
    println!(
        "restored {} into {shown}: {} rows, {} products, {} movements, change log at {}; each \
         node rebuilds its search index when it starts",
        file.display(),
        moved.rows,
        moved.report.products,
        moved.report.movements,
        moved.last_seq
    );
    Ok(ExitCode::SUCCESS)
}

/// `quarry migrate --to URL | --from URL`.
pub fn migrate(
    config: &Config,
    to: Option<String>,
    from: Option<String>,
) -> anyhow::Result<ExitCode> {
    let data_dir = &config.data_dir;
    let (moved, what) = match (to, from) {
        (Some(url), None) => {
            let shown = store::redact_url(&url);
            let bar = rows_bar(format!("copying {} into {shown}", data_dir.display()));
            let moved = store::migrate::to_postgres(data_dir, &url, false, &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .map_err(|error| match error {
                StoreError::InUse { .. } => anyhow::anyhow!(
                    "a server is running on {}; stop it before migrating",
                    data_dir.display()
                ),
                other => other.into(),
            })?;
            bar.finish_and_clear();
            (moved, format!("{} into {shown}", data_dir.display()))
        }
        (None, Some(url)) => {
            let shown = store::redact_url(&url);
            let bar = rows_bar(format!("copying {shown} into {}", data_dir.display()));
            let moved = store::migrate::from_postgres(&url, data_dir, &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })?;
            bar.finish_and_clear();
            (moved, format!("{shown} into {}", data_dir.display()))
        }
        _ => bail!("name one database: --to URL or --from URL"),
    };
    println!(
        "copied {what}: {} rows, {} products, {} movements, change log at {}; checked: no problems",
        moved.rows, moved.report.products, moved.report.movements, moved.last_seq
    );
    Ok(ExitCode::SUCCESS)
}
