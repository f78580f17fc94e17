//! The front door: who is asking (a session cookie, an API token, or, when so
//! configured, an anonymous API caller), whether they may come in at all, and whether a
//! state-changing request really comes from the desk's own pages.
//!
//! What each role may do is checked further in, where the work is done (the message
//! bus, the account service); here everybody is turned away who is nobody.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use crate::bootstrap::Services;
use crate::domain::staff::Actor;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "desk_session";

/// Largest request body accepted: the desk's forms and JSON are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Pages and endpoints anyone may reach: signing in, the first set-up, health checks
/// for load balancers and the scraper, and the site's static files.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/login"
            | "/setup"
            | "/api/login"
            | "/api/set_up"
            | "/healthz"
            | "/readyz"
            | "/metrics"
            | "/favicon.ico"
    ) || path.starts_with("/pkg/")
}

/// The JSON contract, which machines call. `GET /allocate` is the page, not this.
fn is_contract(method: &Method, path: &str) -> bool {
    match *method {
        Method::POST => matches!(path, "/add_batch" | "/allocate" | "/deallocate"),
        Method::GET => path.starts_with("/allocations/"),
        _ => false,
    }
}

/// Lets in whoever may come in, with their [`Actor`] in the request's extensions.
pub async fn admit(State(services): State<Services>, mut request: Request, next: Next) -> Response {
    if let Some(refusal) = oversized(request.headers()).or_else(|| cross_site(&request)) {
        return refusal;
    }
    let path = request.uri().path().to_owned();
    if is_public(&path) {
        return next.run(request).await;
    }
    let contract = is_contract(request.method(), &path);
    match identify(&services, request.headers(), contract).await {
        Ok(Some(actor)) => {
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        Ok(None) => {
            let page = wants_page(&request);
            let stale_cookie = session_token(request.headers()).is_some();
            let mut response = if page && services.staff.needs_setup().await.unwrap_or(false) {
                Redirect::to("/setup").into_response()
            } else if page {
                Redirect::to(&login_then(request.uri())).into_response()
            } else {
                let mut response = refuse(
                    StatusCode::UNAUTHORIZED,
                    "Sign in first, or send an API token as `Authorization: Bearer <token>`",
                );
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            };
            if stale_cookie {
                let clear = clear_session_cookie(services.secure_cookies);
                response.headers_mut().append(header::SET_COOKIE, clear);
            }
            response
        }
        Err(Refusal::BadToken) => refuse(
            StatusCode::UNAUTHORIZED,
            "The API token is unknown or revoked",
        ),
        Err(Refusal::Unavailable) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "The desk cannot reach its storage; please try again shortly",
        ),
    }
}

enum Refusal {
    BadToken,
    Unavailable,
}

/// A bearer token decides alone; else a live session; else, on the JSON contract, the
/// anonymous role when one is configured.
async fn identify(
    services: &Services,
    headers: &HeaderMap,
    contract: bool,
) -> Result<Option<Actor>, Refusal> {
    let unavailable = |error: crate::adapters::StoreError| {
        tracing::error!(%error, "identifying a caller failed");
        Refusal::Unavailable
    };
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let token = authorization
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(Refusal::BadToken)?;
        let actor = services
            .staff
            .token_actor(token.trim())
            .await
            .map_err(unavailable)?;
        return actor.map(Some).ok_or(Refusal::BadToken);
    }
    if let Some(token) = session_token(headers)
        && let Some(actor) = services.staff.session(token).await.map_err(unavailable)?
    {
        return Ok(Some(actor));
    }
    Ok(services
        .anonymous_api_role
        .filter(|_| contract)
        .map(|role| Actor {
            name: "anonymous".to_owned(),
            role,
        }))
}

/// The session token a request carries, if any.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The value of the cookie `name` a request carries, if any.
pub fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` of a new session: unreadable to scripts, never sent along with a
/// cross-site POST, and over HTTPS only unless `SECURE_COOKIES=off`.
pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    set_cookie(&format!("{SESSION_COOKIE}={token}"), "Lax", secure)
}

/// The `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    set_cookie(&format!("{SESSION_COOKIE}=; Max-Age=0"), "Lax", secure)
}

