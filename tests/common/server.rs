//! The real server binary, started for a test on a free port.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use allocation_desk::entrypoints::LISTENING_ON;
use serde_json::Value;

use super::TestDb;

/// The server process, killed when the test ends however it ends.
pub struct Server {
    child: Child,
    pub base: String,
    /// The database the server was started on, when it is the server's alone.
    _db: Option<TestDb>,
}

/// Why a server started did not come up.
enum Unready {
    Exited,
    Silent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the server on a database of its own, with `env` added to its environment.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let db = TestDb::new().await;
        let mut server = Self::on(&db.url, env).await;
        server._db = Some(db);
        server
    }

    /// Starts the server on the database at `url`, which other servers may share. It
    /// binds any free port (port 0) and logs the address it took: a port found free
    /// here and let go for the server could be taken by another test in between.
    pub async fn on(url: &str, env: &[(&str, &str)]) -> Self {
        // Its log (standard output) tells its address, and why, should it not start.
        let log = tempfile::tempfile().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_allocation-desk"))
            .env("DATABASE_URL", url)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "warn,allocation_desk::listening=info")
            // The JSON contract as the reference's test-suite uses it: no token. Tests
            // of the front door itself set it to "".
            .env("ANONYMOUS_API_ROLE", "manager")
            // Only what the test asks for: nothing from the developer's shell.
            .env_remove("REDIS_URL")
            .env_remove("SMTP_URL")
            .envs(env.iter().copied())
            .stdout(log.try_clone().unwrap())
            .spawn()
            .unwrap();
        let mut server = Self {
            child,
            base: String::new(),
            _db: None,
        };
        match server.wait_until_ready(&log).await {
            Ok(()) => server,
            Err(Unready::Exited) => panic!("the server exited at start: {}", logged(&log)),
            Err(Unready::Silent) => panic!(
                "the server did not log its address and answer /healthz within 30 s: {}",
                logged(&log)
            ),
        }
    }

    /// Asks the process to stop (SIGTERM), as a supervisor does.
    pub fn terminate(&self) {
        let stopped = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(stopped.success());
    }

    /// Waits at most `limit` for the process to exit, and gives its exit status.
    pub fn exit_status(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server still runs after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process at once (SIGKILL): no graceful stop, a crash.
    pub fn crash(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits at most 30 s for the server to log its address, then to answer there.
    async fn wait_until_ready(&mut self, log: &File) -> Result<(), Unready> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return Err(Unready::Exited);
            }
            if self.base.is_empty() {
                self.base = address(&logged(log)).unwrap_or_default();
            } else {
                let response = reqwest::get(format!("{}/healthz", self.base)).await;
                if response.is_ok_and(|r| r.status().is_success()) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(Unready::Silent)
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.base)).await.unwrap()
    }

    /// A GET with the session cookie of `session`.
    pub async fn get_as(&self, session: &str, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("desk_session={session}"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
    }
}

/// Everything the server has logged so far. Read at offsets: the server writes through
/// the same open file, and moving its offset would have it write over its log.
fn logged(log: &File) -> String {
    let mut logged = Vec::new();
    let mut chunk = [0; 8192];
    loop {
        match log.read_at(&mut chunk, logged.len() as u64).unwrap() {
            0 => return String::from_utf8_lossy(&logged).into_owned(),
            read => logged.extend_from_slice(&chunk[..read]),
        }
    }
}

/// The address the server logged it listens on, once the line is whole.
fn address(logged: &str) -> Option<String> {
    let (_, rest) = logged.split_once(LISTENING_ON)?;
    let (address, _) = rest.split_once('\n')?;
    Some(address.trim().to_owned())
}
