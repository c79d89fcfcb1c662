//! Ledger history on disk, so a restarted node resumes where it stopped.
//!
//! Two things must survive a crash, and both are why this module exists:
//! - the chain of fully validated ledgers, which is what `Engine::new(.., StartFrom::Resume ..)`
//!   rebuilds the engine from (see [`LedgerStore::resume_chain`]);
//! - the highest sequence this node ever signed a validation for. A validator that forgot it
//!   could sign two different ledgers at one sequence after a restart, which its peers would
//!   count as equivocation. [`LedgerStore::set_largest_validated_seq`] is durable when it
//!   returns, so the node calls it *before* it broadcasts the validation.
//!
//! The store is a single [redb](https://docs.rs/redb) file, `ledgers.redb`, in the data
//! directory. redb commits are atomic and durable (copy-on-write with checksums), so a crash at
//! any point leaves either the previous commit or the new one, never a mix. Each ledger record
//! also checks itself when read ([`record`]), so damage that slips past redb is reported as
//! [`StorageError::Corrupt`] rather than returned as a wrong ledger.
//!
//! The engine stays sans-IO: the node calls the store when the engine's outputs ask it to
//! persist something. Every method blocks on the disk (a commit waits for fsync), so an async
//! node calls them from a blocking thread (`tokio::task::spawn_blocking`), not from its event
//! loop.

pub mod record;
pub mod store;

use std::path::PathBuf;

use thiserror::Error;

pub use store::{FILE_NAME, LedgerStore, STORE_FORMAT};

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The data directory could not be created (read-only file system, a file in the way...).
    #[error("cannot create the data directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The database file could not be opened: not a redb file, no permission, already open in
    /// another process, or damaged beyond what redb's repair can fix.
    #[error("cannot open the ledger store {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// What redb said.
        source: redb::DatabaseError,
    },
    /// A read or write failed inside redb (I/O error, full disk...).
    #[error("ledger store: {0}")]
    Db(#[source] Box<redb::Error>),
    /// Bytes on disk that are not what was written: a damaged record, an index pointing at a
    /// missing ledger, or a file from an incompatible version.
    #[error("corrupt {what} in the ledger store: {detail}")]
    Corrupt {
        /// What was being read.
        what: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A ledger could not be encoded (should not happen: every ledger has an encoding).
    #[error("cannot encode {what}: {detail}")]
    Encode {
        /// What was being written.
        what: String,
        /// The encoder's message.
        detail: String,
    },
}

/// redb has one error type per operation; every one of them becomes [`StorageError::Db`].
macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> StorageError {
                StorageError::Db(Box::new(e.into()))
            }
        }
    )*};
}

from_redb!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
