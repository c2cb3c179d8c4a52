//! Backups of the running store: on request (API, control socket), and on a
//! schedule with rotation. The snapshot is one read transaction, so writers
//! go on while it is copied.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::jobs::Progress;
use super::{App, AppError};
use crate::domain::accounts::Actor;
use crate::store::backup::{self, BackupError, BackupHeader};
use crate::store::{ChangeKind, StoreError, payloads};

/// What names backups the server makes end with.
pub const EXTENSION: &str = "qbk";
/// The prefix of scheduled backups: the only ones rotation deletes.
const SCHEDULED: &str = "quarry-auto-";
/// The prefix of backups made on request.
const MANUAL: &str = "quarry-";

/// A backup file in the backup directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BackupInfo {
    /// The file's name; download it at `/api/v1/backups/{name}`.
    pub name: String,
    /// Bytes.
    pub size: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub schema_version: u64,
    /// The newest change-log entry the backup holds.
    pub last_seq: u64,
    /// SHA-256 (hex) of the database inside.
    pub sha256: String,
    /// Whether the schedule made it (and rotation may delete it).
    pub scheduled: bool,
}

impl BackupInfo {
    fn of(name: String, size: u64, header: BackupHeader) -> Self {
        Self {
            scheduled: name.starts_with(SCHEDULED),
            name,
            size,
            created_at: header.created_at,
            schema_version: header.schema_version,
            last_seq: header.last_seq,
            sha256: header.sha256,
        }
    }
}

