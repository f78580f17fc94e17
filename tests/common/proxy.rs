//! A TCP proxy in front of a real service, which a test can cut off and restore: to the
//! server under test the service stops and starts again, while the shared PostgreSQL
//! and Redis keep serving every other test.

use std::net::SocketAddr;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Proxy {
    pub port: u16,
    /// `true` while the service is reachable through the proxy.
    open: watch::Sender<bool>,
    accepting: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl Proxy {
    /// A proxy to `target` (`host:port`), open.
    pub async fn to(target: &str) -> Self {
        let target: SocketAddr = target.parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (open, watching) = watch::channel(true);
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut watching = watching.clone();
                if !*watching.borrow_and_update() {
                    // Down: the connection is closed as soon as it is made.
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(upstream) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut client, mut upstream) = (client, upstream);
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut upstream) => {}
                        // Cut: both ends are dropped, mid-conversation or not.
                        _ = watching.wait_for(|open| !open) => {}
                    }
                });
            }
        });
        Self {
            port,
            open,
            accepting,
        }
    }

    /// The service goes down: every connection through the proxy is closed, and new
    /// ones are closed as soon as they are made.
    pub fn cut(&self) {
        self.open.send_replace(false);
    }

    /// The service is back.
    pub fn restore(&self) {
        self.open.send_replace(true);
    }
}
