//! The web desk: Leptos pages, rendered on the server. Pages read views through GET
//! server functions; forms post one command each through a server function, which
//! redirects to the page that shows the result. Only the forms that answer in place are
//! hydrated in the browser (islands): links load whole pages, which keeps the
//! WebAssembly bundle to those forms.

mod accounts;
mod activity;
mod allocate;
mod batch;
mod batches;
mod chart;
mod common;
mod dashboard;
pub mod form;
mod orders;
pub mod reads;
mod reports;
mod session;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment, path};

use crate::domain::staff::Permission;
use session::{Allowed, SignedIn};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
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
    session::CurrentActor::provide();
    view! {
        <Stylesheet id="leptos" href="/pkg/allocation-desk.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Allocation desk".to_owned() } else { format!("{page} · Allocation desk") }
        } />
        <Router>
            <header class="masthead">
                <A href="/" attr:class="brand">
                    "Allocation desk"
                </A>
                <nav aria-label="Main">
                    <A href="/" exact=true>
                        "Stock"
                    </A>
                    <A href="/batches">"Batches"</A>
                    <Allowed permission=Permission::Allocate>
                        <A href="/allocate">"Allocate"</A>
                    </Allowed>
                    <A href="/orders">"Orders"</A>
                    <A href="/reports">"Reports"</A>
                    <A href="/activity">"Activity"</A>
                    <Allowed permission=Permission::ManageAccounts>
                        <A href="/accounts">"Accounts"</A>
                    </Allowed>
                </nav>
                <SignedIn />
            </header>
            <main>
                // Pages render whole before the first byte (`Async`): they work without
                // JavaScript and can answer 404.
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=dashboard::DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/batches") view=batches::BatchesPage ssr=SsrMode::Async />
                    <Route path=path!("/batches/:reference") view=batch::BatchPage ssr=SsrMode::Async />
                    <Route path=path!("/allocate") view=allocate::AllocatePage ssr=SsrMode::Async />
                    <Route path=path!("/orders") view=orders::OrderSearchPage ssr=SsrMode::Async />
                    <Route path=path!("/orders/:orderid") view=orders::OrderPage ssr=SsrMode::Async />
                    <Route path=path!("/reports") view=reports::ReportsPage ssr=SsrMode::Async />
                    <Route path=path!("/reports/:report") view=reports::ReportPage ssr=SsrMode::Async />
                    <Route path=path!("/accounts") view=accounts::AccountsPage ssr=SsrMode::Async />
                    <Route path=path!("/activity") view=activity::ActivityPage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=session::LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/setup") view=session::SetupPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    common::set_status(404);
    view! {
        <Title text="Page not found" />
        <h1>"Page not found"</h1>
        <p>
            <a href="/">"Back to the desk"</a>
        </p>
    }
}
