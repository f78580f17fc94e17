//! `/batches/{ref}`: one batch, the lines allocated to it, and "Change quantity".

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::common::{Column, by_text, eta_text, failure, listing, loading, set_status};
use super::form::{Field, FormError, FormMessage, Submission, refusal, refused_by};
use super::reads::{BatchDetail, batch};
use super::session::Allowed;
use crate::domain::staff::Permission;
use crate::routes;

/// Runs `ChangeBatchQuantity`, then shows the batch again.
#[server(prefix = "/api", endpoint = "change_batch_quantity")]
pub async fn change_batch_quantity(
    r#ref: String,
    qty: String,
) -> Result<Submission, ServerFnError> {
    use super::form::{parse_field, send, submit};
    use crate::domain::commands::ChangeBatchQuantity;
    use crate::domain::values::{BatchRef, Quantity};

    let input = [("ref", &*r#ref), ("qty", &*qty)];
    submit(&input, async {
        let command = ChangeBatchQuantity {
            reference: parse_field("ref", "Reference", &r#ref, BatchRef::parse)?,
            qty: parse_field("qty", "Quantity", &qty, Quantity::parse)?,
        };
        let page = routes::batch(command.reference.as_str());
        send(command).await?;
        Ok(page)
    })
    .await
}

#[component]
pub fn BatchPage() -> impl IntoView {
    let params = use_params_map();
    let reference = move || params.read().get("reference").unwrap_or_default();
    let detail = Resource::new(reference, batch);
    let refused = refused_by(&[ChangeBatchQuantity::PATH]);
    view! {
        <Suspense fallback=loading>
            {move || {
                let refused = refused.clone();
                Suspend::new(async move {
                    match detail.await {
                        Ok(Some(detail)) => view! { <BatchDetailView detail refused /> }.into_any(),
                        Ok(None) => {
                            set_status(404);
                            view! {
                                <Title text="Unknown batch" />
                                <h1>"Unknown batch"</h1>
                                <p>
                                    "There is no batch " <strong>{reference()}</strong> ". "
                                    <A href="/batches">"See all batches"</A>
                                </p>
                            }
                                .into_any()
                        }
                        Err(error) => failure(error),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn BatchDetailView(detail: BatchDetail, refused: Option<FormError>) -> impl IntoView {
    let BatchDetail { batch, allocations } = detail;
    let rows = allocations
        .into_iter()
        .map(|line| {
            view! {
                <tr>
                    <td>
                        <A href=routes::order(&line.orderid)>{line.orderid.clone()}</A>
                    </td>
                    <td class="number">{line.qty}</td>
                    <td>{by_text(line.allocated_by)}</td>
                </tr>
            }
        })
        .collect();
    let columns = [
        Column::Text("Order"),
        Column::Number("Quantity"),
        Column::Text("Allocated by"),
    ];
    let reference = batch.reference.clone();
    let purchased = batch.purchased.to_string();
    let lines = listing(
        "lines",
        &columns,
        rows,
        "No order line is allocated to this batch.",
    );
    view! {
        <Title text=format!("Batch {}", batch.reference) />
        <h1>"Batch " {batch.reference.clone()}</h1>
        <dl class="figures">
            <div>
                <dt>"SKU"</dt>
                <dd>
                    <A href=routes::batches_of(&batch.sku)>{batch.sku.clone()}</A>
                </dd>
            </div>
            <div>
                <dt>"ETA"</dt>
                <dd>{eta_text(batch.eta.as_deref())}</dd>
            </div>
            <div>
                <dt>"Purchased"</dt>
                <dd class="number" data-figure="purchased">{batch.purchased}</dd>
            </div>
            <div>
                <dt>"Allocated"</dt>
                <dd class="number" data-figure="allocated">{batch.allocated}</dd>
            </div>
            <div>
                <dt>"Available"</dt>
                <dd class="number" data-figure="available">{batch.available}</dd>
            </div>
            <div>
                <dt>"Last changed by"</dt>
                <dd data-figure="changed-by">{by_text(batch.changed_by.clone())}</dd>
            </div>
        </dl>
        <h2>"Allocated order lines"</h2>
        {lines}
        <Allowed permission=Permission::ManageStock>
            <ChangeQuantityForm reference=reference.clone() purchased=purchased.clone() refused=refused.clone() />
        </Allowed>
    }
}

/// "Change quantity", for managers: answers a refusal in place when the browser runs it.
#[island]
fn ChangeQuantityForm(
    reference: String,
    purchased: String,
    refused: Option<FormError>,
) -> impl IntoView {
    let change = ServerAction::<ChangeBatchQuantity>::new();
    let error = refusal(change.value(), refused);
    view! {
        <section class="panel" aria-labelledby="change-heading">
            <h2 id="change-heading">"Change quantity"</h2>
            <p class="hint">
                "Lowering the quantity below what is allocated frees the newest lines, which are allocated again to other batches where they fit."
            </p>
            <ActionForm action=change attr:class="command">
                <FormMessage error />
                <input type="hidden" name="ref" value=reference />
                <Field
                    form="change-quantity"
                    label="Quantity"
                    name="qty"
                    kind="number"
                    required=true
                    value=purchased
                    error
                />
                <button type="submit">"Change quantity"</button>
            </ActionForm>
        </section>
    }
}
