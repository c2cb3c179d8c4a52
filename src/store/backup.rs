//! Backups: one self-describing file holding a consistent snapshot of the store.
//!
//! A backup is taken from **one read transaction** (an MVCC snapshot), so the
//! writer never waits for it. The file is a short text header followed by a
//! compacted redb file:
//!
//! ```text
//! QUARRY-BACKUP 1\n
//! {"schema_version":4,"last_seq":1234,"created_at":"…","quarry_version":"0.1.0","length":81920,"sha256":"…"}\n
//! <length bytes: a redb database holding every table>
//! ```
//!
//! Restoring checks the magic line, the schema version, the length and the
//! SHA-256 of the payload before anything is put in place.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::kv::{Column, KeyColumn};
use super::tables::{self, SCHEMA_VERSION};
use super::{DB_FILE, ReadTx, Store, StoreError};

/// The first line of every backup file.
const MAGIC: &str = "QUARRY-BACKUP 1";
/// The header line is short; a longer one means this is not a backup.
const MAX_HEADER: u64 = 4096;

/// What a backup file says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupHeader {
    pub schema_version: u64,
    /// The newest change-log entry in the snapshot.
    pub last_seq: u64,
    pub created_at: Timestamp,
    /// The Quarry version that wrote it.
    pub quarry_version: String,
    /// Bytes of the database payload after the header.
    pub length: u64,
    /// SHA-256 (hex) of the payload.
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0} is not a Quarry backup (it does not start with `{MAGIC}`)")]
    NotABackup(PathBuf),
    #[error("{path} has a damaged header: {reason}")]
    BadHeader { path: PathBuf, reason: String },
    #[error(
        "{path} is damaged: its checksum does not match (expected {expected}, found {found}); \
         use another backup"
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{path} is truncated: the header promises {expected} bytes, the file holds {found}")]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error(
        "{path} was written by a newer Quarry (schema version {found}, this binary knows up to \
         {supported}); restore it with a newer Quarry"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Store {
    /// Writes a backup of the current state to `dest` (replaced atomically:
    /// a reader of `dest` sees the old file or the whole new one).
    /// `progress(copied, total)` follows the entries copied.
    pub fn backup_to(
        &self,
        dest: &Path,
        progress: &dyn Fn(u64, u64),
    ) -> Result<BackupHeader, BackupError> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        // The snapshot is copied into a scratch database next to the target,
        // compacted, then framed with its header.
        let scratch = tempfile::Builder::new()
            .prefix(".quarry-backup-")
            .tempfile_in(&dir)
            .map_err(io_error(&dir))?;
        let last_seq = {
            let snapshot = self.read()?;
            let mut copy = Database::builder()
                .create(scratch.path())
                .map_err(StoreError::from)?;
            let last_seq = copy_tables(&snapshot, &copy, progress)?;
            drop(snapshot);
            super::compact_database(&mut copy)?;
            last_seq
        };
        let (length, sha256) = hash_file(scratch.path())?;
        let header = BackupHeader {
            schema_version: SCHEMA_VERSION,
            last_seq,
            created_at: Timestamp::now(),
            quarry_version: env!("CARGO_PKG_VERSION").to_owned(),
            length,
            sha256,
        };
        let out = tempfile::Builder::new()
            .prefix(".quarry-backup-")
            .tempfile_in(&dir)
            .map_err(io_error(&dir))?;
        {
            // The backup file's writes pass the fault plan of the I/O tests.
            self.check_fault(super::faults::Op::Write)
                .map_err(io_error(dest))?;
            let mut writer = BufWriter::new(out.as_file());
            writeln!(writer, "{MAGIC}").map_err(io_error(dest))?;
            serde_json::to_writer(&mut writer, &header).expect("headers serialize");
            writeln!(writer).map_err(io_error(dest))?;
            let mut payload = File::open(scratch.path()).map_err(io_error(scratch.path()))?;
            io::copy(&mut payload, &mut writer).map_err(io_error(dest))?;
            writer.flush().map_err(io_error(dest))?;
        }
        out.as_file().sync_all().map_err(io_error(dest))?;
        out.persist(dest).map_err(|e| BackupError::Io {
            path: dest.to_owned(),
            source: e.error,
        })?;
        sync_dir(&dir);
        Ok(header)
    }
}

