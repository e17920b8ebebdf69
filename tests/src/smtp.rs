//! A tiny SMTP sink on loopback for the mail-queue tests: it accepts any sender and recipient
//! (no TLS, no authentication) and keeps every message it received, so a test can stop and
//! restart "the mail server" and count what arrived. Enough of RFC 5321 for lettre's client:
//! greeting, EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<String>>>,
    /// While true, a message's final "250" waits: a slow server.
    held: Arc<tokio::sync::watch::Sender<bool>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on `port` (0: any free port).
    pub async fn start(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("the SMTP sink binds");
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let held = Arc::new(tokio::sync::watch::Sender::new(false));
        let (store, gate) = (received.clone(), held.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (store, gate) = (store.clone(), gate.subscribe());
                tokio::spawn(async move {
                    let _ = session(stream, store, gate).await;
                });
            }
        });
        Self { port, received, held, task }
    }

    /// From now on the sink takes each message but does not accept it (the final "250") until
    /// `release`: a slow server.
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    pub fn release(&self) {
        self.held.send_replace(false);
    }

    /// A port nothing listens on (yet): bound, then released.
    pub async fn free_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }

    /// The raw messages received so far (headers and body, CRLF line ends).
    pub fn messages(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }

    /// Waits up to `secs` seconds for at least `n` messages.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<String> {
        for _ in 0..secs * 20 {
            if self.messages().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.messages()
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<String>>>,
    mut held: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-sink.test\r\n250 8BITMIME\r\n").await?,
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut message = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    message.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                if held.wait_for(|h| !h).await.is_err() {
                    return Ok(());
                }
                store.lock().unwrap().push(message);
                write.write_all(b"250 queued\r\n").await?;
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"250 ok\r\n").await?,
        }
    }
}
