//! The web desk: Leptos components, rendered on the server and hydrated in the browser.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::StaticSegment;
use leptos_router::components::{Route, Router, Routes};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/allocation-desk.css" />
        <Title text="Allocation desk" />
        <Router>
            <header class="masthead">
                <a class="brand" href="/">
                    "Allocation desk"
                </a>
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=Home />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Home() -> impl IntoView {
    view! {
        <h1>"Allocation desk"</h1>
        <p>"Purchase batches in, customer order lines allocated to them."</p>
        <section>
            <h2>"JSON API"</h2>
            <table>
                <thead>
                    <tr>
                        <th>"Request"</th>
                        <th>"Does"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        <td><code>"POST /add_batch"</code></td>
                        <td>"Adds a purchase batch"</td>
                    </tr>
                    <tr>
                        <td><code>"POST /allocate"</code></td>
                        <td>"Allocates an order line to the best batch"</td>
                    </tr>
                    <tr>
                        <td><code>"POST /deallocate"</code></td>
                        <td>"Cancels an allocated order line"</td>
                    </tr>
                    <tr>
                        <td><code>"GET /allocations/{orderid}"</code></td>
                        <td>"Lists an order's allocations"</td>
                    </tr>
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    expect_context::<leptos_axum::ResponseOptions>().set_status(axum::http::StatusCode::NOT_FOUND);
    view! {
        <h1>"Page not found"</h1>
        <p>
            <a href="/">"Back to the desk"</a>
        </p>
    }
}
