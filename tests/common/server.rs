//! The real server binary, started for a test on a free port.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
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
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
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
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _db: None,
        };
        server.wait_until_ready().await;
        server
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

    async fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let response = reqwest::get(format!("{}/healthz", self.base)).await;
            if response.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not answer /healthz within 30 s");
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
