//! The server: configuration, composition, HTTP and, with `REDIS_URL`, the Redis
//! consumer. Subcommands: `consume` runs the consumer alone, without HTTP;
//! `rebuild-read-models` rebuilds the read models from the write model and exits;
//! `create-user [--role viewer|clerk|manager] <username>` adds an account, with the
//! password read from standard input.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use allocation_desk::bootstrap::{bootstrap, open_store};
use allocation_desk::config::Config;
use allocation_desk::domain::staff::{Actor, Role};
use allocation_desk::entrypoints::{self, redis_consumer};
use allocation_desk::service_layer::staff::Staff;
use leptos::config::get_configuration;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runtime settings for Leptos (site root, address); `LEPTOS_*` variables override it.
const LEPTOS_SETTINGS: &str = "Leptos.toml";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        // Colours for a terminal only: not as escape codes in a log file or journal.
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let run = match std::env::args().nth(1).as_deref() {
        None => serve().await,
        Some("consume") => consume().await,
        Some("rebuild-read-models") => rebuild_read_models().await,
        Some("create-user") => create_user(std::env::args().skip(2).collect()).await,
        Some(other) => Err(format!(
            "unknown subcommand {other:?}: use consume, rebuild-read-models, create-user, or none to serve"
        )
        .into()),
    };
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

async fn serve() -> Result<(), Failure> {
    let settings = std::path::Path::new(LEPTOS_SETTINGS)
        .exists()
        .then_some(LEPTOS_SETTINGS);
    let leptos_options = get_configuration(settings)?.leptos_options;
    let address = leptos_options.site_addr;
    let config = Config::from_env()?;
    let services = bootstrap(&config).await?;
    if let Some(client) = services.redis.clone().filter(|_| config.redis_consumer) {
        let bus = Arc::clone(&services.bus);
        tokio::spawn(async move { redis_consumer::run(client, &bus).await });
    }

    let listener = tokio::net::TcpListener::bind(address).await?;
    // The address bound, not the one asked for: port 0 asks for any free port.
    // Under a target of its own, so that a supervisor (or a test) can log this alone.
    tracing::info!(
        target: "allocation_desk::listening",
        "{}http://{}",
        entrypoints::LISTENING_ON,
        listener.local_addr()?
    );
    let router = entrypoints::router(services, leptos_options, entrypoints::page_routes());
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// The Redis consumer (and outbox relay) without the HTTP server.
async fn consume() -> Result<(), Failure> {
    let services = bootstrap(&Config::from_env()?).await?;
    let client = services.redis.clone().ok_or("consume needs REDIS_URL")?;
    tokio::select! {
        () = redis_consumer::run(client, &services.bus) => {},
        () = shutdown_signal() => {},
    }
    Ok(())
}

async fn rebuild_read_models() -> Result<(), Failure> {
    let (store, _) = open_store(&Config::from_env()?).await?;
    store.rebuild_read_models().await?;
    tracing::info!("read models rebuilt from the write model");
    Ok(())
}

/// Adds an account: the way to the first manager without a browser.
async fn create_user(args: Vec<String>) -> Result<(), Failure> {
    const USAGE: &str = "usage: allocation-desk create-user [--role viewer|clerk|manager] <username> (password on standard input)";
    let (role, username) = match args.as_slice() {
        [username] => (Role::Viewer, username),
        [flag, role, username] | [username, flag, role] if flag == "--role" => {
            (Role::parse(role)?, username)
        }
        _ => return Err(USAGE.into()),
    };
    if std::io::stdin().is_terminal() {
        eprint!("Password for {username}: ");
    }
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    let config = Config::from_env()?;
    let (store, _) = open_store(&config).await?;
    let staff = Staff::new(Arc::new(store), config.session_idle);
    let username = staff
        .create_account(&Actor::system(), username, password, role)
        .await?;
    tracing::info!("account {username} created with the role {role}");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, let requests in flight finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
