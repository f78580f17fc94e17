//! Forms: what a command's server function answers, and the labelled field that
//! shows a refusal beside the input with what was typed still in it, with or without
//! JavaScript.
//!
//! A refused command is an answer, not a failure: the server function succeeds with
//! [`Submission::Refused`] (no error status, so no console error in the browser).
//! Without JavaScript it also redirects back to the form's page with the refusal in
//! the query string ([`REFUSAL_PARAM`]), where the page reads it to render the form.
//!
//! Forms that answer in place are islands: the only parts of the desk that run in the
//! browser. The page hands each the refusal it was redirected back with, if it is the
//! form's own ([`refused_by`]).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// The query parameter that carries a refusal back to a page rendered without
/// JavaScript, as JSON.
pub const REFUSAL_PARAM: &str = "refused";

/// How a command posted from a form ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Submission {
    /// Done; the browser is on its way to the page that shows the result.
    Accepted,
    Refused(FormError),
}

/// Why a form was refused, in words for staff, with what was typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct FormError {
    /// The `name` of the input the message is about; `None`: the whole form.
    pub field: Option<String>,
    pub message: String,
    /// `(name, value)` of every input as submitted.
    pub submitted: Vec<(String, String)>,
    /// The path of the server function that refused, so that of several forms on a
    /// page only the one posted shows the refusal.
    #[serde(default)]
    pub action: Option<String>,
}

