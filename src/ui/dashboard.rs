//! `/`: stock per SKU and the latest out-of-stock notices.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::common::{failure, instant_text, loading};
use super::reads::dashboard;
use crate::routes;
use crate::views::{OutOfStockNotice, SkuStock};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |()| dashboard());
    view! {
        <Title text="Stock" />
        <h1>"Stock"</h1>
        <nav class="actions" aria-label="Tasks">
            <A href="/batches">"Add batch"</A>
            <A href="/allocate">"Allocate order line"</A>
            <A href="/orders">"Find order"</A>
        </nav>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => {
                        view! {
                            <StockTable stock=data.stock />
                            <Notices notices=data.notices />
                        }
                            .into_any()
                    }
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StockTable(stock: Vec<SkuStock>) -> impl IntoView {
    if stock.is_empty() {
        return view! {
            <p class="empty">"No batches yet. " <A href="/batches">"Add the first batch"</A> "."</p>
        }
        .into_any();
    }
    let rows = stock
        .into_iter()
        .map(|row| {
            let sold_out = row.available <= 0;
            view! {
                <tr class:sold-out=sold_out>
                    <td>
                        <A href=routes::batches_of(&row.sku)>{row.sku.clone()}</A>
                    </td>
                    <td class="number">{row.purchased}</td>
                    <td class="number">{row.allocated}</td>
                    <td class="number">{row.available}</td>
                    <td class="number">{row.batches}</td>
                    <td>{row.next_eta.unwrap_or_else(|| "—".to_owned())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="stock">
            <thead>
                <tr>
                    <th scope="col">"SKU"</th>
                    <th scope="col" class="number">"Purchased"</th>
                    <th scope="col" class="number">"Allocated"</th>
                    <th scope="col" class="number">"Available"</th>
                    <th scope="col" class="number">"Batches"</th>
                    <th scope="col">"Next ETA"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Notices(notices: Vec<OutOfStockNotice>) -> impl IntoView {
    let body = if notices.is_empty() {
        view! { <p class="empty">"No order has run out of stock."</p> }.into_any()
    } else {
        let rows = notices
            .into_iter()
            .map(|notice| {
                view! {
                    <tr>
                        <td>{instant_text(&notice.noticed_at)}</td>
                        <td>
                            <A href=routes::order(&notice.orderid)>{notice.orderid.clone()}</A>
                        </td>
                        <td>{notice.sku}</td>
                        <td class="number">{notice.qty}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="notices">
                <thead>
                    <tr>
                        <th scope="col">"When (UTC)"</th>
                        <th scope="col">"Order"</th>
                        <th scope="col">"SKU"</th>
                        <th scope="col" class="number">"Quantity"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section aria-labelledby="notices-heading">
            <h2 id="notices-heading">"Latest out-of-stock notices"</h2>
            {body}
        </section>
    }
}
