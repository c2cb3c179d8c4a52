//! A storage backend that reads the data file but keeps every write in memory.
//!
//! After an I/O error redb refuses every operation of that database handle,
//! reads included, and opening the file again means repairing it, which
//! writes. While the disk still refuses writes (full, or failing), the store
//! opens the file through this overlay instead: the repair's writes stay in
//! memory, the file is left exactly as the last commit left it, and every
//! committed record can be read. The store refuses all writes meanwhile
//! ([`super::Store::recover`]), so the overlay holds only what the repair
//! wrote: a few pages.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::io;
use std::sync::{Mutex, PoisonError};

use redb::StorageBackend;

const BLOCK: u64 = 4096;

/// A fresh block of zeros.
fn zeros() -> Box<[u8]> {
    vec![0; 4096].into_boxed_slice()
}

/// An offset within a block or a buffer, which fits in `usize`.
fn small(n: u64) -> usize {
    usize::try_from(n).expect("an offset within a block or a buffer")
}

pub(crate) struct OverlayBackend<B> {
    file: B,
    state: Mutex<State>,
}

struct State {
    /// Blocks written since opening, by block number.
    blocks: HashMap<u64, Box<[u8]>>,
    /// The length redb last set; the file's own stays as it was.
    len: u64,
}

impl<B: StorageBackend> OverlayBackend<B> {
    pub(crate) fn new(file: B) -> io::Result<Self> {
        let len = file.len()?;
        Ok(Self {
            file,
            state: Mutex::new(State {
                blocks: HashMap::new(),
                len,
            }),
        })
    }

    /// Reads `out.len()` bytes at `offset` from the file, zeros past its end.
    fn read_file(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let file_len = self.file.len()?;
        let end = offset + out.len() as u64;
        out.fill(0);
        if offset < file_len {
            self.file
                .read(offset, &mut out[..small(end.min(file_len) - offset)])?;
        }
        Ok(())
    }
}

impl<B: StorageBackend> OverlayBackend<B> {
    /// The overlay's copy of `block`, first copied from the file if need be.
    fn block<'a>(
        &self,
        blocks: &'a mut HashMap<u64, Box<[u8]>>,
        block: u64,
    ) -> io::Result<&'a mut Box<[u8]>> {
        Ok(match blocks.entry(block) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let mut copy = zeros();
                self.read_file(block * BLOCK, &mut copy)?;
                entry.insert(copy)
            }
        })
    }
}

impl<B> fmt::Debug for OverlayBackend<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverlayBackend").finish_non_exhaustive()
    }
}

/// The blocks a byte range touches, each as (block, offset in block,
/// offset in the range, length).
fn spans(offset: u64, len: usize) -> impl Iterator<Item = (u64, usize, usize, usize)> {
    let end = offset + len as u64;
    let mut at = offset;
    std::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let block = at / BLOCK;
        let block_end = ((block + 1) * BLOCK).min(end);
        let span = (
            block,
            small(at - block * BLOCK),
            small(at - offset),
            small(block_end - at),
        );
        at = block_end;
        Some(span)
    })
}

impl<B: StorageBackend> StorageBackend for OverlayBackend<B> {
    fn len(&self) -> io::Result<u64> {
        Ok(self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if offset + out.len() as u64 > state.len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of the data file",
            ));
        }
        for (block, inner, outer, len) in spans(offset, out.len()) {
            let part = &mut out[outer..outer + len];
            match state.blocks.get(&block) {
                Some(data) => part.copy_from_slice(&data[inner..inner + len]),
                None => self.read_file(offset + outer as u64, part)?,
            }
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if len < state.len {
            // What lies past the new end reads as zeros if the file grows again.
            state.blocks.retain(|block, _| block * BLOCK < len);
            let tail = len / BLOCK;
            if len % BLOCK != 0 {
                self.block(&mut state.blocks, tail)?[small(len % BLOCK)..].fill(0);
            }
            let file_len = self.file.len()?;
            for block in tail..file_len.div_ceil(BLOCK) {
                if block * BLOCK >= len && !state.blocks.contains_key(&block) {
                    state.blocks.insert(block, zeros());
                }
            }
        }
        state.len = len;
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for (block, inner, outer, len) in spans(offset, data.len()) {
            self.block(&mut state.blocks, block)?[inner..inner + len]
                .copy_from_slice(&data[outer..outer + len]);
        }
        let end = offset + data.len() as u64;
        state.len = state.len.max(end);
        Ok(())
    }

    fn close(&self) -> io::Result<()> {
        self.file.close()
    }

    super::delegate_locks!(file);
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::backends::InMemoryBackend;

    fn file_with(bytes: &[u8]) -> InMemoryBackend {
        let file = InMemoryBackend::new();
        file.set_len(bytes.len() as u64).unwrap();
        file.write(0, bytes).unwrap();
        file
    }

    #[test]
    fn writes_stay_in_memory_and_reads_see_them_over_the_file() {
        let original: Vec<u8> = (0..3 * BLOCK).map(|i| (i % 251) as u8).collect();
        let overlay = OverlayBackend::new(file_with(&original)).unwrap();
        // A write across a block boundary.
        overlay.write(BLOCK - 2, &[9, 9, 9, 9]).unwrap();
        let mut out = vec![0; 8];
        overlay.read(BLOCK - 4, &mut out).unwrap();
        let mut expected = original[4092..4100].to_vec();
        expected[2..6].copy_from_slice(&[9, 9, 9, 9]);
        assert_eq!(out, expected);
        // The file underneath is untouched.
        let mut file = vec![0; 8];
        overlay.file.read(BLOCK - 4, &mut file).unwrap();
        assert_eq!(file, original[4092..4100]);
        overlay.sync_data().unwrap();
    }

    #[test]
    fn growing_and_shrinking_change_only_the_overlay() {
        let overlay = OverlayBackend::new(file_with(&[7; 4096])).unwrap();
        overlay.set_len(3 * BLOCK).unwrap();
        overlay.write(2 * BLOCK, &[1, 2, 3]).unwrap();
        let mut out = [0; 4];
        overlay.read(2 * BLOCK, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 0]);
        overlay.set_len(10).unwrap();
        assert!(overlay.read(8, &mut out).is_err(), "read past the end");
        overlay.set_len(BLOCK).unwrap();
        overlay.read(8, &mut out).unwrap();
        assert_eq!(out, [7, 7, 0, 0], "bytes past a shrink read as zeros");
        assert_eq!(overlay.file.len().unwrap(), BLOCK);
    }
}
