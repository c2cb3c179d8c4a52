//! The control socket: `<data dir>/quarry.sock`, through which command-line
//! tools reach a running server that holds the data file (`quarry reindex`,
//! `quarry backup`). Only the owner of the data dir can use it: the socket is created
//! with mode 0600. One JSON request per connection, answered by JSON lines.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::app::App;

/// The socket's file name in the data dir.
pub const SOCKET: &str = "quarry.sock";

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    Reindex,
    /// Write a backup to this (absolute) path.
    Backup {
        path: std::path::PathBuf,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    pub message: String,
}

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

#[cfg(unix)]
mod unix {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    use tokio::net::{UnixListener, UnixStream};

    use super::{App, Reply, Request, socket_path};

    /// Serves the control socket until the application shuts down.
    pub fn serve(app: &App) -> std::io::Result<()> {
        let path = socket_path(&app.config().data_dir);
        // A socket left by a server that died is stale: nothing listens on it.
        if path.exists() && std::os::unix::net::UnixStream::connect(&path).is_err() {
            std::fs::remove_file(&path)?;
        }
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let stop = app.shutting_down();
        let worker = app.clone();
        app.spawn_task(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            let app = worker.clone();
                            tokio::spawn(async move { handle(app, stream).await });
                        }
                        Err(error) => tracing::warn!(%error, "control socket"),
                    },
                    () = stop.cancelled() => break,
                }
            }
            let _ = std::fs::remove_file(&path);
        });
        Ok(())
    }

    async fn handle(app: App, stream: UnixStream) {
        let (read, mut write) = stream.into_split();
        let mut line = String::new();
        // A request is one short line; a peer sending more is cut off.
        let mut reader = tokio::io::BufReader::new(read.take(64 * 1024));
        let reply = match reader.read_line(&mut line).await {
            Ok(_) => match serde_json::from_str::<Request>(&line) {
                Ok(Request::Reindex) => {
                    tracing::info!("reindex requested on the control socket");
                    match app.reindex().await {
                        Ok(seq) => Reply {
                            ok: true,
                            message: format!("search index rebuilt at change {seq} and swapped in"),
                        },
                        Err(error) => Reply {
                            ok: false,
                            message: error.to_string(),
                        },
                    }
                }
                Ok(Request::Backup { path }) => {
                    tracing::info!(file = %path.display(), "backup requested on the control socket");
                    let actor = crate::domain::accounts::Actor::cli();
                    match app
                        .backup_to(path.clone(), &actor, std::sync::Arc::default())
                        .await
                    {
                        Ok(header) => Reply {
                            ok: true,
                            message: format!(
                                "backup written to {} ({} bytes of data up to change {}, sha256 {})",
                                path.display(),
                                header.length,
                                header.last_seq,
                                header.sha256
                            ),
                        },
                        Err(error) => Reply {
                            ok: false,
                            message: error.to_string(),
                        },
                    }
                }
                Err(error) => Reply {
                    ok: false,
                    message: format!("not a request this server knows: {error}"),
                },
            },
            Err(error) => Reply {
                ok: false,
                message: error.to_string(),
            },
        };
        let mut text = serde_json::to_string(&reply).expect("replies serialize");
        text.push('\n');
        let _ = write.write_all(text.as_bytes()).await;
    }

    /// Sends `request` to the server running on `data_dir`; `None` when no
    /// server listens there.
    pub fn call(data_dir: &Path, request: &Request) -> std::io::Result<Option<Reply>> {
        let Ok(mut stream) = std::os::unix::net::UnixStream::connect(socket_path(data_dir)) else {
            return Ok(None);
        };
        let mut text = serde_json::to_string(request).expect("requests serialize");
        text.push('\n');
        stream.write_all(text.as_bytes())?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line)?;
        serde_json::from_str(&line)
            .map(Some)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

#[cfg(unix)]
pub use unix::{call, serve};

#[cfg(not(unix))]
pub fn serve(_: &App) -> std::io::Result<()> {
    Ok(())
}

#[cfg(not(unix))]
pub fn call(_: &Path, _: &Request) -> std::io::Result<Option<Reply>> {
    Ok(None)
}