/// A `Set-Cookie` for the whole site, unreadable to scripts. `pair` is `name=value`
/// and any attributes of its own, which the desk makes of hex digits and digits only.
pub fn set_cookie(pair: &str, same_site: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{pair}; Path=/; HttpOnly; SameSite={same_site}{secure}"
    ))
    .expect("cookies are made of hex digits")
}

/// The actor the front door let in, for the request being handled.
pub fn actor_of(parts: &axum::http::request::Parts) -> Option<Actor> {
    parts.extensions.get::<Actor>().cloned()
}

/// A browser asking for a page, which is better sent to the sign-in page than told 401.
fn wants_page(request: &Request) -> bool {
    let html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    html && request.headers().get(header::AUTHORIZATION).is_none()
}

/// `/login?next=<where the visitor was going>`, for pages; a form post goes back home.
fn login_then(uri: &Uri) -> String {
    let next = uri.path_and_query().map_or("/", |target| target.as_str());
    let next = if next.starts_with("/api/") { "/" } else { next };
    crate::routes::login_then(next)
}

fn oversized(headers: &HeaderMap) -> Option<Response> {
    let length = headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse::<usize>()
        .ok()?;
    (length > MAX_BODY_BYTES).then(|| {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request body is over {MAX_BODY_BYTES} bytes"),
        )
    })
}

/// Refuses a state-changing request that a browser sent from another site: its
/// `Origin` (or, lacking that, `Referer`) must be this host. A request with neither
/// comes from a program, not a browser page, and is let through, unless it carries a
/// session cookie: then it came from a browser that hid where it was sent from.
fn cross_site(request: &Request) -> Option<Response> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return None;
    }
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|value| value.parse::<Uri>().ok())
                .and_then(|uri| uri.authority().map(|a| a.as_str().to_owned()))
        });
    let same_site = match source {
        Some(source) => source.is_some() && source.as_deref() == host,
        None => session_token(headers).is_none(),
    };
    (!same_site).then(|| {
        tracing::warn!(uri = %request.uri(), "cross-site request refused");
        refuse(
            StatusCode::FORBIDDEN,
            "Refused: this request did not come from the desk's own pages",
        )
    })
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "message": message.into() }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut request = axum::http::Request::post("/api/allocate");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Body::empty()).unwrap()
    }

    #[test]
    fn only_posts_from_this_host_pass() {
        let host = ("host", "desk.example:3000");
        let cookie = ("cookie", "desk_session=abc");
        assert!(cross_site(&post(&[host, ("origin", "http://desk.example:3000")])).is_none());
        assert!(
            cross_site(&post(&[
                host,
                ("referer", "http://desk.example:3000/batches")
            ]))
            .is_none()
        );
        assert!(cross_site(&post(&[host, ("origin", "http://evil.example")])).is_some());
        assert!(cross_site(&post(&[host, ("origin", "null")])).is_some());
        assert!(
            cross_site(&post(&[
                host,
                ("referer", "http://evil.example/desk.example:3000")
            ]))
            .is_some()
        );
        // No origin at all: a program, unless it carries the browser's session.
        assert!(cross_site(&post(&[host])).is_none());
        assert!(cross_site(&post(&[host, cookie])).is_some());
        let get = axum::http::Request::get("/")
            .header("origin", "http://evil.example")
            .body(Body::empty())
            .unwrap();
        assert!(cross_site(&get).is_none());
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; desk_session=tok; b=2".parse().unwrap(),
        );
        assert_eq!(session_token(&headers), Some("tok"));
        headers.insert(header::COOKIE, "desk_session_x=1".parse().unwrap());
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn sign_in_returns_to_the_page_asked_for() {
        assert_eq!(
            login_then(&"/orders/o%201?x=1".parse().unwrap()),
            "/login?next=%2Forders%2Fo%25201%3Fx%3D1"
        );
        assert_eq!(
            login_then(&"/api/allocate".parse().unwrap()),
            "/login?next=%2F"
        );
    }
}
