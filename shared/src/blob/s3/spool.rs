//! Spooling a downloaded object into a temporary file, so that a blocking reader can follow
//! an object of any size with bounded memory: the body's chunks go through a small channel to
//! a blocking thread that appends them to the file.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use aws_sdk_s3::primitives::ByteStream;
use tokio::sync::mpsc;

use crate::blob::BlobError;

/// Chunks of the body held in memory at most while the file is written.
const CHUNKS_IN_FLIGHT: usize = 8;

/// The read buffer of the returned reader.
const READ_BUFFER: usize = 256 * 1024;

/// A temporary file read from its start. Its name is removed as soon as it is created (the
/// open handle keeps the data until it is dropped); where that fails, the name is removed
/// on drop.
pub(super) struct Spooled {
    reader: BufReader<File>,
    leftover: Option<PathBuf>,
}

impl Spooled {
    /// A new empty file in `std::env::temp_dir()`, readable by its owner only.
    fn create() -> io::Result<Self> {
        let name: String = crate::ids::random_bytes::<16>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = std::env::temp_dir().join(format!("muster-blob-{name}"));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        let leftover = std::fs::remove_file(&path).err().map(|_| path);
        Ok(Self {
            reader: BufReader::with_capacity(READ_BUFFER, file),
            leftover,
        })
    }
}

impl Read for Spooled {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        if let Some(path) = self.leftover.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The whole of `body` in a temporary file, read from its start; `expected` is the length
/// S3 announced, and a body of another length is an error (a truncated download).
pub(super) async fn download(
    mut body: ByteStream,
    expected: Option<u64>,
) -> Result<Spooled, BlobError> {
    let (chunks, received) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let writer = tokio::task::spawn_blocking(move || write_all(received));
    let mut failed = None;
    loop {
        match body.try_next().await {
            Ok(Some(chunk)) => {
                // A closed channel means the writer stopped: its error is reported below.
                if chunks.send(chunk).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    drop(chunks);
    let written = writer
        .await
        .map_err(|e| BlobError::Backend(format!("spooling the object failed: {e}")))?;
    if let Some(e) = failed {
        tracing::error!(error = %e, "reading an S3 object failed");
        return Err(BlobError::Backend("S3 GetObject failed (body)".into()));
    }
    let (spooled, size) = written.map_err(|e| {
        tracing::error!(error = %e, "writing an S3 object to a temporary file failed");
        BlobError::Backend("the object could not be written to a temporary file".into())
    })?;
    match expected {
        Some(expected) if expected != size => Err(BlobError::Backend(format!(
            "S3 GetObject returned {size} bytes, not the announced {expected}"
        ))),
        _ => Ok(spooled),
    }
}

/// Appends every chunk received to a new temporary file; the file and its length.
fn write_all<B: AsRef<[u8]>>(mut chunks: mpsc::Receiver<B>) -> io::Result<(Spooled, u64)> {
    let mut spooled = Spooled::create()?;
    let mut size = 0u64;
    {
        let mut file = spooled.reader.get_ref();
        while let Some(chunk) = chunks.blocking_recv() {
            let chunk = chunk.as_ref();
            file.write_all(chunk)?;
            size += chunk.len() as u64;
        }
    }
    spooled.reader.seek(SeekFrom::Start(0))?;
    Ok((spooled, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_spooled_body_reads_back_whole_and_leaves_no_file_behind() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut spooled = download(ByteStream::from(bytes.clone()), Some(bytes.len() as u64))
            .await
            .unwrap();
        assert!(spooled.leftover.is_none() || cfg!(not(unix)));
        let mut back = Vec::new();
        spooled.read_to_end(&mut back).unwrap();
        assert_eq!(back, bytes);
    }

    #[tokio::test]
    async fn a_body_shorter_than_announced_is_an_error() {
        let got = download(ByteStream::from(vec![1, 2, 3]), Some(4)).await;
        assert!(matches!(got, Err(BlobError::Backend(m)) if m.contains("not the announced 4")));
    }
}
