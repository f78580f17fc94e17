//! The pages' server functions at their stable endpoints, through the real router:
//! form posts as a browser without JavaScript sends them, and as the app's own fetch.

mod common;

use allocation_desk::ui::form::{FormError, REFUSAL_PARAM, Submission};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::http::{App, Reply};

struct Desk(App);

impl Desk {
    async fn new() -> Self {
        Self(App::new().await)
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        self.0.send(request).await
    }

    /// A form post from a browser without JavaScript, from the page `from`.
    async fn post_form(&self, endpoint: &str, from: &str, form: &str) -> Reply {
        self.send(
            Request::post(endpoint)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html,application/xhtml+xml")
                .header(header::REFERER, format!("http://localhost:3000{from}"))
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await
    }

    /// The same post as the hydrated app sends it.
    async fn fetch_form(&self, endpoint: &str, form: &str) -> Reply {
        self.0.fetch_form(endpoint, form).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}

/// The text of the element marked `data-figure="{name}"` on a batch page.
fn figure<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!(r#"data-figure="{name}""#))
        .unwrap_or_else(|| panic!("no figure {name} in {html}"));
    let text = &html[start..];
    let text = &text[text.find('>').unwrap() + 1..];
    &text[..text.find('<').unwrap()]
}

/// The refusal a no-JavaScript redirect carries back to the form.
fn refusal_in(location: &str) -> FormError {
    let query = location.split_once('?').expect("a query string").1;
    let (_, json) = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == REFUSAL_PARAM)
        .expect("a refusal");
    serde_json::from_str(&json).unwrap()
}

#[tokio::test]
async fn a_plain_form_post_runs_the_command_and_redirects_to_the_result() {
    let desk = Desk::new().await;
    let added = desk
        .post_form(
            "/api/add_batch",
            "/batches",
            "ref=b-1&sku=RED-CHAIR&qty=10&eta=",
        )
        .await;
    assert_eq!(added.status, StatusCode::FOUND);
    assert_eq!(added.location.as_deref(), Some("/batches/b-1"));

    let allocated = desk
        .post_form(
            "/api/allocate",
            "/allocate",
            "orderid=o%201&sku=RED-CHAIR&qty=4",
        )
        .await;
    assert_eq!(allocated.status, StatusCode::FOUND);
    assert_eq!(allocated.location.as_deref(), Some("/orders/o%201"));

    let page = desk.get("/orders/o%201").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("b-1"), "{}", page.body);
}