impl From<BackupError> for AppError {
    fn from(error: BackupError) -> Self {
        match error {
            BackupError::Store(e) => AppError::Store(e),
            // The disk would not take the backup (full, or failing): a 503
            // that says so, as for the store's own file.
            BackupError::Io { path, source } => {
                AppError::Store(StoreError::disk(&path.display().to_string(), &source))
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Whether `name` is one the server could have made: no directories, no
/// hidden or partial files.
fn is_backup_name(name: &str) -> bool {
    name.starts_with(MANUAL)
        && name.len() <= 100
        && Path::new(name).extension().is_some_and(|e| e == EXTENSION)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

impl App {
    /// Writes a backup to `dest` and records it in the audit log.
    /// `progress` follows the entries copied.
    pub async fn backup_to(
        &self,
        dest: PathBuf,
        actor: &Actor,
        progress: Arc<Progress>,
    ) -> Result<BackupHeader, AppError> {
        let store = self.inner.store.clone();
        let target = dest.clone();
        let header = tokio::task::spawn_blocking(move || {
            store.backup_to(&target, &|copied, total| progress.set(copied, total))
        })
        .await
        .map_err(|e| AppError::Internal(format!("backup task failed: {e}")))??;
        let actor = actor.clone();
        let data = payloads::BackupCreated {
            file: dest.display().to_string(),
            last_seq: header.last_seq,
            size: header.length,
        };
        self.write(move |tx| {
            tx.record(ChangeKind::BackupCreated, "", &actor, &data)?;
            Ok(())
        })
        .await?;
        tracing::info!(file = %dest.display(), last_seq = header.last_seq, "backup written");
        Ok(header)
    }

    /// Makes a backup in the backup directory.
    pub async fn create_backup(
        &self,
        actor: &Actor,
        progress: Arc<Progress>,
    ) -> Result<BackupInfo, AppError> {
        self.backup_in_dir(MANUAL, actor, progress).await
    }

    async fn backup_in_dir(
        &self,
        prefix: &str,
        actor: &Actor,
        progress: Arc<Progress>,
    ) -> Result<BackupInfo, AppError> {
        let dir = self.config().backup_dir();
        let stamp = Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ").to_string();
        let mut name = format!("{prefix}{stamp}.{EXTENSION}");
        let mut n = 1;
        while dir.join(&name).exists() {
            n += 1;
            name = format!("{prefix}{stamp}-{n}.{EXTENSION}");
        }
        let path = dir.join(&name);
        let header = self.backup_to(path.clone(), actor, progress).await?;
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        Ok(BackupInfo::of(name, size, header))
    }

    /// The backups in the backup directory, newest first.
    pub async fn list_backups(&self) -> Result<Vec<BackupInfo>, AppError> {
        let dir = self.config().backup_dir();
        tokio::task::spawn_blocking(move || list(&dir))
            .await
            .map_err(|e| AppError::Internal(format!("listing backups failed: {e}")))?
    }

    /// The path of the backup called `name`, if there is one.
    pub fn backup_path(&self, name: &str) -> Result<PathBuf, AppError> {
        let not_found = || AppError::NotFound {
            what: "backup",
            key: name.to_owned(),
        };
        if !is_backup_name(name) {
            return Err(not_found());
        }
        let path = self.config().backup_dir().join(name);
        if path.is_file() {
            Ok(path)
        } else {
            Err(not_found())
        }
    }

    /// Takes a scheduled backup and deletes scheduled backups beyond the
    /// configured number; returns the new backup and how many were deleted.
    pub async fn scheduled_backup(&self) -> Result<(BackupInfo, usize), AppError> {
        let info = self
            .backup_in_dir(SCHEDULED, &Actor::system(), Arc::default())
            .await?;
        let dir = self.config().backup_dir();
        let keep = self.config().backup.keep as usize;
        let deleted = tokio::task::spawn_blocking(move || rotate(&dir, keep))
            .await
            .map_err(|e| AppError::Internal(format!("rotating backups failed: {e}")))??;
        Ok((info, deleted))
    }

    /// Starts the backup schedule when the configuration asks for one.
    pub fn schedule_backups(&self) {
        let minutes = self.config().backup.every_minutes;
        if minutes == 0 {
            return;
        }
        let period = std::time::Duration::from_secs(u64::from(minutes) * 60);
        let app = self.clone();
        self.spawn_task(async move {
            let stop = app.shutting_down();
            loop {
                tokio::select! {
                    () = tokio::time::sleep(period) => {}
                    () = stop.cancelled() => break,
                }
                // With several nodes on one database, one of them does this.
                if !app.inner.store.leads() {
                    continue;
                }
                match app.scheduled_backup().await {
                    Ok((info, deleted)) => tracing::info!(
                        backup = %info.name, deleted, "scheduled backup written"
                    ),
                    Err(error) => tracing::error!(%error, "scheduled backup failed"),
                }
            }
        });
    }
}

fn list(dir: &Path) -> Result<Vec<BackupInfo>, AppError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(AppError::Internal(format!("{}: {e}", dir.display()))),
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_backup_name(&name) {
            continue;
        }
        let path = entry.path();
        let size = entry.metadata().map_or(0, |m| m.len());
        match backup::header(&path) {
            Ok(header) => found.push(BackupInfo::of(name, size, header)),
            Err(error) => tracing::warn!(%error, "not listing a damaged backup"),
        }
    }
    found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.name.cmp(&a.name)));
    Ok(found)
}

/// Deletes the oldest scheduled backups beyond `keep`.
fn rotate(dir: &Path, keep: usize) -> Result<usize, AppError> {
    let mut scheduled: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| AppError::Internal(format!("{}: {e}", dir.display())))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(SCHEDULED) && is_backup_name(name))
        .collect();
    // The names carry the time, so their order is the backups' order.
    scheduled.sort();
    let excess = scheduled.len().saturating_sub(keep);
    for name in &scheduled[..excess] {
        std::fs::remove_file(dir.join(name))
            .map_err(|e| AppError::Internal(format!("deleting {name}: {e}")))?;
    }
    Ok(excess)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_the_server_makes_are_backups() {
        assert!(is_backup_name("quarry-20261121T101500.123Z.qbk"));
        assert!(is_backup_name("quarry-auto-20261121T101500Z-2.qbk"));
        assert!(!is_backup_name("../quarry-x.qbk"));
        assert!(!is_backup_name("quarry-x.qbk/../../etc"));
        assert!(!is_backup_name(".quarry-backup-abc"));
        assert!(!is_backup_name("quarry-x.redb"));
        assert!(!is_backup_name("quarry.redb"));
    }
}
