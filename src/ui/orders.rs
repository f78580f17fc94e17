//! `/orders`: find an order; `/orders/{orderid}`: its allocations, with "Deallocate".

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::{A, Form, Redirect};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::common::{Column, by_text, failure, instant_text, listing, loading};
use super::form::{FormMessage, Submission, refused_by};
use super::reads::{OrderDetail, order};
use super::session::Allowed;
use crate::domain::staff::Permission;
use crate::routes;

/// Parses an order line as the forms submit it.
#[cfg(feature = "ssr")]
fn parse_line(
    orderid: &str,
    sku: &str,
    qty: &str,
) -> Result<crate::domain::model::OrderLine, super::form::FormError> {
    use super::form::parse_field;
    use crate::domain::model::OrderLine;
    use crate::domain::values::{OrderId, Quantity, Sku};
    Ok(OrderLine {
        orderid: parse_field("orderid", "Order ID", orderid, OrderId::parse)?,
        sku: parse_field("sku", "SKU", sku, Sku::parse)?,
        qty: parse_field("qty", "Quantity", qty, Quantity::parse)?,
    })
}

/// Runs the command made of a submitted order line, then shows the order: for the
/// allocate and deallocate forms alike.
#[cfg(feature = "ssr")]
pub async fn submit_order_line(
    orderid: &str,
    sku: &str,
    qty: &str,
    command: impl FnOnce(crate::domain::model::OrderLine) -> crate::domain::commands::Command,
) -> Result<Submission, ServerFnError> {
    use super::form::{send, submit};
    let input = [("orderid", orderid), ("sku", sku), ("qty", qty)];
    submit(&input, async {
        let line = parse_line(orderid, sku, qty)?;
        let page = routes::order(line.orderid.as_str());
        send(command(line)).await?;
        Ok(page)
    })
    .await
}

/// Runs `Deallocate`, then shows the order again.
#[server(prefix = "/api", endpoint = "deallocate")]
pub async fn deallocate(
    orderid: String,
    sku: String,
    qty: String,
) -> Result<Submission, ServerFnError> {
    use crate::domain::commands::Deallocate;
    submit_order_line(&orderid, &sku, &qty, |line| Deallocate { line }.into()).await
}

/// A GET form, so that finding an order is a link like any other.
#[component]
fn FindOrder(#[prop(into)] current: String) -> impl IntoView {
    view! {
        <Form method="get" action="/orders" attr:class="filter" attr:role="search">
            <label for="find-orderid">"Order ID"</label>
            <input id="find-orderid" name="orderid" type="search" value=current required />
            <button type="submit">"Find order"</button>
        </Form>
    }
}

#[component]
pub fn OrderSearchPage() -> impl IntoView {
    let query = use_query_map();
    let wanted = move || {
        query
            .read()
            .get("orderid")
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
    };
    view! {
        <Title text="Orders" />
        <h1>"Orders"</h1>
        <FindOrder current="" />
        {move || wanted().map(|orderid| view! { <Redirect path=routes::order(&orderid) /> })}
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let orderid = move || params.read().get("orderid").unwrap_or_default();
    let detail = Resource::new(orderid, order);
    let refused = Signal::stored(refused_by(&[Deallocate::PATH]));
    view! {
        <h1>"Order " {orderid}</h1>
        <FindOrder current=orderid() />
        <FormMessage error=refused />
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => {
                        view! { <OrderDetailView orderid=orderid() detail /> }.into_any()
                    }
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrderDetailView(orderid: String, detail: OrderDetail) -> impl IntoView {
    // The title is set here, with the data, not reactively above the <Suspense>: that
    // made a few concurrent `SsrMode::Async` renders never finish (leptos_meta 0.8).
    let title = format!("Order {orderid}");
    let OrderDetail {
        allocations,
        waiting,
    } = detail;
    let waiting = (!waiting.is_empty()).then(|| {
        let items = waiting
            .into_iter()
            .map(|line| {
                view! {
                    <li>
                        <strong>{line.qty} " × " {line.sku}</strong>
                        " could not be allocated: no batch had enough stock ("
                        {instant_text(&line.noticed_at)}
                        " UTC)."
                    </li>
                }
            })
            .collect_view();
        view! {
            <div class="notice out-of-stock" role="status">
                <h2>"Out of stock"</h2>
                <ul>{items}</ul>
            </div>
        }
    });
    let rows = allocations
        .into_iter()
        .map(|line| {
            let orderid = orderid.clone();
            let sku = line.sku.clone();
            let qty = line.qty.to_string();
            view! {
                <tr>
                    <td>{line.sku.clone()}</td>
                    <td>
                        <A href=routes::batch(&line.batchref)>{line.batchref.clone()}</A>
                    </td>
                    <td class="number">{line.qty}</td>
                    <td>{by_text(line.allocated_by)}</td>
                    <td class="row-action">
                        <Allowed permission=Permission::Allocate>
                            <DeallocateButton
                                orderid=orderid.clone()
                                sku=sku.clone()
                                qty=qty.clone()
                            />
                        </Allowed>
                    </td>
                </tr>
            }
        })
        .collect();
    let columns = [
        Column::Text("SKU"),
        Column::Text("Batch"),
        Column::Number("Quantity"),
        Column::Text("Allocated by"),
        Column::Unlabelled("Actions"),
    ];
    let allocated = listing(
        "allocations",
        &columns,
        rows,
        "Nothing is allocated to this order.",
    );
    view! {
        <Title text=title />
        {waiting}
        <h2>"Allocations"</h2>
        {allocated}
    }
}

/// "Deallocate" on one line, for clerks and managers: a plain form, as the whole
/// order is shown again either way.
#[component]
fn DeallocateButton(orderid: String, sku: String, qty: String) -> impl IntoView {
    view! {
        <form method="post" action=Deallocate::PATH>
            <input type="hidden" name="orderid" value=orderid />
            <input type="hidden" name="sku" value=sku />
            <input type="hidden" name="qty" value=qty />
            <button type="submit" class="secondary">
                "Deallocate"
            </button>
        </form>
    }
}
