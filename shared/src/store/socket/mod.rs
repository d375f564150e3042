//! A store lent over a Unix socket. The embedded store's file belongs to one process at a time
//! (one disk sync per commit instead of two), so `muster serve` lends its store to the admin
//! commands run beside it: they send each Table call over the socket in its data directory,
//! and serve's writer commits their writes with its own.

mod server;
mod wire;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

pub use server::{Lent, lend};
pub(crate) use wire::base64_bytes;
use wire::{Answer, MAX_LINE, Request};

use super::{Condition, Item, Key, Page, Query, SkRange, StoreError, Table, Write};

/// A [`Table`] answered by the process that lends its store at a socket ([`lend`]). Calls
/// made at once go over connections of their own; a connection is reused once its call is
/// answered.
pub struct SocketTable {
    path: PathBuf,
    idle: Mutex<Vec<BufReader<UnixStream>>>,
}

impl SocketTable {
    /// Connects to the store lent at `path`; fails when no process answers there (none
    /// listens, or the socket was left by a process that died).
    pub async fn connect(path: &Path) -> std::io::Result<Self> {
        let first = UnixStream::connect(path).await?;
        Ok(Self {
            path: path.to_owned(),
            idle: Mutex::new(vec![BufReader::new(first)]),
        })
    }

    async fn call(&self, request: Request) -> Result<Answer, StoreError> {
        let idle = self.idle.lock().expect("the pool is never poisoned").pop();
        let mut stream = match idle {
            Some(stream) => stream,
            None => BufReader::new(UnixStream::connect(&self.path).await.map_err(lost)?),
        };
        let mut out = serde_json::to_vec(&request).expect("calls always serialise");
        out.push(b'\n');
        stream.get_mut().write_all(&out).await.map_err(lost)?;
        let mut line = Vec::new();
        if !read_line(&mut stream, &mut line, MAX_LINE)
            .await
            .map_err(lost)?
        {
            return Err(lost("the connection closed"));
        }
        let answer: Answer = serde_json::from_slice(&line).map_err(lost)?;
        self.idle
            .lock()
            .expect("the pool is never poisoned")
            .push(stream);
        match answer {
            Answer::Failed(failure) => Err(failure.into()),
            answer => Ok(answer),
        }
    }
}

fn lost(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("the running muster serve did not answer: {e}"))
}

fn unexpected() -> StoreError {
    StoreError::Backend("the running muster serve answered another call".into())
}

/// Reads one line into `line` (without its newline); false at the end of the stream. A line
/// longer than `max` is an error.
pub(crate) async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<bool> {
    loop {
        let buffer = reader.fill_buf().await?;
        if buffer.is_empty() {
            return match line.is_empty() {
                true => Ok(false),
                false => Err(std::io::ErrorKind::UnexpectedEof.into()),
            };
        }
        let (taken, done) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (buffer.len(), false),
        };
        line.extend_from_slice(&buffer[..taken - usize::from(done)]);
        reader.consume(taken);
        if line.len() > max {
            return Err(std::io::Error::other("a line longer than allowed"));
        }
        if done {
            return Ok(true);
        }
    }
}

#[async_trait]
impl Table for SocketTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        match self.call(Request::Get(key.clone())).await? {
            Answer::Item(item) => Ok(item),
            _ => Err(unexpected()),
        }
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        match self.call(Request::GetMany(keys.to_vec())).await? {
            Answer::Items(items) => Ok(items),
            _ => Err(unexpected()),
        }
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        match self.call(Request::Query(query.clone())).await? {
            Answer::Page(page) => Ok(page),
            _ => Err(unexpected()),
        }
    }

    async fn count(&self, pk: &str, range: &SkRange) -> Result<u64, StoreError> {
        match self.call(Request::Count(pk.into(), range.clone())).await? {
            Answer::Count(n) => Ok(n),
            _ => Err(unexpected()),
        }
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        done(self.call(Request::Put(item, condition)).await?)
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        done(self.call(Request::Delete(key.clone(), condition)).await?)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        done(self.call(Request::Transact(writes)).await?)
    }

    async fn batch_write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        done(self.call(Request::BatchWrite(writes)).await?)
    }

    async fn first_across(
        &self,
        pks: &[String],
        range: &SkRange,
        limit: usize,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        let request = Request::FirstAcross(pks.to_vec(), range.clone(), limit);
        match self.call(request).await? {
            Answer::First(items, more) => Ok((items, more)),
            _ => Err(unexpected()),
        }
    }
}

fn done(answer: Answer) -> Result<(), StoreError> {
    match answer {
        Answer::Done => Ok(()),
        _ => Err(unexpected()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::EmbeddedTable;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lent_store_passes_the_table_contract_over_its_socket() {
        let dir = std::env::temp_dir().join(format!("muster-lent-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("store.sock");
        let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory());
        let lent = lend(table, &path).await.unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only this user may reach the store");
        crate::store::contract::run_all(|| async { SocketTable::connect(&path).await.unwrap() })
            .await;
        drop(lent);
        assert!(!path.exists(), "the socket is removed once no longer lent");
        assert!(SocketTable::connect(&path).await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_line_longer_than_allowed_is_refused() {
        let mut input: &[u8] = b"0123456789\nrest";
        let mut line = Vec::new();
        assert!(read_line(&mut input, &mut line, 4).await.is_err());
        let mut input: &[u8] = b"0123\nrest";
        line.clear();
        assert!(read_line(&mut input, &mut line, 4).await.unwrap());
        assert_eq!(line, b"0123");
        line.clear();
        assert!(
            read_line(&mut input, &mut line, 4).await.is_err(),
            "no newline at the end"
        );
    }
}