/// Copies every table of the schema from the snapshot `from` (of either
/// engine) into the redb database `to` in one transaction; returns the last
/// change-log `seq` copied.
pub(super) fn copy_tables(
    from: &ReadTx,
    to: &Database,
    progress: &dyn Fn(u64, u64),
) -> Result<u64, StoreError> {
    let total = from.rows()?;
    let mut counter = Counter {
        copied: 0,
        total,
        progress,
    };
    progress(0, total);
    let counter = &mut counter;
    let tx = to.begin_write()?;
    macro_rules! copy_table {
        ($table:ident) => {
            copy(from, &tx, counter, tables::$table)?;
        };
    }
    tables::every_table!(copy_table);
    // No journal follows a copy: a generation of its own, so that the
    // journal of the store it was copied from is never replayed into it.
    tx.open_table(tables::META)?
        .insert(super::journal::JOURNAL_GEN_KEY, tables::new_epoch())?;
    let last_seq = tx
        .open_table(tables::CHANGES)?
        .last()?
        .map_or(0, |(seq, _)| seq.value());
    tx.commit()?;
    Ok(last_seq)
}

impl ReadTx {
    /// Rows in every table of the snapshot: what a copy of it writes.
    pub(super) fn rows(&self) -> Result<u64, StoreError> {
        let mut total = 0;
        macro_rules! count {
            ($table:ident) => {
                total += self.table(tables::$table)?.len()?;
            };
        }
        tables::every_table!(count);
        Ok(total)
    }
}

/// Entries copied so far, told to `progress` every few thousand.
struct Counter<'a> {
    copied: u64,
    total: u64,
    progress: &'a dyn Fn(u64, u64),
}

impl Counter<'_> {
    fn add(&mut self, n: u64) {
        self.copied += n;
        (self.progress)(self.copied, self.total);
    }
}

fn copy<K: KeyColumn, V: Column>(
    from: &ReadTx,
    to: &redb::WriteTransaction,
    counter: &mut Counter<'_>,
    definition: TableDefinition<K, V>,
) -> Result<(), StoreError> {
    const EVERY: u64 = 4096;
    let source = from.table(definition)?;
    let mut target = to.open_table(definition)?;
    let mut since = 0;
    for entry in source.all()? {
        let (key, value) = entry?;
        target.insert(K::lend(&key), V::lend(&value))?;
        since += 1;
        if since == EVERY {
            counter.add(since);
            since = 0;
        }
    }
    counter.add(since);
    Ok(())
}

fn hash_file(path: &Path) -> Result<(u64, String), BackupError> {
    let mut file = BufReader::new(File::open(path).map_err(io_error(path))?);
    let mut hasher = Sha256::new();
    let length = io::copy(&mut file, &mut HashWriter(&mut hasher)).map_err(io_error(path))?;
    Ok((length, crate::auth::hex(&hasher.finalize())))
}

