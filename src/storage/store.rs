//! The ledger store: ledgers by hash, the fully validated chain by sequence, and the two
//! numbers a restart needs (the last fully validated ledger and the largest validated sequence).
//!
//! Three redb tables:
//! - `ledgers`: ledger hash -> a [`super::record`] (every ledger we built or validated);
//! - `validated`: sequence -> hash of the fully validated ledger at that sequence;
//! - `meta`: the store format, the "last fully validated" pointer and the largest sequence we
//!   signed a validation for.
//!
//! Every write is one redb transaction committed with redb's default durability (fsync before
//! `commit` returns), so what a method reported as done survives a crash or a power cut, and
//! what it had not finished leaves no trace.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction};

use super::{StorageError, record};
use crate::consensus::hash::Hash256;
use crate::consensus::ledger::{Ledger, Seq};

/// The database file's name inside the data directory.
pub const FILE_NAME: &str = "ledgers.redb";

/// The layout version of the tables. A file written with another layout is refused at open
/// instead of being misread.
pub const STORE_FORMAT: u8 = 1;

/// redb's page cache. Its 1 GiB default is far more than a node's recent ledgers need, and the
/// node also runs a dashboard on the same machine.
const CACHE_BYTES: usize = 32 << 20;

const LEDGERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("ledgers");
const VALIDATED: TableDefinition<u32, &[u8]> = TableDefinition::new("validated");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const KEY_FORMAT: &str = "format";
const KEY_LAST_FULLY_VALIDATED: &str = "last_fully_validated";
const KEY_LARGEST_VALIDATED_SEQ: &str = "largest_validated_seq";

/// A node's ledger history on disk. Methods take `&self` and the store is `Send + Sync`, so it
/// can be shared (in an `Arc`) between the node's tasks; redb serialises the writes.
pub struct LedgerStore {
    db: Database,
    path: PathBuf,
    /// Cached from disk at open and after each commit, so the hot getters cannot fail.
    largest_validated_seq: AtomicU32,
    last_fully_validated: Mutex<Option<Arc<Ledger>>>,
}

