//! Small pieces every page uses.

use leptos::prelude::*;

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

/// An ETA as staff read it.
pub fn eta_text(eta: Option<&str>) -> String {
    eta.unwrap_or("in warehouse").to_owned()
}

/// An RFC 3339 instant as `YYYY-MM-DD HH:MM` (UTC).
pub fn instant_text(rfc3339: &str) -> String {
    rfc3339
        .get(..16)
        .map(|s| s.replacen('T', " ", 1))
        .unwrap_or_else(|| rfc3339.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_shown_to_the_minute() {
        assert_eq!(instant_text("2026-11-27T09:54:12.123Z"), "2026-11-27 09:54");
        assert_eq!(instant_text("garbage"), "garbage");
    }

    #[test]
    fn a_missing_eta_reads_in_warehouse() {
        assert_eq!(eta_text(None), "in warehouse");
        assert_eq!(eta_text(Some("2011-01-02")), "2011-01-02");
    }
}
