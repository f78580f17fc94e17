//! `/allocate`: the "Allocate order line" form.

use leptos::prelude::*;
use leptos_meta::Title;

use super::form::{Field, FormMessage, KNOWN_SKUS, KnownSkus, Submission, refusal};

/// Runs `Allocate`, then shows the order: allocated, or waiting for stock.
#[server(prefix = "/api", endpoint = "allocate")]
pub async fn allocate(
    orderid: String,
    sku: String,
    qty: String,
) -> Result<Submission, ServerFnError> {
    use super::form::{send, submit};
    use crate::domain::commands::Allocate;
    use crate::routes;

    let input = [("orderid", &*orderid), ("sku", &*sku), ("qty", &*qty)];
    submit(&input, async {
        let line = super::orders::parse_line(&orderid, &sku, &qty)?;
        let page = routes::order(line.orderid.as_str());
        send(Allocate { line }).await?;
        Ok(page)
    })
    .await
}

#[component]
pub fn AllocatePage() -> impl IntoView {
    let allocate = ServerAction::<Allocate>::new();
    let error = refusal(allocate.value());
    view! {
        <Title text="Allocate order line" />
        <h1>"Allocate order line"</h1>
        <section class="panel">
            <ActionForm action=allocate attr:class="command">
                <FormMessage error />
                <Field form="allocate" label="Order ID" name="orderid" required=true error />
                <Field
                    form="allocate"
                    label="SKU"
                    name="sku"
                    required=true
                    suggestions=KNOWN_SKUS
                    error
                />
                <KnownSkus />
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
            <p class="hint">
                "The line goes to warehouse stock first, then to the batch arriving soonest. When no batch can take it, the order page says so."
            </p>
        </section>
    }
}
