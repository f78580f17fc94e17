//! `/activity`: who did what, newest first, from the command log; `?by=` keeps one
//! person's (or token's) commands.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use super::common::{Column, failure, instant_text, listing, loading};
use crate::views::activity::ActivityEntry;

/// The latest commands, of `by` alone when it is given and not blank.
#[server(prefix = "/api", endpoint = "views/activity", input = GetUrl)]
pub async fn activity(by: Option<String>) -> Result<Vec<ActivityEntry>, ServerFnError> {
    let services = expect_context::<crate::bootstrap::Services>();
    let by = by.as_deref().map(str::trim).filter(|by| !by.is_empty());
    services
        .reports
        .activity(by)
        .await
        .map_err(super::reads::unavailable)
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let by = move || query.read().get("by").unwrap_or_default();
    let entries = Resource::new(by, |by| activity(Some(by)));
    view! {
        <Title text="Activity" />
        <h1>"Activity"</h1>
        <p class="hint">
            "Every change made at the desk, newest first: who added or changed a batch, who allocated or deallocated a line."
        </p>
        <Form method="get" action="/activity" attr:class="filter" attr:role="search">
            <label for="filter-by">"By"</label>
            <input id="filter-by" name="by" type="search" value=by />
            <button type="submit">"Filter"</button>
            <Show when=move || !by().is_empty()>
                <A href="/activity">"Show everyone"</A>
            </Show>
        </Form>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(entries) => entry_table(entries),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

fn entry_table(entries: Vec<ActivityEntry>) -> AnyView {
    let rows = entries
        .into_iter()
        .map(|entry| {
            view! {
                <tr>
                    <td>{instant_text(&entry.at)}</td>
                    <td>{entry.actor}</td>
                    <td>{entry.what}</td>
                </tr>
            }
        })
        .collect();
    let columns = [
        Column::Text("When (UTC)"),
        Column::Text("By"),
        Column::Text("What"),
    ];
    listing("activity", &columns, rows, "Nothing has been done yet.")
}
