//! The allocation desk: one crate, two targets. With `ssr` it is the server (service
//! layer, adapters, entry points); with `hydrate` it is the browser bundle, which holds
//! only the domain, the view row types and the UI.

pub mod domain;
pub mod routes;
pub mod ui;
pub mod views;

#[cfg(feature = "ssr")]
pub mod adapters;
#[cfg(feature = "ssr")]
pub mod bootstrap;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod entrypoints;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod service_layer;

/// The browser entry point: readies the islands (the forms that answer in place),
/// then marks the body `data-hydrated` so that tests (and curious people) can tell when
/// they are interactive.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Leptos's loader hydrates the islands right after this returns, in promise
    // callbacks: a timer fires only once they have all run.
    leptos::prelude::set_timeout(
        || {
            if let Some(body) = leptos::prelude::document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}