#[tokio::test]
async fn a_refused_plain_post_goes_back_to_the_form_with_the_refusal() {
    let desk = Desk::new().await;
    let reply = desk
        .post_form(
            "/api/allocate",
            "/allocate?keep=me",
            "orderid=o1&sku=SMALL-TABLE&qty=2",
        )
        .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let location = reply.location.unwrap();
    assert!(location.starts_with("/allocate?keep=me&"), "{location}");
    let refusal = refusal_in(&location);
    assert_eq!(refusal.field.as_deref(), Some("sku"));
    assert_eq!(refusal.message, "Unknown SKU SMALL-TABLE");
    assert_eq!(refusal.submitted("qty"), Some("2"));

    // The form page renders the refusal beside the field, with the input kept.
    let page = desk.get(&location).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Unknown SKU SMALL-TABLE"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"value="SMALL-TABLE""#),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn bad_values_are_refused_in_staff_words_beside_their_field() {
    let desk = Desk::new().await;
    let cases = [
        (
            "ref=b1&sku=LAMP&qty=0&eta=",
            "qty",
            "Quantity must be a whole number above 0",
        ),
        (
            "ref=b1&sku=LAMP&qty=ten&eta=",
            "qty",
            "Quantity must be a whole number above 0",
        ),
        (
            "ref=&sku=LAMP&qty=1&eta=",
            "ref",
            "Reference must not be empty",
        ),
        ("ref=b1&sku=+&qty=1&eta=", "sku", "SKU must not be empty"),
        (
            "ref=b1&sku=LAMP&qty=1&eta=31%2F12%2F2030",
            "eta",
            "ETA must be a date as YYYY-MM-DD",
        ),
    ];
    for (form, field, message) in cases {
        let reply = desk.fetch_form("/api/add_batch", form).await;
        assert_eq!(reply.status, StatusCode::OK, "{form}: refusals are answers");
        let submission: Submission = serde_json::from_str(&reply.body).unwrap();
        let Submission::Refused(error) = submission else {
            panic!("{form} was accepted");
        };
        assert_eq!(error.field.as_deref(), Some(field), "{form}");
        assert_eq!(error.message, message, "{form}");
    }
    assert_eq!(desk.get("/batches/b1").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_apps_fetch_gets_accepted_and_a_redirect_header() {
    let desk = Desk::new().await;
    let reply = desk
        .fetch_form("/api/add_batch", "ref=b2&sku=LAMP&qty=3&eta=2031-01-01")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Submission>(&reply.body).unwrap(),
        Submission::Accepted
    );
    assert_eq!(reply.location.as_deref(), Some("/batches/b2"));

    let changed = desk
        .fetch_form("/api/change_batch_quantity", "ref=b2&qty=7")
        .await;
    assert_eq!(
        serde_json::from_str::<Submission>(&changed.body).unwrap(),
        Submission::Accepted
    );
    let page = desk.get("/batches/b2").await;
    assert_eq!(figure(&page.body, "purchased"), "7");
}

#[tokio::test]
async fn deallocating_a_line_that_is_not_allocated_is_refused() {
    let desk = Desk::new().await;
    desk.fetch_form("/api/add_batch", "ref=b1&sku=LAMP&qty=3&eta=")
        .await;
    let reply = desk
        .fetch_form("/api/deallocate", "orderid=o1&sku=LAMP&qty=3")
        .await;
    let Submission::Refused(error) = serde_json::from_str(&reply.body).unwrap() else {
        panic!("accepted");
    };
    assert_eq!(error.field, None);
    assert!(error.message.contains("o1"), "{}", error.message);
}

#[tokio::test]
async fn a_refusal_carried_back_shows_only_with_the_form_that_was_refused() {
    let desk = Desk::new().await;
    desk.fetch_form("/api/add_batch", "ref=b1&sku=LAMP&qty=3&eta=")
        .await;
    let reply = desk
        .post_form("/api/deallocate", "/orders/o1", "orderid=o1&sku=LAMP&qty=3")
        .await;
    let location = reply.location.expect("back to the order");
    let refusal = refusal_in(&location);
    assert_eq!(refusal.action.as_deref(), Some("/api/deallocate"));
    let order = desk.get(&location).await;
    assert!(order.body.contains(&refusal.message), "{}", order.body);

    // The same query on a page whose forms did not refuse it shows nothing.
    let query = location.split_once('?').unwrap().1;
    for page in ["/allocate", "/batches"] {
        let elsewhere = desk.get(&format!("{page}?{query}")).await;
        assert_eq!(elsewhere.status, StatusCode::OK);
        assert!(
            !elsewhere.body.contains(&refusal.message),
            "{page}: {}",
            elsewhere.body
        );
    }
}

#[tokio::test]
async fn only_the_forms_that_answer_in_place_are_hydrated() {
    let desk = Desk::new().await;
    desk.fetch_form("/api/add_batch", "ref=b1&sku=LAMP&qty=3&eta=")
        .await;
    desk.fetch_form("/api/allocate", "orderid=o1&sku=LAMP&qty=1")
        .await;
    let islands = |html: &str| html.matches("<leptos-island").count();
    assert_eq!(islands(&desk.get("/allocate").await.body), 1);
    assert_eq!(islands(&desk.get("/batches").await.body), 1);
    assert_eq!(islands(&desk.get("/batches/b1").await.body), 1);
    let order = desk.get("/orders/o1").await.body;
    assert_eq!(islands(&order), 0, "deallocating is a plain form: {order}");
    assert!(order.contains(r#"action="/api/deallocate""#), "{order}");
    assert_eq!(islands(&desk.get("/").await.body), 0);
}

#[tokio::test]
async fn pages_read_the_views_and_answer_404_for_an_unknown_batch() {
    let desk = Desk::new().await;
    desk.fetch_form("/api/add_batch", "ref=b1&sku=LAMP&qty=3&eta=")
        .await;
    let dashboard = desk.get("/").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("LAMP"));
    assert_eq!(desk.get("/batches/b1").await.status, StatusCode::OK);
    assert_eq!(
        desk.get("/batches/nope").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(desk.get("/batches?sku=LAMP").await.status, StatusCode::OK);
    assert_eq!(desk.get("/orders/none").await.status, StatusCode::OK);
    let allocate = desk.get("/allocate").await;
    assert!(
        allocate.body.contains(r#"<option value="LAMP">"#),
        "the SKU field suggests known SKUs: {}",
        allocate.body
    );
}

#[tokio::test]
async fn mutations_are_not_reachable_through_get() {
    let desk = Desk::new().await;
    let reply = desk.get("/api/add_batch?ref=b1&sku=LAMP&qty=3&eta=").await;
    assert_ne!(reply.status, StatusCode::OK);
    assert_ne!(reply.status, StatusCode::FOUND);
    assert_eq!(desk.get("/batches/b1").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_trailing_slash_redirects_to_the_page_and_never_off_site() {
    let desk = Desk::new().await;
    for (path, target) in [
        ("/batches/", "/batches"),
        ("/batches/?sku=LAMP", "/batches?sku=LAMP"),
        ("//example.com/", "/example.com"),
        ("///", "/"),
    ] {
        let reply = desk.get(path).await;
        assert_eq!(reply.status, StatusCode::PERMANENT_REDIRECT, "{path}");
        assert_eq!(reply.location.as_deref(), Some(target), "{path}");
    }
    // Pages the router finds only through the fallback render like any other.
    let page = desk.get("/batches").await;
    assert_eq!(page.status, StatusCode::OK);
}