impl std::fmt::Debug for LedgerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LedgerStore {
    /// Opens (or creates) the store in `data_dir`, creating the directory if needed.
    ///
    /// The whole file is checked on open (redb's integrity check), so a damaged file is
    /// refused here with an error naming it, instead of making a later read panic inside redb.
    /// The last fully validated ledger is read and verified too: a node must not resume from a
    /// ledger it cannot trust.
    pub fn open(data_dir: &Path) -> Result<LedgerStore, StorageError> {
        fs::create_dir_all(data_dir).map_err(|source| StorageError::CreateDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(FILE_NAME);
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .set_check_integrity_on_open(true)
            .create(&path)
            .map_err(|source| StorageError::Open {
                path: path.clone(),
                source,
            })?;

        let txn = db.begin_write()?;
        let (largest, last) = {
            let ledgers = txn.open_table(LEDGERS)?;
            txn.open_table(VALIDATED)?;
            let mut meta = txn.open_table(META)?;
            let format = meta.get(KEY_FORMAT)?.map(|v| v.value().to_vec());
            match format.as_deref() {
                None => {
                    meta.insert(KEY_FORMAT, &[STORE_FORMAT][..])?;
                }
                Some([STORE_FORMAT]) => {}
                Some(other) => {
                    return Err(StorageError::Corrupt {
                        what: format!("store {}", path.display()),
                        detail: format!("format {other:?}, this build reads format {STORE_FORMAT}"),
                    });
                }
            }
            let largest = read_largest_validated_seq(&meta)?;
            let last = match read_pointer(&meta)? {
                None => None,
                Some((seq, hash)) => {
                    let ledger =
                        read_ledger(&ledgers, &hash)?.ok_or_else(|| StorageError::Corrupt {
                            what: "last fully validated pointer".into(),
                            detail: format!("ledger {seq} ({}) is missing", hash.short()),
                        })?;
                    if ledger.seq() != seq {
                        return Err(StorageError::Corrupt {
                            what: "last fully validated pointer".into(),
                            detail: format!("says seq {seq}, the ledger is {}", ledger.seq()),
                        });
                    }
                    Some(ledger)
                }
            };
            (largest, last)
        };
        txn.commit()?;

        Ok(LedgerStore {
            db,
            path,
            largest_validated_seq: AtomicU32::new(largest),
            last_fully_validated: Mutex::new(last),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores a ledger this node built (`Output::LedgerAccepted`), before it is validated, so
    /// that peers can fetch it and a restart can find it if it becomes fully validated later.
    /// Storing a ledger already held does nothing.
    pub fn put_accepted(&self, ledger: &Ledger) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        {
            let mut ledgers = txn.open_table(LEDGERS)?;
            insert_ledger(&mut ledgers, ledger)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Records newly fully validated ledgers (`Output::LedgerFullyValidated`, one or a batch)
    /// in one atomic commit: the ledgers, the sequence index and the "last fully validated"
    /// pointer move together or not at all, so a restart never finds a pointer to a ledger
    /// that was not written.
    ///
    /// The chain only moves forward: a ledger at or below the current last fully validated
    /// sequence is stored (it may be fetched by hash) but changes neither the index nor the
    /// pointer. Order within the batch does not matter.
    pub fn put_fully_validated(&self, ledgers: &[Arc<Ledger>]) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        let newest = write_fully_validated(&txn, ledgers)?;
        txn.commit()?;
        if let Some(newest) = newest {
            let mut last = self.lock_last();
            if last.as_ref().is_none_or(|l| newest.seq() > l.seq()) {
                *last = Some(newest);
            }
        }
        Ok(())
    }

    /// Raises the largest sequence this node signed a validation for. Durable when it returns:
    /// call it *before* broadcasting the validation, so a crash in between can never let the
    /// node sign that sequence again. A lower or equal `seq` changes nothing.
    pub fn set_largest_validated_seq(&self, seq: Seq) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        let stored = {
            let mut meta = txn.open_table(META)?;
            let current = read_largest_validated_seq(&meta)?;
            if seq > current {
                meta.insert(KEY_LARGEST_VALIDATED_SEQ, &seq.to_be_bytes()[..])?;
            }
            current.max(seq)
        };
        txn.commit()?;
        self.largest_validated_seq
            .fetch_max(stored, Ordering::SeqCst);
        Ok(())
    }

    /// The largest sequence this node ever signed a validation for (0 if none): what
    /// `StartFrom::Resume` needs as `largest_validated_seq`.
    pub fn largest_validated_seq(&self) -> Seq {
        self.largest_validated_seq.load(Ordering::SeqCst)
    }

    /// The newest fully validated ledger, if any was ever recorded.
    pub fn last_fully_validated(&self) -> Option<Arc<Ledger>> {
        self.lock_last().clone()
    }

    /// The stored ledger with `hash` (to answer a peer's request, or to resume).
    pub fn ledger(&self, hash: &Hash256) -> Result<Option<Arc<Ledger>>, StorageError> {
        let txn = self.db.begin_read()?;
        let ledgers = txn.open_table(LEDGERS)?;
        read_ledger(&ledgers, hash)
    }

    /// The fully validated ledger at `seq`, if it was recorded.
    pub fn validated_at(&self, seq: Seq) -> Result<Option<Arc<Ledger>>, StorageError> {
        let txn = self.db.begin_read()?;
        let index = txn.open_table(VALIDATED)?;
        let Some(hash) = index
            .get(seq)?
            .map(|v| hash_from(v.value(), "validated index"))
        else {
            return Ok(None);
        };
        let hash = hash?;
        let ledgers = txn.open_table(LEDGERS)?;
        match read_ledger(&ledgers, &hash)? {
            Some(l) if l.seq() == seq => Ok(Some(l)),
            Some(l) => Err(StorageError::Corrupt {
                what: format!("validated index at {seq}"),
                detail: format!("points at ledger {} ({})", l.seq(), hash.short()),
            }),
            None => Err(StorageError::Corrupt {
                what: format!("validated index at {seq}"),
                detail: format!("ledger {} is missing", hash.short()),
            }),
        }
    }

    /// The chain a restarted engine resumes from: ascending, ending at the last fully validated
    /// ledger, at most `max` long (what `StartFrom::Resume { chain, .. }` takes). It follows
    /// parent hashes, so it is one unbroken chain; it stops early where a parent was never
    /// stored. Empty when nothing was ever fully validated.
    pub fn resume_chain(&self, max: usize) -> Result<Vec<Arc<Ledger>>, StorageError> {
        let Some(mut cur) = self.last_fully_validated() else {
            return Ok(Vec::new());
        };
        if max == 0 {
            return Ok(Vec::new());
        }
        let txn = self.db.begin_read()?;
        let ledgers = txn.open_table(LEDGERS)?;
        let mut chain = vec![cur.clone()];
        while chain.len() < max && cur.seq() > 0 {
            match read_ledger(&ledgers, &cur.parent())? {
                Some(parent) if parent.seq() + 1 == cur.seq() => {
                    chain.push(parent.clone());
                    cur = parent;
                }
                Some(parent) => {
                    return Err(StorageError::Corrupt {
                        what: format!("ledger {} ({})", cur.seq(), cur.hash().short()),
                        detail: format!("its parent has seq {}", parent.seq()),
                    });
                }
                None => break,
            }
        }
        chain.reverse();
        Ok(chain)
    }

    fn lock_last(&self) -> MutexGuard<'_, Option<Arc<Ledger>>> {
        // A panic elsewhere while holding the lock cannot leave the Option half-written.
        self.last_fully_validated
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The writes of [`LedgerStore::put_fully_validated`], uncommitted (tests drop the transaction
/// here to play a crash). Returns the new last fully validated ledger if it moved.
fn write_fully_validated(
    txn: &WriteTransaction,
    batch: &[Arc<Ledger>],
) -> Result<Option<Arc<Ledger>>, StorageError> {
    let mut ledgers = txn.open_table(LEDGERS)?;
    let mut index = txn.open_table(VALIDATED)?;
    let mut meta = txn.open_table(META)?;
    let mut top = read_pointer(&meta)?.map(|(seq, _)| seq);
    let mut sorted: Vec<&Arc<Ledger>> = batch.iter().collect();
    sorted.sort_by_key(|l| l.seq());
    let mut newest = None;
    for ledger in sorted {
        insert_ledger(&mut ledgers, ledger)?;
        if top.is_none_or(|t| ledger.seq() > t) {
            index.insert(ledger.seq(), &ledger.hash().0[..])?;
            top = Some(ledger.seq());
            newest = Some(ledger.clone());
        }
    }
    if let Some(l) = &newest {
        let mut pointer = [0u8; 36];
        pointer[..4].copy_from_slice(&l.seq().to_be_bytes());
        pointer[4..].copy_from_slice(&l.hash().0);
        meta.insert(KEY_LAST_FULLY_VALIDATED, &pointer[..])?;
    }
    Ok(newest)
}

/// Writes `ledger`'s record unless it is already there (a hash names exactly one ledger).
fn insert_ledger(
    table: &mut Table<'_, &'static [u8], &'static [u8]>,
    ledger: &Ledger,
) -> Result<(), StorageError> {
    let key = ledger.hash().0;
    if table.get(&key[..])?.is_none() {
        table.insert(&key[..], &record::encode(ledger)?[..])?;
    }
    Ok(())
}

/// The ledger stored under `hash`, checked against the record's own hashes and the key.
fn read_ledger(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    hash: &Hash256,
) -> Result<Option<Arc<Ledger>>, StorageError> {
    let Some(bytes) = table.get(&hash.0[..])? else {
        return Ok(None);
    };
    let ledger = record::decode(bytes.value())?;
    if ledger.hash() != *hash {
        return Err(StorageError::Corrupt {
            what: format!("ledger record {}", hash.short()),
            detail: format!("holds ledger {}", ledger.hash().short()),
        });
    }
    Ok(Some(Arc::new(ledger)))
}

/// The "last fully validated" pointer: its sequence and hash.
fn read_pointer(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<(Seq, Hash256)>, StorageError> {
    let Some(v) = meta.get(KEY_LAST_FULLY_VALIDATED)? else {
        return Ok(None);
    };
    let bytes = v.value();
    let corrupt = || StorageError::Corrupt {
        what: "last fully validated pointer".into(),
        detail: format!("{} bytes, expected 36", bytes.len()),
    };
    let seq: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(corrupt)?;
    let hash = hash_from(
        bytes.get(4..).ok_or_else(corrupt)?,
        "last fully validated pointer",
    )?;
    Ok(Some((Seq::from_be_bytes(seq), hash)))
}

fn read_largest_validated_seq(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Seq, StorageError> {
    let Some(v) = meta.get(KEY_LARGEST_VALIDATED_SEQ)? else {
        return Ok(0);
    };
    let bytes: [u8; 4] = v.value().try_into().map_err(|_| StorageError::Corrupt {
        what: "largest validated sequence".into(),
        detail: format!("{} bytes, expected 4", v.value().len()),
    })?;
    Ok(Seq::from_be_bytes(bytes))
}

fn hash_from(bytes: &[u8], what: &str) -> Result<Hash256, StorageError> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| StorageError::Corrupt {
        what: what.into(),
        detail: format!("hash of {} bytes, expected 32", bytes.len()),
    })?;
    Ok(Hash256(arr))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::consensus::engine::{Engine, EngineConfig, StartFrom};
    use crate::consensus::params::ConsensusParams;
    use crate::consensus::time::Time;
    use crate::consensus::tx::Tx;
    use crate::consensus::txset::TxSet;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            let p =
                std::env::temp_dir().join(format!("cpeers-store-{tag}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn genesis() -> Arc<Ledger> {
        Arc::new(Ledger::genesis(&ConsensusParams::mainnet()))
    }

    fn next(parent: &Ledger, tag: &str) -> Arc<Ledger> {
        let seq = parent.seq() + 1;
        let txs = TxSet::new((0..3).map(|i| Tx::new(format!("{tag}-{seq}-{i}")).unwrap()));
        Arc::new(Ledger::next(
            parent,
            txs.shared(),
            Time(i64::from(seq) * 10_000),
            true,
            10_000,
        ))
    }

    /// Genesis and `n` ledgers on top of it.
    fn chain(n: usize) -> Vec<Arc<Ledger>> {
        let mut out = vec![genesis()];
        for _ in 0..n {
            let l = next(out.last().unwrap(), "main");
            out.push(l);
        }
        out
    }

    #[test]
    fn the_store_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<LedgerStore>();
    }

    #[test]
    fn what_was_written_is_there_after_reopening() {
        let dir = TempDir::new("reopen");
        let c = chain(4);
        let side = next(&c[2], "side");
        {
            let store = LedgerStore::open(&dir.0).unwrap();
            assert_eq!(store.path(), dir.0.join(FILE_NAME));
            assert_eq!(store.last_fully_validated(), None);
            assert_eq!(store.largest_validated_seq(), 0);
            assert!(store.resume_chain(10).unwrap().is_empty());
            store.put_accepted(&side).unwrap();
            store.put_accepted(&c[4]).unwrap();
            store.put_fully_validated(&c[..4]).unwrap();
            store.set_largest_validated_seq(4).unwrap();
        }
        let store = LedgerStore::open(&dir.0).unwrap();
        assert_eq!(store.last_fully_validated(), Some(c[3].clone()));
        assert_eq!(store.largest_validated_seq(), 4);
        for l in &c {
            assert_eq!(store.ledger(&l.hash()).unwrap(), Some(l.clone()));
        }
        assert_eq!(store.ledger(&side.hash()).unwrap(), Some(side.clone()));
        assert_eq!(store.ledger(&Hash256::of(&[b"nope"])).unwrap(), None);
        for l in &c[..4] {
            assert_eq!(store.validated_at(l.seq()).unwrap(), Some(l.clone()));
        }
        // Accepted but not (yet) validated: stored, not indexed.
        assert_eq!(store.validated_at(4).unwrap(), None);
        assert_eq!(store.resume_chain(2).unwrap(), c[2..4].to_vec());
        assert_eq!(store.resume_chain(100).unwrap(), c[..4].to_vec());
        assert!(store.resume_chain(0).unwrap().is_empty());
    }

    #[test]
    fn a_resumed_engine_starts_on_the_stored_chain() {
        let dir = TempDir::new("resume");
        let c = chain(5);
        {
            let store = LedgerStore::open(&dir.0).unwrap();
            store.put_fully_validated(&c).unwrap();
            store.set_largest_validated_seq(5).unwrap();
        }
        let store = LedgerStore::open(&dir.0).unwrap();
        let cfg = EngineConfig {
            params: ConsensusParams::mainnet(),
            network_id: 1,
            unl: BTreeSet::new(),
            validating: false,
            max_pending: 100,
        };
        let from = StartFrom::Resume {
            chain: store.resume_chain(256).unwrap(),
            largest_validated_seq: store.largest_validated_seq(),
        };
        let engine = Engine::new(cfg, None, from);
        assert_eq!(engine.last_closed(), &c[5]);
        assert_eq!(engine.largest_validated_seq(), 5);
        assert_eq!(engine.ledger_at(1), Some(&c[1]));
    }

    #[test]
    fn the_validated_chain_only_moves_forward() {
        let dir = TempDir::new("forward");
        let store = LedgerStore::open(&dir.0).unwrap();
        let c = chain(5);
        // Out of order within a batch is fine.
        store
            .put_fully_validated(&[c[3].clone(), c[1].clone(), c[2].clone()])
            .unwrap();
        assert_eq!(store.last_fully_validated(), Some(c[3].clone()));
        // Older ledgers and another ledger at an indexed sequence change nothing...
        let fork = next(&c[1], "fork");
        store
            .put_fully_validated(&[c[2].clone(), fork.clone()])
            .unwrap();
        assert_eq!(store.last_fully_validated(), Some(c[3].clone()));
        assert_eq!(store.validated_at(2).unwrap(), Some(c[2].clone()));
        // ...though the ledger itself is kept, for peers asking by hash.
        assert_eq!(store.ledger(&fork.hash()).unwrap(), Some(fork));
        // Moving on, including a gap (the engine reports chains it could not complete).
        store.put_fully_validated(&[c[5].clone()]).unwrap();
        assert_eq!(store.last_fully_validated(), Some(c[5].clone()));
        assert_eq!(store.validated_at(4).unwrap(), None);
        // The resume chain stops where a parent was never stored.
        assert_eq!(store.resume_chain(10).unwrap(), vec![c[5].clone()]);
        store.put_fully_validated(&[]).unwrap();
        drop(store);
        let store = LedgerStore::open(&dir.0).unwrap();
        assert_eq!(store.last_fully_validated(), Some(c[5].clone()));
    }

    #[test]
    fn largest_validated_seq_never_decreases() {
        let dir = TempDir::new("largest");
        let store = LedgerStore::open(&dir.0).unwrap();
        store.set_largest_validated_seq(5).unwrap();
        store.set_largest_validated_seq(3).unwrap();
        assert_eq!(store.largest_validated_seq(), 5);
        drop(store);
        let store = LedgerStore::open(&dir.0).unwrap();
        assert_eq!(store.largest_validated_seq(), 5);
        store.set_largest_validated_seq(0).unwrap();
        store.set_largest_validated_seq(9).unwrap();
        assert_eq!(store.largest_validated_seq(), 9);
        store.set_largest_validated_seq(u32::MAX).unwrap();
        assert_eq!(store.largest_validated_seq(), u32::MAX);
    }

    #[test]
    fn an_uncommitted_write_leaves_no_trace() {
        let dir = TempDir::new("atomic");
        let c = chain(5);
        {
            let store = LedgerStore::open(&dir.0).unwrap();
            store.put_fully_validated(&c[..3]).unwrap();
            store.set_largest_validated_seq(2).unwrap();
            // The exact writes of put_fully_validated, then a "crash" before the commit.
            let txn = store.db.begin_write().unwrap();
            let moved = write_fully_validated(&txn, &c[3..]).unwrap();
            assert_eq!(moved, Some(c[5].clone()));
            drop(txn);
        }
        let store = LedgerStore::open(&dir.0).unwrap();
        assert_eq!(store.last_fully_validated(), Some(c[2].clone()));
        assert_eq!(store.largest_validated_seq(), 2);
        for l in &c[3..] {
            assert_eq!(store.ledger(&l.hash()).unwrap(), None);
            assert_eq!(store.validated_at(l.seq()).unwrap(), None);
        }
        for l in &c[..3] {
            assert_eq!(store.validated_at(l.seq()).unwrap(), Some(l.clone()));
        }
        assert_eq!(store.resume_chain(10).unwrap(), c[..3].to_vec());
    }

    #[test]
    fn a_damaged_record_is_reported_as_corrupt() {
        let dir = TempDir::new("corrupt");
        let c = chain(3);
        let store = LedgerStore::open(&dir.0).unwrap();
        store.put_fully_validated(&c).unwrap();
        assert_eq!(store.last_fully_validated(), Some(c[3].clone()));
        let overwrite = |hash: Hash256, bytes: &[u8]| {
            let txn = store.db.begin_write().unwrap();
            txn.open_table(LEDGERS)
                .unwrap()
                .insert(&hash.0[..], bytes)
                .unwrap();
            txn.commit().unwrap();
        };
        let mut bytes = record::encode(&c[1]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        overwrite(c[1].hash(), &bytes);
        let err = store.ledger(&c[1].hash()).unwrap_err();
        assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
        assert!(matches!(
            store.validated_at(1),
            Err(StorageError::Corrupt { .. })
        ));
        assert!(matches!(
            store.resume_chain(10),
            Err(StorageError::Corrupt { .. })
        ));
        // A valid record under the wrong key.
        overwrite(c[0].hash(), &record::encode(&c[2]).unwrap());
        let err = store.ledger(&c[0].hash()).unwrap_err();
        assert!(err.to_string().contains("holds ledger"), "{err}");
        // The last fully validated ledger itself damaged: the store refuses to open.
        overwrite(c[3].hash(), &[record::RECORD_VERSION, 1, 2, 3]);
        drop(store);
        let err = LedgerStore::open(&dir.0).unwrap_err();
        assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_database_is_an_error_naming_it() {
        let dir = TempDir::new("notdb");
        let path = dir.0.join(FILE_NAME);
        for junk in [
            &b"not a database\n"[..],
            &[0xffu8; 9000][..],
            &[0u8; 5000][..],
        ] {
            fs::write(&path, junk).unwrap();
            let err = LedgerStore::open(&dir.0).unwrap_err();
            assert!(matches!(err, StorageError::Open { .. }), "{err:?}");
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
        }
        // A directory where the file should be.
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        let err = LedgerStore::open(&dir.0).unwrap_err();
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn a_data_dir_that_cannot_be_created_is_an_error_naming_it() {
        let dir = TempDir::new("nodir");
        let file = dir.0.join("a-file");
        fs::write(&file, b"x").unwrap();
        let data_dir = file.join("data");
        let err = LedgerStore::open(&data_dir).unwrap_err();
        assert!(matches!(err, StorageError::CreateDir { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&data_dir.display().to_string()),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_data_dir_is_an_error_naming_the_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("readonly");
        fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o555)).unwrap();
        // Root ignores permission bits; nothing to test then.
        let probe = dir.0.join("probe");
        let privileged = fs::write(&probe, b"x").is_ok();
        if !privileged {
            let err = LedgerStore::open(&dir.0).unwrap_err();
            assert!(matches!(err, StorageError::Open { .. }), "{err:?}");
            assert!(err.to_string().contains(FILE_NAME), "{err}");
        }
        fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_damaged_file_is_refused_or_read_never_a_panic() {
        let dir = TempDir::new("damaged");
        let c = chain(20);
        {
            let store = LedgerStore::open(&dir.0).unwrap();
            for l in &c {
                store.put_fully_validated(std::slice::from_ref(l)).unwrap();
            }
        }
        let path = dir.0.join(FILE_NAME);
        let pristine = fs::read(&path).unwrap();
        // Over the header page (magic, commit slots) more densely than the rest; each
        // open of a damaged file may run redb's repair, so the sample is kept small.
        let header = (0..pristine.len().min(4096)).step_by(53);
        let body = (4096..pristine.len()).step_by((pristine.len() / 40).max(1));
        let mut refused = 0;
        for at in header.chain(body) {
            let mut damaged = pristine.clone();
            damaged[at] ^= 0x5a;
            fs::write(&path, &damaged).unwrap();
            let outcome = std::panic::catch_unwind(|| {
                let Ok(store) = LedgerStore::open(&dir.0) else {
                    return Ok(false);
                };
                // Whatever is read back is either an error or the ledger that was written.
                if let Ok(chain) = store.resume_chain(usize::MAX)
                    && chain.iter().any(|l| *l != c[l.seq() as usize])
                {
                    return Err("resume_chain returned a wrong ledger".to_string());
                }
                for l in &c {
                    if let Ok(Some(got)) = store.validated_at(l.seq())
                        && got != *l
                    {
                        return Err(format!("validated_at({}) is wrong", l.seq()));
                    }
                }
                Ok(true)
            });
            match outcome {
                Err(_) => panic!("panic with byte {at} of {} damaged", pristine.len()),
                Ok(Err(wrong)) => panic!("byte {at} damaged: {wrong}"),
                Ok(Ok(opened)) => refused += usize::from(!opened),
            }
        }
        assert!(refused > 0, "no damage was noticed at all");
    }

    const CHILD_ENV: &str = "CPEERS_STORE_CRASH_CHILD_DIR";

    /// The child of `killed_mid_write_loses_nothing_committed`: writes ledgers in a loop and
    /// prints each sequence once its commit returned, until it is killed. Without the child's
    /// environment variable (a normal test run) it returns at once.
    #[test]
    fn crash_child_writes_until_killed() {
        let Some(dir) = std::env::var_os(CHILD_ENV) else {
            return;
        };
        let store = LedgerStore::open(Path::new(&dir)).unwrap();
        let mut out = std::io::stdout().lock();
        let mut prev = genesis();
        store.put_fully_validated(&[prev.clone()]).unwrap();
        writeln!(out, "committed 0").unwrap();
        out.flush().unwrap();
        // Bounded, in case the parent dies without killing us.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let l = next(&prev, "crash");
            store.put_accepted(&l).unwrap();
            store.set_largest_validated_seq(l.seq()).unwrap();
            store.put_fully_validated(std::slice::from_ref(&l)).unwrap();
            writeln!(out, "committed {}", l.seq()).unwrap();
            out.flush().unwrap();
            prev = l;
        }
    }

    #[test]
    fn killed_mid_write_loses_nothing_committed() {
        let dir = TempDir::new("killed");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "storage::store::tests::crash_child_writes_until_killed",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &dir.0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(seq) = line.strip_prefix("committed ") {
                    let _ = tx.send(seq.parse::<Seq>().unwrap());
                }
            }
        });
        // Let it commit a while, then kill it wherever it is (most likely inside a write).
        let deadline = Instant::now() + Duration::from_millis(1500);
        let mut committed = Vec::new();
        while committed.len() < 200 && Instant::now() < deadline {
            if let Ok(seq) = rx.recv_timeout(Duration::from_millis(20)) {
                committed.push(seq);
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix: no destructor, no flush, no commit.
        child.wait().unwrap();
        reader.join().unwrap();
        committed.extend(rx.try_iter());
        let mut stderr = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
        assert!(committed.len() > 1, "the child committed nothing: {stderr}");

        let store = LedgerStore::open(&dir.0).unwrap();
        let top = *committed.iter().max().unwrap();
        let last = store.last_fully_validated().unwrap();
        assert!(
            last.seq() >= top,
            "lost commit {top}, store ends at {}",
            last.seq()
        );
        assert!(last.seq() <= top + 1, "more than the one write in flight");
        assert!(store.largest_validated_seq() >= top);
        for seq in &committed {
            let l = store.validated_at(*seq).unwrap().unwrap();
            assert_eq!(l.seq(), *seq);
        }
        let chain = store.resume_chain(usize::MAX).unwrap();
        assert_eq!(
            chain.len() as u32,
            last.seq() + 1,
            "unbroken back to genesis"
        );
        for pair in chain.windows(2) {
            assert_eq!(pair[1].parent(), pair[0].hash());
        }
        // And the store still takes writes.
        store.put_fully_validated(&[next(&last, "after")]).unwrap();
    }
}
