//! `/allocate`: the "Allocate order line" form.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use super::form::{
    Field, FormError, FormMessage, KnownSkus, SkuField, Submission, refusal, refused_by,
};
use super::session::Allowed;
use crate::domain::staff::Permission;

/// Runs `Allocate`, then shows the order: allocated, or waiting for stock.
#[server(prefix = "/api", endpoint = "allocate")]
pub async fn allocate(
    orderid: String,
    sku: String,
    qty: String,
) -> Result<Submission, ServerFnError> {
    use crate::domain::commands::Allocate;
    super::orders::submit_order_line(&orderid, &sku, &qty, |line| Allocate { line }.into()).await
}

#[component]
pub fn AllocatePage() -> impl IntoView {
    let refused = refused_by(&[Allocate::PATH]);
    view! {
        <Title text="Allocate order line" />
        <h1>"Allocate order line"</h1>
        <Allowed
            permission=Permission::Allocate
            otherwise=|| view! { <p class="notice">"A viewer can look, not allocate: ask a manager for the clerk role."</p> }
        >
        <section class="panel">
            <AllocateForm refused=refused.clone() />
            <KnownSkus />
            <p class="hint">
                "The line goes to warehouse stock first, then to the batch arriving soonest. When no batch can take it, the order page says so."
            </p>
        </section>
        </Allowed>
    }
}

/// The form, answering a refusal in place when the browser runs it.
#[island]
fn AllocateForm(refused: Option<FormError>) -> impl IntoView {
    let allocate = ServerAction::<Allocate>::new();
    let error = refusal(allocate.value(), refused);
    view! {
        <ActionForm action=allocate attr:class="command">
            <FormMessage error />
            <Field form="allocate" label="Order ID" name="orderid" required=true error />
            <SkuField form="allocate" error />
            <Field
                form="allocate"
                label="Quantity"
                name="qty"
                kind="number"
                required=true
                error
            />
            <button type="submit">"Allocate"</button>
        </ActionForm>
    }
}
