//! Entry points: the HTTP server that carries the JSON API, the pages and their
//! server functions, and the Redis consumer. Each turns a request or message into a
//! command for the bus or a view query.

pub mod access;
pub mod api;
pub mod health;
mod observe;
pub mod redis_consumer;
pub mod reports;
mod server_fn_errors;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};

use crate::bootstrap::Services;
use crate::ui::{App, shell};

/// What the server logs once it listens, before the address it bound (under the log
/// target `allocation_desk::listening`): how a supervisor, a test or the load
/// benchmark learns which port it took when asked for any (port 0).
pub const LISTENING_ON: &str = "allocation desk on ";

/// The router's state: what pages and handlers can extract. Every request gets a
/// copy, so it is two `Arc`s; the Leptos settings are copied out only for the pages
/// and files that need them.
#[derive(Clone)]
pub struct ServerState {
    leptos_options: Arc<LeptosOptions>,
    services: Services,
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        LeptosOptions::clone(&state.leptos_options)
    }
}

impl FromRef<ServerState> for Services {
    fn from_ref(state: &ServerState) -> Self {
        state.services.clone()
    }
}

/// The pages' routes, found by running the app once. Do it once per process: while it
/// runs, Leptos holds back every resource in the process (a global flag), so a page
/// rendered at that moment would never finish.
pub fn page_routes() -> Vec<AxumRouteListing> {
    generate_route_list(App)
}

/// The whole HTTP surface: the JSON contract, `/healthz` and `/readyz`, the pages and
/// static files.
pub fn router(
    services: Services,
    leptos_options: LeptosOptions,
    page_routes: Vec<AxumRouteListing>,
) -> Router {
    let state = ServerState {
        leptos_options: Arc::new(leptos_options.clone()),
        services: services.clone(),
    };
    let page_context = services.clone();
    Router::new()
        .merge(api::routes())
        .merge(reports::routes())
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        .leptos_routes_with_context(
            &state,
            page_routes,
            move || provide_context(page_context.clone()),
            move || shell(leptos_options.clone()),
        )
        // Pages reached here (a 404, or a path the page router reads more loosely than
        // axum) render with the same context as every other page.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            ServerState,
            _,
        >(
            {
                let services = services.clone();
                move || provide_context(services.clone())
            },
            shell,
        ))
        // A body streamed without a length is cut off here; one that declares its
        // length too long, and everyone who may not come in, is refused by `admit`.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            access::MAX_BODY_BYTES,
        ))
        .layer(axum::middleware::from_fn_with_state(
            services.clone(),
            access::admit,
        ))
        .layer(axum::middleware::from_fn(without_trailing_slash))
        .layer(axum::middleware::map_response(
            server_fn_errors::bad_requests_are_400,
        ))
        .layer(axum::middleware::from_fn(observe::observe))
        .with_state(state)
}

/// `/batches/` is `/batches`: one address per page, for links, bookmarks and caches.
async fn without_trailing_slash(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    if path.len() > 1 && path.ends_with('/') && request.method() == axum::http::Method::GET {
        let query = request
            .uri()
            .query()
            .map(|query| format!("?{query}"))
            .unwrap_or_default();
        // One leading slash: `//host/` must not become a link to another site.
        let canonical = format!("/{}{query}", path.trim_matches('/'));
        return axum::response::Redirect::permanent(&canonical).into_response();
    }
    next.run(request).await
}
