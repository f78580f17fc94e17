//! A minimal SMTP server that keeps what it is sent: the sink the mail tests read.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One message as the sink received it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub recipients: Vec<String>,
    /// Headers and body, as sent after `DATA`.
    pub data: String,
}

#[derive(Clone, Default)]
pub struct SmtpSink {
    received: Arc<Mutex<Vec<Received>>>,
    /// How many messages, from now on, to refuse for good (554) instead of keeping.
    refusals: Arc<Mutex<usize>>,
}

impl SmtpSink {
    /// Serves SMTP on `listener` until the test ends.
    pub fn serve(listener: TcpListener) -> Self {
        Self::serve_refusing(listener, 0)
    }

    /// Serves SMTP, refusing the first `refusals` messages with a permanent error.
    pub fn serve_refusing(listener: TcpListener, refusals: usize) -> Self {
        let sink = Self {
            refusals: Arc::new(Mutex::new(refusals)),
            ..Self::default()
        };
        let session_sink = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = session_sink.clone();
                tokio::spawn(async move {
                    let _ = session(stream, sink).await;
                });
            }
        });
        sink
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn session(stream: TcpStream, sink: SmtpSink) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let mut message = Received::default();
    writer.write_all(b"220 sink ESMTP\r\n").await?;
    while let Some(line) = lines.next_line().await? {
        let command = line.to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 sink\r\n"
        } else if command.starts_with("RCPT TO:") {
            message.recipients.push(line[8..].trim().to_owned());
            b"250 OK\r\n"
        } else if command.starts_with("DATA") {
            writer.write_all(b"354 end with .\r\n").await?;
            while let Some(data) = lines.next_line().await? {
                if data == "." {
                    break;
                }
                message.data.push_str(&data);
                message.data.push('\n');
            }
            let message = std::mem::take(&mut message);
            let mut refusals = sink.refusals.lock().unwrap();
            if *refusals > 0 {
                *refusals -= 1;
                b"554 5.7.1 refused\r\n"
            } else {
                sink.received.lock().unwrap().push(message);
                b"250 queued\r\n"
            }
        } else if command.starts_with("QUIT") {
            writer.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 OK\r\n"
        };
        writer.write_all(reply).await?;
    }
    Ok(())
}
