//! The real server binary, started for a test on a free port.

use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

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

    /// Starts the server on the database at `url`, which other servers may share.
    pub async fn on(url: &str, env: &[(&str, &str)]) -> Self {
        // The port is found free, then let go for the server to take: in between,
        // another process may take it. The server then exits at once, and is started
        // again on another port.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            match Self::spawn(url, port, env).await {
                Ok(server) => return server,
                Err((Unready::Exited, log)) if log.contains("Address already in use") => {}
                Err((Unready::Exited, log)) => panic!("the server exited at start: {log}"),
                Err((Unready::Silent, log)) => {
                    panic!("the server did not answer /healthz within 30 s: {log}")
                }
            }
        }
        panic!("the server found no free port in three tries");
    }

    /// The server on `port`, once it answers.
    async fn spawn(url: &str, port: u16, env: &[(&str, &str)]) -> Result<Self, (Unready, String)> {
        // Its log (standard output) is kept to tell why, should it not start.
        let mut log = tempfile::tempfile().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_allocation-desk"))
            .env("DATABASE_URL", url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
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
            base: format!("http://127.0.0.1:{port}"),
            _db: None,
        };
        let Err(unready) = server.wait_until_ready().await else {
            return Ok(server);
        };
        let mut logged = String::new();
        log.seek(SeekFrom::Start(0)).unwrap();
        log.read_to_string(&mut logged).unwrap();
        Err((unready, logged))
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

    /// Waits at most 30 s for the server to answer.
    async fn wait_until_ready(&mut self) -> Result<(), Unready> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return Err(Unready::Exited);
            }
            let response = reqwest::get(format!("{}/healthz", self.base)).await;
            if response.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
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
