//! Random and malformed requests at the JSON API and the pages' server functions:
//! bodies of any bytes, JSON of the wrong shape or with bad values, odd content types,
//! strange path segments and form posts. Whatever arrives, the answer is never a 5xx,
//! nothing panics, and nothing is written.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use common::TestDb;
use common::http::App;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Where requests go: the JSON API, and the server functions behind the forms.
const ENDPOINTS: [&str; 7] = [
    "/add_batch",
    "/allocate",
    "/deallocate",
    "/api/add_batch",
    "/api/allocate",
    "/api/change_batch_quantity",
    "/api/deallocate",
];

const CONTENT_TYPES: [Option<&str>; 5] = [
    None,
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain"),
    Some("multipart/form-data; boundary=none"),
];

/// A value no field accepts: wrong type, empty, too long, out of range, not a date.
fn bad_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!("")),
        Just(json!("   ")),
        Just(json!("x".repeat(65))),
        Just(json!("tab\there")),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1.5)),
        Just(json!(1_000_000_001_i64)),
        Just(json!(i64::MAX)),
        Just(json!([1, 2])),
        Just(json!({"nested": true})),
        Just(json!(true)),
    ]
}

/// A JSON body for the contract's commands with the SKU or the quantity (which every
/// command needs) bad, and other fields there or not.
fn bad_json() -> impl Strategy<Value = Vec<u8>> {
    let fields = ["sku", "qty", "ref", "eta", "orderid"];
    (
        proptest::sample::subsequence(fields.to_vec(), 0..=5),
        0..2usize,
        bad_value(),
    )
        .prop_map(move |(present, spoiled, bad)| {
            let mut body = serde_json::Map::new();
            for field in &present {
                let good = match *field {
                    "qty" => json!(5),
                    "eta" => Value::Null,
                    _ => json!("FINE-VALUE"),
                };
                body.insert((*field).to_owned(), good);
            }
            body.insert(fields[spoiled].to_owned(), bad);
            serde_json::to_vec(&Value::Object(body)).unwrap()
        })
}

/// A form post with fields from the forms, all with one bad value (a quantity never
/// accepts any of them; without one, the post is incomplete).
fn bad_form() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::subsequence(vec!["ref", "sku", "qty", "eta", "orderid"], 0..=5),
        prop_oneof![
            Just("".to_owned()),
            Just("0".to_owned()),
            Just("-3".to_owned()),
            Just("%FF%FE".to_owned()),
            Just("x".repeat(65)),
            Just("%00".to_owned()),
            Just("2031-13-01".to_owned()),
        ],
    )
        .prop_map(|(fields, bad)| {
            let pairs: Vec<String> = fields
                .iter()
                .map(|field| format!("{field}={bad}"))
                .collect();
            pairs.join("&").into_bytes()
        })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        bad_json(),
        bad_form(),
    ]
}

/// A path segment of any characters, percent-encoded or not quite.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9%._~-]{0,80}",
        Just("%FF".to_owned()),
        Just("..".to_owned()),
        Just("%2F%2E%2E".to_owned()),
        Just("x".repeat(300)),
    ]
}

#[derive(Debug, Clone)]
enum Attempt {
    Post {
        endpoint: usize,
        content_type: usize,
        body: Vec<u8>,
    },
    Get {
        prefix: usize,
        segment: String,
    },
}

fn attempt() -> impl Strategy<Value = Attempt> {
    prop_oneof![
        3 => (0..ENDPOINTS.len(), 0..CONTENT_TYPES.len(), body()).prop_map(
            |(endpoint, content_type, body)| Attempt::Post { endpoint, content_type, body }
        ),
        1 => (0..5usize, segment()).prop_map(|(prefix, segment)| Attempt::Get { prefix, segment }),
    ]
}

impl Attempt {
    fn request(&self) -> Request<Body> {
        match self {
            Self::Post {
                endpoint,
                content_type,
                body,
            } => {
                let mut request = Request::post(ENDPOINTS[*endpoint]);
                if let Some(content_type) = CONTENT_TYPES[*content_type] {
                    request = request.header(header::CONTENT_TYPE, content_type);
                }
                request.body(Body::from(body.clone())).unwrap()
            }
            Self::Get { prefix, segment } => {
                let prefix = [
                    "/allocations/",
                    "/batches/",
                    "/orders/",
                    "/reports/",
                    "/api/views/batch?reference=",
                ][*prefix];
                // A segment that is no valid URI is refused before any handler runs.
                match Request::get(format!("{prefix}{segment}")).body(Body::empty()) {
                    Ok(request) => request,
                    Err(_) => Request::get(prefix).body(Body::empty()).unwrap(),
                }
            }
        }
    }
}

const WRITE_MODEL: [&str; 3] = ["products", "batches", "allocations"];

/// One runtime for every case, as a server has: Leptos keeps process-wide state (its
/// executor, its reactive owners) that outlives a runtime made and dropped per case.
static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> =
    std::sync::LazyLock::new(|| tokio::runtime::Runtime::new().unwrap());

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_bad_request_fails_the_server_or_writes_anything(
        attempts in proptest::collection::vec(attempt(), 1..8)
    ) {
        RUNTIME.block_on(async {
            let db = TestDb::new().await;
            let services = db.services().await;
            let app = App::over(db, services).await;
            for attempt in &attempts {
                let reply = app.send(attempt.request()).await;
                assert!(
                    reply.status.as_u16() < 500,
                    "{attempt:?} was answered {}: {}",
                    reply.status,
                    reply.body
                );
            }
            for table in WRITE_MODEL {
                assert_eq!(app.db().count(table).await, 0, "{table} after {attempts:?}");
            }
        });
    }
}
