//! The serving side: a process that holds the store answers Table calls on a Unix socket.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::wire::{Answer, MAX_LINE, Request};
use crate::store::{StoreError, Table};

/// Lends `table` to other processes at `path` until the answer is dropped: each connection
/// sends Table calls ([`super::SocketTable`]) that `table` answers in turn. A file left at
/// `path` by a process that died is replaced. The socket is made readable and writable by
/// this user only: whoever can reach it can read and write every tenant.
pub async fn lend(table: Arc<dyn Table>, path: &Path) -> std::io::Result<Lent> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    restrict(path)?;
    let task = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(answer(table.clone(), stream));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the store socket refused a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    });
    Ok(Lent {
        path: path.to_owned(),
        task,
    })
}

/// A lent store: dropping it stops answering and removes the socket.
pub struct Lent {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Lent {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Answers the calls of one connection, one at a time, until it closes or sends a line that
/// is not a call.
async fn answer(table: Arc<dyn Table>, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        match super::read_line(&mut lines, &mut line, MAX_LINE).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "a store socket connection failed");
                return;
            }
        }
        let answer = match serde_json::from_slice::<Request>(&line) {
            Ok(request) => call(&*table, request).await,
            Err(e) => {
                tracing::warn!(error = %e, "the store socket received a malformed call");
                return;
            }
        };
        let mut out = serde_json::to_vec(&answer).expect("answers always serialise");
        out.push(b'\n');
        if write.write_all(&out).await.is_err() {
            return;
        }
    }
}

async fn call(table: &dyn Table, request: Request) -> Answer {
    let answered: Result<Answer, StoreError> = async {
        Ok(match request {
            Request::Get(key) => Answer::Item(table.get(&key).await?),
            Request::GetMany(keys) => Answer::Items(table.get_many(&keys).await?),
            Request::Query(query) => Answer::Page(table.query(&query).await?),
            Request::Count(pk, range) => Answer::Count(table.count(&pk, &range).await?),
            Request::Put(item, condition) => {
                table.put(item, condition).await?;
                Answer::Done
            }
            Request::Delete(key, condition) => {
                table.delete(&key, condition).await?;
                Answer::Done
            }
            Request::Transact(writes) => {
                table.transact(writes).await?;
                Answer::Done
            }
            Request::BatchWrite(writes) => {
                table.batch_write(writes).await?;
                Answer::Done
            }
            Request::FirstAcross(pks, range, limit) => {
                let (items, more) = table.first_across(&pks, &range, limit).await?;
                Answer::First(items, more)
            }
        })
    }
    .await;
    answered.unwrap_or_else(|e| Answer::Failed(e.into()))
}
