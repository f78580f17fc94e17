//! `/batches`: every batch, filtered by SKU, and the "Add batch" form.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use super::common::{Column, eta_text, failure, listing, loading};
use super::form::{
    Field, FormError, FormMessage, KnownSkus, SkuField, Submission, refusal, refused_by,
};
use super::reads::batches;
use super::session::Allowed;
use crate::domain::staff::Permission;
use crate::routes;
use crate::views::BatchSummary;

/// Runs `CreateBatch`, then shows the new batch.
#[server(prefix = "/api", endpoint = "add_batch")]
pub async fn add_batch(
    r#ref: String,
    sku: String,
    qty: String,
    eta: String,
) -> Result<Submission, ServerFnError> {
    use super::form::{parse_field, send, submit};
    use crate::domain::commands::CreateBatch;
    use crate::domain::values::{BatchRef, Quantity, Sku, parse_date};

    let input = [
        ("ref", &*r#ref),
        ("sku", &*sku),
        ("qty", &*qty),
        ("eta", &*eta),
    ];
    submit(&input, async {
        let eta = match eta.trim() {
            "" => None,
            date => Some(parse_field("eta", "ETA", date, parse_date)?),
        };
        let command = CreateBatch {
            reference: parse_field("ref", "Reference", &r#ref, BatchRef::parse)?,
            sku: parse_field("sku", "SKU", &sku, Sku::parse)?,
            qty: parse_field("qty", "Quantity", &qty, Quantity::parse)?,
            eta,
        };
        let page = routes::batch(command.reference.as_str());
        send(command).await?;
        Ok(page)
    })
    .await
}

#[component]
pub fn BatchesPage() -> impl IntoView {
    let query = use_query_map();
    let sku = move || query.read().get("sku").unwrap_or_default();
    let listing = Resource::new(sku, |sku| batches(Some(sku)));
    let refused = refused_by(&[AddBatch::PATH]);
    view! {
        <Title text="Batches" />
        <h1>"Batches"</h1>
        <Form method="get" action="/batches" attr:class="filter" attr:role="search">
            <label for="filter-sku">"SKU"</label>
            <input id="filter-sku" name="sku" type="search" value=sku />
            <button type="submit">"Filter"</button>
            <Show when=move || !sku().is_empty()>
                <A href="/batches">"Show all"</A>
            </Show>
        </Form>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match listing.await {
                    Ok(rows) => view! { <BatchTable rows /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
        <Allowed permission=Permission::ManageStock>
            <section class="panel" aria-labelledby="add-batch-heading" id="add">
            <h2 id="add-batch-heading">"Add batch"</h2>
            <AddBatchForm refused=refused.clone() />
            <KnownSkus />
            </section>
        </Allowed>
    }
}

/// The form, answering a refusal in place when the browser runs it.
#[island]
fn AddBatchForm(refused: Option<FormError>) -> impl IntoView {
    let add = ServerAction::<AddBatch>::new();
    let error = refusal(add.value(), refused);
    view! {
        <ActionForm action=add attr:class="command">
            <FormMessage error />
            <Field form="add-batch" label="Reference" name="ref" required=true error />
            <SkuField form="add-batch" error />
            <Field
                form="add-batch"
                label="Quantity"
                name="qty"
                kind="number"
                required=true
                error
            />
            <Field
                form="add-batch"
                label="ETA"
                name="eta"
                kind="date"
                hint="Leave empty when the batch is already in the warehouse"
                error
            />
            <button type="submit">"Add batch"</button>
        </ActionForm>
    }
}

#[component]
fn BatchTable(rows: Vec<BatchSummary>) -> impl IntoView {
    let rows = rows
        .into_iter()
        .map(|row| {
            view! {
                <tr class:sold-out=row.available <= 0>
                    <td>
                        <A href=routes::batch(&row.reference)>{row.reference.clone()}</A>
                    </td>
                    <td>
                        <A href=routes::batches_of(&row.sku)>{row.sku.clone()}</A>
                    </td>
                    <td>{eta_text(row.eta.as_deref())}</td>
                    <td class="number">{row.purchased}</td>
                    <td class="number">{row.allocated}</td>
                    <td class="number">{row.available}</td>
                </tr>
            }
        })
        .collect();
    let columns = [
        Column::Text("Reference"),
        Column::Text("SKU"),
        Column::Text("ETA"),
        Column::Number("Purchased"),
        Column::Number("Allocated"),
        Column::Number("Available"),
    ];
    listing("batches", &columns, rows, "No batches.")
}
