//! I/O fault injection for the store, as `SQLite`'s and redb's own test
//! harnesses do it: a storage backend that passes every operation to the real
//! file until it is told to fail the k-th read, write or sync, once or from
//! then on, with an I/O error or "no space left on device".
//!
//! Only the fault tests open a store through it ([`crate::store::Store::open_with`]);
//! `quarry serve` opens the file directly. The probe that decides whether a
//! broken store may be reopened writes through the same [`Faults`], so a
//! persistent fault keeps the store read-only until it is cleared.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use redb::StorageBackend;
use redb::backends::FileBackend;

/// The kinds of operation a fault can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    /// Writes, and changes of the file's length.
    Write,
    Sync,
}

/// What the failing operation reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// `EIO`.
    Io,
    /// `ENOSPC`: the disk is full.
    DiskFull,
}

#[derive(Debug, Default)]
struct Plan {
    /// The armed fault: the operation, which one of them fails, whether the
    /// ones after it fail too, and how it fails.
    armed: Option<(Op, u64, bool, Failure)>,
    /// Operations of the armed kind seen since it was armed.
    seen: u64,
    /// Operations failed since it was armed.
    failed: u64,
    /// The free space the data dir's disk pretends to have.
    free: Option<u64>,
}

/// The switch the tests hold: arm a fault, see whether it fired, clear it.
/// Cheap to clone; every clone controls the same plan.
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Mutex<Plan>>);

impl Faults {
    /// Fails the `k`-th `op` from now (1 = the next one); with `persistent`,
    /// every `op` after it fails as well until [`Faults::clear`].
    pub fn arm(&self, op: Op, k: u64, persistent: bool, failure: Failure) {
        let mut plan = self.plan();
        *plan = Plan {
            armed: Some((op, k.max(1), persistent, failure)),
            free: plan.free,
            ..Plan::default()
        };
    }

    /// Lets every operation through again (and forgets [`Faults::pretend_free`]).
    pub fn clear(&self) {
        *self.plan() = Plan::default();
    }

    /// Makes the data dir's disk report `bytes` of free space.
    pub fn pretend_free(&self, bytes: u64) {
        self.plan().free = Some(bytes);
    }

    /// The free space the disk pretends to have, if told to.
    pub(crate) fn free(&self) -> Option<u64> {
        self.plan().free
    }

    /// How many operations have failed since the fault was armed.
    pub fn failed(&self) -> u64 {
        self.plan().failed
    }

    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts `op` and fails it if the plan says so.
    pub(crate) fn check(&self, op: Op) -> io::Result<()> {
        let mut plan = self.plan();
        let Some((armed, k, persistent, failure)) = plan.armed else {
            return Ok(());
        };
        if armed != op {
            return Ok(());
        }
        plan.seen += 1;
        if plan.seen == k || (persistent && plan.seen > k) {
            plan.failed += 1;
            return Err(match failure {
                Failure::Io => io::Error::other("injected I/O error"),
                Failure::DiskFull => io::Error::new(
                    io::ErrorKind::StorageFull,
                    "injected: no space left on device",
                ),
            });
        }
        Ok(())
    }
}

/// The real file backend with [`Faults`] in front of it.
pub(crate) struct FaultyBackend {
    inner: FileBackend,
    faults: Faults,
}

impl FaultyBackend {
    pub(crate) fn new(inner: FileBackend, faults: Faults) -> Self {
        Self { inner, faults }
    }
}

impl fmt::Debug for FaultyBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyBackend").finish_non_exhaustive()
    }
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.faults.check(Op::Read)?;
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.faults.check(Op::Write)?;
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.faults.check(Op::Sync)?;
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.faults.check(Op::Write)?;
        self.inner.write(offset, data)
    }

    fn close(&self) -> io::Result<()> {
        self.inner.close()
    }

    super::delegate_locks!(inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_fault_fails_only_the_kth_operation_of_its_kind() {
        let faults = Faults::default();
        faults.arm(Op::Write, 3, false, Failure::Io);
        assert!(faults.check(Op::Read).is_ok());
        assert!(faults.check(Op::Write).is_ok());
        assert!(faults.check(Op::Write).is_ok());
        assert!(faults.check(Op::Write).is_err());
        assert!(faults.check(Op::Write).is_ok());
        assert_eq!(faults.failed(), 1);
    }

    #[test]
    fn a_persistent_fault_fails_everything_after_it_until_cleared() {
        let faults = Faults::default();
        faults.arm(Op::Sync, 2, true, Failure::DiskFull);
        assert!(faults.check(Op::Sync).is_ok());
        let error = faults.check(Op::Sync).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        assert!(faults.check(Op::Sync).is_err());
        assert_eq!(faults.failed(), 2);
        faults.clear();
        assert!(faults.check(Op::Sync).is_ok());
        assert_eq!(faults.failed(), 0);
    }
}