impl FormError {
    pub fn new(field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            field: field.map(str::to_owned),
            message: message.into(),
            submitted: Vec::new(),
            action: None,
        }
    }

    /// Keeps what was typed, to be shown again.
    pub fn with_input(mut self, submitted: &[(&str, &str)]) -> Self {
        self.submitted = submitted
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        self
    }

    pub fn submitted(&self, name: &str) -> Option<&str> {
        self.submitted
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The refusal to show with a form: its last submission's (with JavaScript), else the
/// one the page was redirected back with (without).
pub fn refusal(
    last: impl Get<Value = Option<Result<Submission, ServerFnError>>> + Send + Sync + 'static,
    redirected: Option<FormError>,
) -> Signal<Option<FormError>> {
    Signal::derive(move || match last.get() {
        Some(Ok(Submission::Refused(error))) => Some(error),
        Some(Ok(Submission::Accepted)) => None,
        Some(Err(error)) => Some(FormError::new(None, error.to_string())),
        None => redirected.clone(),
    })
}

/// The refusal this page was redirected back with, if one of the server functions at
/// `actions` (their `PATH`s) gave it. Read on the server, as the page renders.
pub fn refused_by(actions: &[&str]) -> Option<FormError> {
    use_query_map()
        .with_untracked(|query| query.get(REFUSAL_PARAM))
        .and_then(|json| serde_json::from_str::<FormError>(&json).ok())
        .filter(|error| {
            error
                .action
                .as_deref()
                .is_some_and(|action| actions.contains(&action))
        })
}

/// A labelled input, named after the command field it fills. A refusal about this
/// field is shown beside it, and what was typed is put back.
#[component]
pub fn Field(
    /// Distinguishes the ids of two forms on one page.
    form: &'static str,
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional, into)] value: Option<String>,
    /// The id of a `<datalist>` of suggestions, e.g. [`KnownSkus`].
    #[prop(optional)]
    suggestions: Option<&'static str>,
    error: Signal<Option<FormError>>,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let message_id = format!("{id}-error");
    let message = move || {
        error
            .get()
            .filter(|e| e.field.as_deref() == Some(name))
            .map(|e| e.message)
    };
    let typed = move || {
        error
            .get()
            .and_then(|e| e.submitted(name).map(str::to_owned))
            .or_else(|| value.clone())
            .unwrap_or_default()
    };
    let invalid = move || message().is_some().then_some("true");
    let described = {
        let message_id = message_id.clone();
        move || message().is_some().then(|| message_id.clone())
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                value=typed
                required=required
                aria-invalid=invalid
                aria-describedby=described
                min=(kind == "number").then_some("1")
                step=(kind == "number").then_some("1")
                list=suggestions
                autocomplete=suggestions.map(|_| "off")
            />
            {hint.map(|hint| view! { <small class="hint">{hint}</small> })}
            {move || {
                message()
                    .map(|message| {
                        view! {
                            <p class="field-error" id=message_id.clone()>
                                {message}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// The id of the [`KnownSkus`] list, for a [`Field`]'s `suggestions`.
const KNOWN_SKUS: &str = "known-skus";

/// The SKU field, suggesting the SKUs the desk knows as it is typed in: a typo caught
/// before it becomes "Unknown SKU". The page puts [`KnownSkus`] beside the form.
#[component]
pub fn SkuField(form: &'static str, error: Signal<Option<FormError>>) -> impl IntoView {
    view! { <Field form label="SKU" name="sku" required=true suggestions=KNOWN_SKUS error /> }
}

/// The SKUs the desk knows, for [`SkuField`]s: rendered on the server, outside the
/// form's island, so the browser does not load them again.
#[component]
pub fn KnownSkus() -> impl IntoView {
    let skus = Resource::new(|| (), |()| super::reads::skus());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let options = skus
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .map(|sku| view! { <option value=sku></option> })
                    .collect_view();
                view! { <datalist id=KNOWN_SKUS>{options}</datalist> }
            })}
        </Suspense>
    }
}

/// A refusal that is about the whole form rather than one field.
#[component]
pub fn FormMessage(error: Signal<Option<FormError>>) -> impl IntoView {
    move || {
        error.get().filter(|e| e.field.is_none()).map(|e| {
            view! {
                <p class="form-error" role="alert">
                    {e.message}
                </p>
            }
        })
    }
}

/// Parses one submitted field; a refusal names the field as its label does, e.g.
/// "Quantity must be a whole number above 0".
pub fn parse_field<T>(
    name: &str,
    label: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<T, crate::domain::values::InvalidValue>,
) -> Result<T, FormError> {
    parse(raw).map_err(|problem| FormError::new(Some(name), problem.in_field(label).to_string()))
}

#[cfg(feature = "ssr")]
mod server {
    use std::future::Future;

    use axum::http::{HeaderMap, Uri, header};
    use leptos::prelude::{ServerFnError, use_context};

    use super::{FormError, REFUSAL_PARAM, Submission};
    use crate::adapters::StoreError;
    use crate::bootstrap::Services;
    use crate::domain::commands::Command;
    use crate::domain::model::DomainError;
    use crate::domain::staff::Actor;
    use crate::entrypoints::access::actor_of;
    use crate::service_layer::ServiceError;
    use crate::service_layer::staff::StaffError;

    impl FormError {
        /// A refused command, in staff's words, beside the field it is about.
        pub fn from_service(error: ServiceError) -> Self {
            match error {
                ServiceError::InvalidSku(sku) => {
                    Self::new(Some("sku"), format!("Unknown SKU {sku}"))
                }
                ServiceError::Domain(DomainError::DuplicateBatch(reference)) => {
                    Self::new(Some("ref"), format!("Batch {reference} already exists"))
                }
                ServiceError::Domain(error) => Self::new(None, error.to_string()),
                error @ ServiceError::Forbidden { .. } => Self::new(None, error.to_string()),
                ServiceError::Store(StoreError::Conflict(_)) => Self::new(
                    None,
                    "Someone changed this product at the same moment; please try again",
                ),
                ServiceError::Store(error) => {
                    tracing::error!(%error, "storage failed");
                    Self::new(
                        None,
                        "The desk cannot reach its storage; please try again shortly",
                    )
                }
            }
        }
    }

    impl FormError {
        /// A refused sign-in or account change, beside the field it is about.
        pub fn from_staff(error: StaffError) -> Self {
            match error {
                StaffError::Invalid { field, message } => Self::new(Some(field), message),
                StaffError::Taken(_) => Self::new(Some("username"), error.to_string()),
                StaffError::Store(error) => Self::from_service(ServiceError::Store(error)),
                other => Self::new(None, other.to_string()),
            }
        }
    }

    /// Runs a form's work, which names the page that shows its result. Accepted: the
    /// browser is redirected there. Refused: the answer says why and, for a plain
    /// form post (no JavaScript), redirects back to the form with the refusal.
    pub async fn submit(
        input: &[(&str, &str)],
        work: impl Future<Output = Result<String, FormError>>,
    ) -> Result<Submission, ServerFnError> {
        match work.await {
            Ok(page) => {
                leptos_axum::redirect(&page);
                Ok(Submission::Accepted)
            }
            Err(error) => {
                let mut error = error.with_input(input);
                let request = use_context::<axum::http::request::Parts>();
                error.action = request
                    .as_ref()
                    .map(|request| request.uri.path().to_owned());
                let headers = request.map(|request| request.headers).unwrap_or_default();
                if is_plain_form_post(&headers) {
                    leptos_axum::redirect(&back_with(&headers, &error));
                }
                Ok(Submission::Refused(error))
            }
        }
    }

    /// Whom the front door let in for the request being handled, if anyone.
    pub fn acting() -> Option<Actor> {
        use_context::<axum::http::request::Parts>()
            .as_ref()
            .and_then(actor_of)
    }

    /// Sends one command through the message bus, for whoever posted the form. A
    /// role that may not run it is answered 403.
    pub async fn send(command: impl Into<Command>) -> Result<(), FormError> {
        let services = leptos::prelude::expect_context::<Services>();
        let actor = acting().ok_or_else(|| FormError::new(None, "Sign in first"))?;
        let result = services.bus.handle_as(&actor, command).await;
        if let Err(ServiceError::Forbidden { .. }) = &result {
            leptos::prelude::expect_context::<leptos_axum::ResponseOptions>()
                .set_status(axum::http::StatusCode::FORBIDDEN);
        }
        result.map_err(FormError::from_service)
    }

    /// A browser posting a form asks for HTML; the app's own fetches do not.
    fn is_plain_form_post(headers: &HeaderMap) -> bool {
        headers
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    }

    /// The page the form was posted from, with the refusal in its query string.
    fn back_with(headers: &HeaderMap, error: &FormError) -> String {
        let referer = headers
            .get(header::REFERER)
            .and_then(|referer| referer.to_str().ok())
            .and_then(|referer| referer.parse::<Uri>().ok());
        // One leading slash: `//host/` in `Location` would lead off-site.
        let path = referer
            .as_ref()
            .map(Uri::path)
            .filter(|path| !path.starts_with("//"))
            .unwrap_or("/");
        let kept = referer
            .as_ref()
            .and_then(Uri::query)
            .map(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .filter(|(name, _)| name != REFUSAL_PARAM)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let json = serde_json::to_string(error).unwrap_or_default();
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .append_pair(REFUSAL_PARAM, &json)
            .finish();
        format!("{path}?{query}")
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn headers(referer: &str) -> HeaderMap {
            let mut headers = HeaderMap::new();
            headers.insert(header::REFERER, referer.parse().unwrap());
            headers
        }

        #[test]
        fn back_with_keeps_the_page_and_its_query_and_replaces_an_old_refusal() {
            let error = FormError::new(Some("sku"), "Unknown SKU X");
            let url = back_with(
                &headers("http://127.0.0.1:3000/batches?sku=A%26B&refused=old"),
                &error,
            );
            let (path, query) = url.split_once('?').unwrap();
            assert_eq!(path, "/batches");
            let pairs: Vec<_> = form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            assert_eq!(pairs[0], ("sku".to_owned(), "A&B".to_owned()));
            assert_eq!(pairs[1].0, REFUSAL_PARAM);
            assert_eq!(
                serde_json::from_str::<FormError>(&pairs[1].1).unwrap(),
                error
            );
            assert_eq!(pairs.len(), 2);
        }

        #[test]
        fn without_a_referer_the_refusal_goes_home() {
            let url = back_with(&HeaderMap::new(), &FormError::new(None, "no"));
            assert!(url.starts_with("/?refused="));
        }

        #[test]
        fn a_referer_path_that_names_another_host_goes_home() {
            let url = back_with(
                &headers("http://127.0.0.1:3000//evil.example/x"),
                &FormError::new(None, "no"),
            );
            assert!(url.starts_with("/?refused="), "{url}");
        }

        #[test]
        fn only_html_requests_are_plain_form_posts() {
            let mut headers = HeaderMap::new();
            assert!(!is_plain_form_post(&headers));
            headers.insert(header::ACCEPT, "application/json".parse().unwrap());
            assert!(!is_plain_form_post(&headers));
            headers.insert(header::ACCEPT, "text/html,*/*".parse().unwrap());
            assert!(is_plain_form_post(&headers));
        }
    }
}

#[cfg(feature = "ssr")]
pub use server::{acting, send, submit};
