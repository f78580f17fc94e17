//! Signing in and out, the first manager's set-up, and what the signed-in person's
//! role lets the pages show. The server decides what each role may do; hiding a form
//! only spares people a refusal.
//!
//! The three forms here are plain HTML forms, also with JavaScript: signing in or out
//! reloads the whole page, so every part of it sees the new person.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{Field, FormMessage, Submission, refused_by};
use crate::domain::staff::{Actor, Permission};

/// Who is signed in; `None` on the sign-in and set-up pages.
#[server(prefix = "/api", endpoint = "session/me", input = GetUrl)]
pub async fn who_is_signed_in() -> Result<Option<Actor>, ServerFnError> {
    Ok(super::form::acting())
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<Submission, ServerFnError> {
    use super::form::{FormError, submit};
    let services = expect_context::<crate::bootstrap::Services>();
    submit(&[("username", username.as_str())], async {
        let token = services
            .staff
            .sign_in(&username, &password)
            .await
            .map_err(FormError::from_staff)?;
        server::start_session(&token.0, services.secure_cookies);
        Ok(server::local_path(next.as_deref()))
    })
    .await
}

#[server(prefix = "/api", endpoint = "set_up")]
pub async fn set_up(
    username: String,
    password: String,
    confirm: String,
) -> Result<Submission, ServerFnError> {
    use super::form::{FormError, submit};
    let services = expect_context::<crate::bootstrap::Services>();
    submit(&[("username", username.as_str())], async {
        if password != confirm {
            return Err(FormError::new(Some("confirm"), "The two passwords differ"));
        }
        let token = services
            .staff
            .set_up(&username, &password)
            .await
            .map_err(FormError::from_staff)?;
        server::start_session(&token.0, services.secure_cookies);
        Ok("/".to_owned())
    })
    .await
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    use crate::entrypoints::access::{clear_session_cookie, session_token};
    let services = expect_context::<crate::bootstrap::Services>();
    let parts = expect_context::<axum::http::request::Parts>();
    if let Some(token) = session_token(&parts.headers) {
        services
            .staff
            .sign_out(token)
            .await
            .map_err(super::reads::unavailable)?;
    }
    expect_context::<leptos_axum::ResponseOptions>().append_header(
        axum::http::header::SET_COOKIE,
        clear_session_cookie(services.secure_cookies),
    );
    leptos_axum::redirect("/login");
    Ok(())
}

#[cfg(feature = "ssr")]
mod server {
    use crate::entrypoints::access::session_cookie;

    pub fn start_session(token: &str, secure: bool) {
        leptos::prelude::expect_context::<leptos_axum::ResponseOptions>().append_header(
            axum::http::header::SET_COOKIE,
            session_cookie(token, secure),
        );
    }

    /// Where to go after signing in: a path on this site, never another site.
    /// Browsers drop tabs and line breaks from a `Location` and read `\` as `/`, so a
    /// path with any of them, or with a second leading `/`, is refused.
    pub fn local_path(next: Option<&str>) -> String {
        match next {
            Some(path)
                if path.starts_with('/')
                    && !path[1..].starts_with('/')
                    && !path
                        .chars()
                        .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
            {
                path.to_owned()
            }
            _ => "/".to_owned(),
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn only_local_paths_are_followed() {
            assert_eq!(super::local_path(Some("/orders/o1?x=1")), "/orders/o1?x=1");
            assert_eq!(super::local_path(Some("//evil.example/")), "/");
            assert_eq!(super::local_path(Some("/\\evil.example")), "/");
            assert_eq!(super::local_path(Some("/\t/evil.example")), "/");
            assert_eq!(super::local_path(Some("/a\nb")), "/");
            assert_eq!(super::local_path(Some("https://evil.example/")), "/");
            assert_eq!(super::local_path(None), "/");
        }
    }
}

/// The signed-in person, loaded once per page load for the masthead and the forms.
#[derive(Clone, Copy)]
pub struct CurrentActor(pub Resource<Result<Option<Actor>, ServerFnError>>);

impl CurrentActor {
    pub fn provide() -> Self {
        let actor = Self(Resource::new(|| (), |()| who_is_signed_in()));
        provide_context(actor);
        actor
    }
}

/// Shows `children` only to someone whose role has `permission`; others see
/// `otherwise`, if given.
#[component]
pub fn Allowed(
    permission: Permission,
    #[prop(optional, into)] otherwise: ViewFn,
    children: ChildrenFn,
) -> impl IntoView {
    let CurrentActor(actor) = expect_context();
    view! {
        <Suspense>
            {move || {
                let children = children.clone();
                let otherwise = otherwise.clone();
                Suspend::new(async move {
                    let allowed = actor.await.ok().flatten().is_some_and(|a| a.may(permission));
                    if allowed { children() } else { otherwise.run() }
                })
            }}
        </Suspense>
    }
}

/// The masthead's corner: who is signed in, with what role, and "Sign out".
#[component]
pub fn SignedIn() -> impl IntoView {
    let CurrentActor(actor) = expect_context();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                actor
                    .await
                    .ok()
                    .flatten()
                    .map(|actor| {
                        view! {
                            <form class="signed-in" method="post" action="/api/logout">
                                <span>
                                    {actor.name} " · " <span class="role">{actor.role.as_str()}</span>
                                </span>
                                <button type="submit" class="link">
                                    "Sign out"
                                </button>
                            </form>
                        }
                    })
            })}
        </Suspense>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next");
    let error = Signal::stored(refused_by(&[Login::PATH]));
    view! {
        <Title text="Sign in" />
        <h1>"Sign in"</h1>
        <section class="panel narrow">
            <form method="post" action="/api/login" class="command">
                <FormMessage error />
                <Field form="login" label="Username" name="username" required=true error />
                <Field form="login" label="Password" name="password" kind="password" required=true error />
                {move || next().map(|next| view! { <input type="hidden" name="next" value=next /> })}
                <button type="submit">"Sign in"</button>
            </form>
            <p class="hint">"No account yet? Ask a manager of the desk to make you one."</p>
        </section>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let error = Signal::stored(refused_by(&[SetUp::PATH]));
    view! {
        <Title text="Set up the desk" />
        <h1>"Set up the desk"</h1>
        <section class="panel narrow">
            <p>
                "The desk has no account yet. Choose the username and password of its first manager: they can then add everyone else."
            </p>
            <form method="post" action="/api/set_up" class="command">
                <FormMessage error />
                <Field form="setup" label="Username" name="username" required=true error />
                <Field form="setup" label="Password" name="password" kind="password" required=true hint="At least 8 characters." error />
                <Field form="setup" label="Password again" name="confirm" kind="password" required=true error />
                <button type="submit">"Create the first manager"</button>
            </form>
        </section>
    }
}
