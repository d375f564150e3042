//! Opening the store: the process that holds the embedded file (`muster serve`, or an admin
//! command run while no serve does) lends it on a socket in the data directory; the others
//! borrow it from there.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use muster::store::{EmbeddedTable, Lent, SocketTable, Table};

use crate::DataArgs;

/// Where a running `muster serve` lends its store, in the data directory.
const SOCKET: &str = "muster.sock";

/// How long an open waits for another command that holds the file (each holds it for one
/// command's work) before giving up.
const WAIT_FOR_FILE: Duration = Duration::from_secs(10);

/// The store this command opened itself, lent until [`release`].
static LENT: std::sync::Mutex<Option<Lent>> = std::sync::Mutex::new(None);

/// Stops lending the store this command opened (removing its socket), before it exits.
pub fn release() {
    drop(LENT.lock().expect("never poisoned").take());
}

/// Opens the store for an admin command: the DynamoDB table with `--aws`; else the store a
/// running `muster serve` lends in the data directory (created if needed), or the embedded
/// file itself when none does. Refuses a table written in another key layout.
pub async fn open_store(data: &DataArgs) -> anyhow::Result<Arc<dyn Table>> {
    let table = match aws_table(data).await? {
        Some(table) => table,
        None => borrow_or_open(&data.data).await?,
    };
    muster::store::ensure_schema(&*table).await?;
    Ok(table)
}

/// Opens the store for `muster serve`, which keeps the embedded file for itself and lends it
/// to admin commands until the answer's [`Lent`] is dropped (none with `--aws`, or when the
/// socket cannot be made: then commands wait for serve to stop, as they say).
pub async fn open_for_serve(data: &DataArgs) -> anyhow::Result<(Arc<dyn Table>, Option<Lent>)> {
    if let Some(table) = aws_table(data).await? {
        muster::store::ensure_schema(&*table).await?;
        return Ok((table, None));
    }
    let file = data.data.join("muster.redb");
    let give_up = Instant::now() + WAIT_FOR_FILE;
    let table: Arc<dyn Table> = loop {
        if let Some(own) = EmbeddedTable::open_unless_held(&file)? {
            break Arc::new(own);
        }
        anyhow::ensure!(
            Instant::now() < give_up,
            "{} is held by another program (another muster serve, or a long admin command); stop it and retry",
            file.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    muster::store::ensure_schema(&*table).await?;
    let socket = data.data.join(SOCKET);
    let lent = match muster::store::lend(table.clone(), &socket).await {
        Ok(lent) => Some(lent),
        Err(e) => {
            tracing::warn!(socket = %socket.display(), error = %e,
                "cannot lend the store: admin commands will wait until serve stops");
            None
        }
    };
    Ok((table, lent))
}

async fn aws_table(data: &DataArgs) -> anyhow::Result<Option<Arc<dyn Table>>> {
    std::fs::create_dir_all(&data.data)
        .with_context(|| format!("cannot create the data directory {}", data.data.display()))?;
    if !data.aws {
        return Ok(None);
    }
    let table = muster::store::DynamoTable::from_env(data.table.clone()).await?;
    Ok(Some(Arc::new(table)))
}

/// The store lent by a running serve, else the file, waiting a while for a command that
/// holds it.
async fn borrow_or_open(dir: &Path) -> anyhow::Result<Arc<dyn Table>> {
    let (socket, file) = (dir.join(SOCKET), dir.join("muster.redb"));
    let give_up = Instant::now() + WAIT_FOR_FILE;
    loop {
        if let Ok(lent) = SocketTable::connect(&socket).await {
            return Ok(Arc::new(lent));
        }
        if let Some(own) = EmbeddedTable::open_unless_held(&file)? {
            let own: Arc<dyn Table> = Arc::new(own);
            // Lent for as long as this command runs, so that a `muster check` run beside a
            // long command (a tenant-wide derivation) reads the same store.
            match muster::store::lend(own.clone(), &socket).await {
                Ok(lent) => *LENT.lock().expect("never poisoned") = Some(lent),
                Err(e) => tracing::debug!(error = %e, "the store is not lent"),
            }
            return Ok(own);
        }
        anyhow::ensure!(
            Instant::now() < give_up,
            "{} is held by a program that does not lend it; retry when it ends",
            file.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
