//! Small pieces every page uses.

use leptos::prelude::*;

pub use crate::views::{eta_text, instant_text};

/// Who did something, as recorded; "—" when it was done before accounts existed.
pub fn by_text(by: Option<String>) -> String {
    by.unwrap_or_else(|| "—".to_owned())
}

/// Shown while a page's data loads (only ever seen with JavaScript on).
pub fn loading() -> impl IntoView {
    view! { <p class="loading">"Loading…"</p> }
}

/// A read that failed, in words.
pub fn failure(error: ServerFnError) -> AnyView {
    let message = match error {
        ServerFnError::ServerError(message) => message,
        other => other.to_string(),
    };
    view! {
        <p class="form-error" role="alert">
            {message}
        </p>
    }
    .into_any()
}

/// Sets the page's HTTP status (server rendering only; routes that use it render
/// `SsrMode::Async`, so the status is sent with the finished page).
pub fn set_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(status),
    ) {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

/// A column of a [`listing`].
pub enum Column {
    Text(&'static str),
    /// Right-aligned.
    Number(&'static str),
    /// Named for screen readers only (a column of buttons).
    Unlabelled(&'static str),
}

/// A table of rows under their column headings, or `empty` when there are no rows.
pub fn listing<R: IntoView + 'static>(
    class: &'static str,
    columns: &[Column],
    rows: Vec<R>,
    empty: impl IntoView + 'static,
) -> AnyView {
    if rows.is_empty() {
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    let head = columns
        .iter()
        .map(|column| match *column {
            Column::Text(title) => view! { <th scope="col">{title}</th> }.into_any(),
            Column::Number(title) => {
                view! { <th scope="col" class="number">{title}</th> }.into_any()
            }
            Column::Unlabelled(title) => view! {
                <th scope="col">
                    <span class="visually-hidden">{title}</span>
                </th>
            }
            .into_any(),
        })
        .collect_view();
    view! {
        <table class=class>
            <thead>
                <tr>{head}</tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
