//! Stopping without losing work: on SIGTERM (Docker, systemd) or SIGINT
//! (Ctrl-C) the server stops accepting, finishes the requests in flight,
//! lets the background jobs finish what they hold (the billing run its
//! current batch, the deliverers their current round), then exits 0.

use tokio::sync::watch;

/// Whether the process is stopping; cloned into everything that loops.
#[derive(Clone, Debug)]
pub struct Stopping(watch::Receiver<bool>);

impl Default for Stopping {
    /// Never stops (tests, one-shot commands).
    fn default() -> Self {
        let (tx, rx) = watch::channel(false);
        // Kept alive for the process: dropping it would read as a stop.
        std::mem::forget(tx);
        Stopping(rx)
    }
}

impl Stopping {
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the stop is asked for.
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        // An error means the sender is gone: stopping too.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// The side that asks for the stop.
pub struct Stop(watch::Sender<bool>);

/// A new stop switch and what the jobs watch.
pub fn switch() -> (Stop, Stopping) {
    let (tx, rx) = watch::channel(false);
    (Stop(tx), Stopping(rx))
}

impl Stop {
    /// Waits for SIGTERM or SIGINT, then tells every job to stop.
    pub async fn on_signal(self) {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => tracing::info!("SIGINT: stopping"),
            _ = term => tracing::info!("SIGTERM: stopping"),
        }
        let _ = self.0.send(true);
    }
}
