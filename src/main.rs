//! The server: configuration, composition, HTTP.

use std::process::ExitCode;

use allocation_desk::bootstrap::bootstrap;
use allocation_desk::config::Config;
use allocation_desk::entrypoints;
use leptos::config::get_configuration;
use tracing_subscriber::EnvFilter;

/// Runtime settings for Leptos (site root, address); `LEPTOS_*` variables override it.
const LEPTOS_SETTINGS: &str = "Leptos.toml";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let settings = std::path::Path::new(LEPTOS_SETTINGS)
        .exists()
        .then_some(LEPTOS_SETTINGS);
    let leptos_options = get_configuration(settings)?.leptos_options;
    let address = leptos_options.site_addr;
    let config = Config::from_env();
    let services = bootstrap(&config)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", config.database_url))?;

    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!("allocation desk on http://{address}");
    let router = entrypoints::router(services, leptos_options, entrypoints::page_routes());
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
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