/// Feeds what is written into a hasher.
struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Makes a rename in `dir` durable (best effort where directories cannot be
/// opened).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Reads and checks a backup's header; leaves `reader` at the payload.
fn read_header(path: &Path, reader: &mut impl BufRead) -> Result<BackupHeader, BackupError> {
    let mut limited = reader.take(MAX_HEADER);
    let mut magic = String::new();
    limited
        .read_line(&mut magic)
        .map_err(|_| BackupError::NotABackup(path.to_owned()))?;
    if magic.trim_end() != MAGIC {
        return Err(BackupError::NotABackup(path.to_owned()));
    }
    let mut line = String::new();
    limited.read_line(&mut line).map_err(io_error(path))?;
    let header: BackupHeader =
        serde_json::from_str(line.trim_end()).map_err(|e| BackupError::BadHeader {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if header.schema_version > SCHEMA_VERSION {
        return Err(BackupError::SchemaTooNew {
            path: path.to_owned(),
            found: header.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(header)
}

/// Reads a backup's header (without checking its payload).
pub fn header(path: &Path) -> Result<BackupHeader, BackupError> {
    let mut reader = BufReader::new(File::open(path).map_err(io_error(path))?);
    read_header(path, &mut reader)
}

/// Checks a backup file whole (header, length, checksum) without restoring it.
pub fn verify(path: &Path) -> Result<BackupHeader, BackupError> {
    let mut reader = BufReader::new(File::open(path).map_err(io_error(path))?);
    let header = read_header(path, &mut reader)?;
    copy_payload(path, &header, &mut reader, &mut io::sink())?;
    Ok(header)
}

/// Copies the payload to `out`, checking its length and checksum.
fn copy_payload(
    path: &Path,
    header: &BackupHeader,
    reader: &mut impl Read,
    out: &mut impl Write,
) -> Result<(), BackupError> {
    let mut hasher = Sha256::new();
    let mut payload = reader.take(header.length);
    let mut buf = vec![0; 64 * 1024];
    let mut found = 0u64;
    loop {
        let n = payload.read(&mut buf).map_err(io_error(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(io_error(path))?;
        found += n as u64;
    }
    if found != header.length {
        return Err(BackupError::Truncated {
            path: path.to_owned(),
            expected: header.length,
            found,
        });
    }
    let sum = crate::auth::hex(&hasher.finalize());
    if sum != header.sha256 {
        return Err(BackupError::Checksum {
            path: path.to_owned(),
            expected: header.sha256.clone(),
            found: sum,
        });
    }
    Ok(())
}

/// Restores the backup at `backup` as the store of `data_dir`: the payload
/// is checked in full before it replaces `quarry.redb`. The caller decides
/// whether an existing store may be replaced. Opening the restored store
/// migrates an older schema; the search index is rebuilt on first start.
pub fn restore(backup: &Path, data_dir: &Path) -> Result<BackupHeader, BackupError> {
    let mut reader = BufReader::new(File::open(backup).map_err(io_error(backup))?);
    let header = read_header(backup, &mut reader)?;
    std::fs::create_dir_all(data_dir).map_err(io_error(data_dir))?;
    let mut staged = tempfile::Builder::new()
        .prefix(".quarry-restore-")
        .tempfile_in(data_dir)
        .map_err(io_error(data_dir))?;
    {
        let mut out = BufWriter::new(staged.as_file_mut());
        copy_payload(backup, &header, &mut reader, &mut out)?;
        out.flush().map_err(io_error(data_dir))?;
    }
    staged.as_file().sync_all().map_err(io_error(data_dir))?;
    staged.as_file_mut().rewind().map_err(io_error(data_dir))?;
    // The journal of the store being replaced holds nothing of the backup.
    let journal = data_dir.join(super::journal::JOURNAL_FILE);
    match std::fs::remove_file(&journal) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&journal)(e)),
    }
    let target = data_dir.join(DB_FILE);
    staged.persist(&target).map_err(|e| BackupError::Io {
        path: target.clone(),
        source: e.error,
    })?;
    sync_dir(data_dir);
    Ok(header)
}

/// Restores the backup at `backup` into the PostgreSQL database at `url`:
/// the payload is checked in full first, then copied in one transaction
/// that is checked before it commits (see [`super::migrate`]). A database
/// that holds a store is replaced only with `replace`, and never while Quarry
/// nodes serve it.
pub fn restore_into_postgres(
    backup: &Path,
    url: &str,
    replace: bool,
    progress: &dyn Fn(u64, u64),
) -> Result<super::migrate::Moved, BackupError> {
    let mut reader = BufReader::new(File::open(backup).map_err(io_error(backup))?);
    let header = read_header(backup, &mut reader)?;
    let mut staged = tempfile::Builder::new()
        .prefix(".quarry-restore-")
        .tempfile()
        .map_err(io_error(Path::new("temporary directory")))?;
    let path = staged.path().to_owned();
    {
        let mut out = BufWriter::new(staged.as_file_mut());
        copy_payload(backup, &header, &mut reader, &mut out)?;
        out.flush().map_err(io_error(&path))?;
    }
    Ok(super::migrate::file_to_postgres(
        staged.path(),
        url,
        replace,
        progress,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::Actor;
    use crate::store::ChangeKind;
    use redb::ReadableDatabase as _;
    use redb::TableHandle;

    fn store_with_changes(dir: &Path, n: usize) -> Store {
        let store = Store::open(dir).unwrap();
        for i in 0..n {
            store
                .write(|tx| -> Result<(), StoreError> {
                    tx.note(ChangeKind::TokenUsed, &i.to_string(), &Actor::cli())?;
                    Ok(())
                })
                .unwrap();
        }
        store
    }

    #[test]
    fn a_backup_copies_every_table_of_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_changes(&dir.path().join("data"), 3);
        let file = dir.path().join("b.qbk");
        let seen = std::cell::Cell::new((0, 0));
        let header = store
            .backup_to(&file, &|copied, total| seen.set((copied, total)))
            .unwrap();
        assert_eq!(header.last_seq, 4);
        let (copied, total) = seen.get();
        assert!(copied > 0 && copied == total, "{copied} of {total}");
        let restored = dir.path().join("restored");
        restore(&file, &restored).unwrap();
        let copy = Database::open(restored.join(DB_FILE)).unwrap();
        let live = store.database().unwrap().begin_read().unwrap();
        let names = |tx: &redb::ReadTransaction| {
            let mut names: Vec<String> = tx
                .list_tables()
                .unwrap()
                .map(|t| t.name().to_owned())
                .collect();
            names.sort();
            names
        };
        // A table added to the schema but not to `copy_tables` fails here.
        assert_eq!(names(&copy.begin_read().unwrap()), names(&live));
    }

    #[test]
    fn a_damaged_or_truncated_backup_is_refused_before_anything_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_changes(&dir.path().join("data"), 2);
        let file = dir.path().join("b.qbk");
        store.backup_to(&file, &|_, _| {}).unwrap();
        let bytes = std::fs::read(&file).unwrap();

        let mut flipped = bytes.clone();
        let last = flipped.len() - 10;
        flipped[last] ^= 0xff;
        let damaged = dir.path().join("damaged.qbk");
        std::fs::write(&damaged, &flipped).unwrap();
        let target = dir.path().join("t1");
        let err = restore(&damaged, &target).unwrap_err();
        assert!(matches!(err, BackupError::Checksum { .. }), "{err}");
        assert!(!target.join(DB_FILE).exists());

        let short = dir.path().join("short.qbk");
        std::fs::write(&short, &bytes[..bytes.len() - 100]).unwrap();
        let err = verify(&short).unwrap_err();
        assert!(matches!(err, BackupError::Truncated { .. }), "{err}");

        let other = dir.path().join("other.txt");
        std::fs::write(&other, "hello\n").unwrap();
        assert!(matches!(
            verify(&other).unwrap_err(),
            BackupError::NotABackup(_)
        ));
    }

    #[test]
    fn a_backup_from_a_newer_schema_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_changes(&dir.path().join("data"), 1);
        let file = dir.path().join("b.qbk");
        store.backup_to(&file, &|_, _| {}).unwrap();
        let text = std::fs::read(&file).unwrap();
        let needle = format!("\"schema_version\":{SCHEMA_VERSION}");
        let newer = format!("\"schema_version\":{}", SCHEMA_VERSION + 1);
        let pos = text
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .unwrap();
        let mut edited = text[..pos].to_vec();
        edited.extend_from_slice(newer.as_bytes());
        edited.extend_from_slice(&text[pos + needle.len()..]);
        std::fs::write(&file, edited).unwrap();
        let err = verify(&file).unwrap_err();
        assert!(err.to_string().contains("newer Quarry"), "{err}");
    }
}
