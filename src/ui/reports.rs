//! `/reports` and `/reports/{report}`: reports rendered whole on the server, with a
//! filter form and sort links in the query string (bookmarkable, no JavaScript needed),
//! pages, a chart, a CSV download of every matching row, and a print layout.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

use super::chart::BarChartView;
use super::common::{failure, instant_text, loading, set_status};
use super::reads::report;
use crate::views::reports::{Direction, FilterKind, ReportKind, ReportPage, ReportQuery};

#[component]
pub fn ReportsPage() -> impl IntoView {
    let reports = ReportKind::ALL
        .into_iter()
        .map(|kind| {
            view! {
                <li>
                    <A href=kind.path()>{kind.title()}</A>
                    <p>{kind.question()}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <Title text="Reports" />
        <h1>"Reports"</h1>
        <ul class="report-list">{reports}</ul>
    }
}

#[component]
pub fn ReportPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let slug = move || params.read().get("report").unwrap_or_default();
    let data = Resource::new(
        move || (slug(), location.search.get()),
        |(slug, search)| report(slug, search),
    );
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match (ReportKind::from_slug(&slug()), data.await) {
                    (Some(_), Ok(Some(Ok(page)))) => view! { <Report page /> }.into_any(),
                    (Some(kind), Ok(Some(Err(problem)))) => {
                        set_status(400);
                        view! {
                            <Title text=kind.title() />
                            <h1>{kind.title()}</h1>
                            <p class="form-error" role="alert">
                                "This report cannot be made: "
                                {problem}
                                "."
                            </p>
                            <FilterForm kind />
                        }
                            .into_any()
                    }
                    (_, Err(error)) => failure(error),
                    _ => {
                        set_status(404);
                        view! {
                            <Title text="No such report" />
                            <h1>"No such report"</h1>
                            <p>
                                <A href="/reports">"All reports"</A>
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The filter form, filled from the address (as typed, even when refused). Sends a GET
/// to the report itself; sort order is kept, the page starts again at 1.
#[component]
fn FilterForm(kind: ReportKind) -> impl IntoView {
    let query = use_query_map();
    let raw = move |name: &str| query.read().get(name).unwrap_or_default();
    let fields = kind
        .filters()
        .iter()
        .map(|filter| {
            let id = format!("filter-{}", filter.name);
            let value = raw(filter.name);
            match filter.kind {
                FilterKind::Flag => view! {
                    <label class="flag">
                        <input type="checkbox" name=filter.name value="1" checked=!value.is_empty() />
                        {filter.label}
                    </label>
                }
                .into_any(),
                FilterKind::Text | FilterKind::Date => view! {
                    <label for=id.clone()>{filter.label}</label>
                    <input
                        id=id
                        name=filter.name
                        type=if filter.kind == FilterKind::Date { "date" } else { "search" }
                        value=value
                    />
                }
                .into_any(),
            }
        })
        .collect_view();
    let kept = ["sort", "dir"]
        .into_iter()
        .filter_map(|name| {
            let value = raw(name);
            (!value.is_empty()).then(|| view! { <input type="hidden" name=name value=value /> })
        })
        .collect_view();
    view! {
        <Form method="get" action=kind.path() attr:class="filter" attr:role="search">
            {fields}
            {kept}
            <button type="submit">"Apply"</button>
            <A href=kind.path()>"Clear"</A>
        </Form>
    }
}

#[component]
fn Report(page: ReportPage) -> impl IntoView {
    let ReportPage {
        kind,
        query,
        rows,
        totals,
        matching,
        pages,
        chart,
        generated_at,
    } = page;
    let filters_used = if query.filters.is_empty() {
        "none".to_owned()
    } else {
        query
            .filters
            .iter()
            .map(|(name, value)| {
                let label = kind
                    .filters()
                    .iter()
                    .find(|filter| filter.name == name)
                    .map_or(name.as_str(), |filter| filter.label);
                format!("{label}: {value}")
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    // Every page's rows: the CSV is not paged.
    let csv = format!(
        "{}{}",
        kind.csv_path(),
        query.on_page(1).to_query_string(kind)
    );
    // Erased: the chart's full type is too deep for the compiler to lay out in the page's.
    let chart = chart.map(|chart| view! { <BarChartView chart id=kind.slug() /> }.into_any());
    view! {
        <Title text=kind.title() />
        <h1>{kind.title()}</h1>
        <p class="report-meta">
            "Generated " {instant_text(&generated_at)} " UTC · Filters: " {filters_used}
            " · Sorted by " {sort_title(kind, &query)}
        </p>
        <FilterForm kind />
        <p class="report-actions">
            {matching}
            {if matching == 1 { " row" } else { " rows" }}
            " · "
            <a href=csv download="" rel="external">
                "Download CSV"
            </a>
        </p>
        {chart}
        <ReportTable kind query=query.clone() rows totals />
        <Pagination kind query pages />
    }
}

fn sort_title(kind: ReportKind, query: &ReportQuery) -> String {
    let title = kind
        .columns()
        .iter()
        .find(|column| column.key == query.sort)
        .map_or("", |column| column.title);
    let direction = match query.direction {
        Direction::Ascending => "ascending",
        Direction::Descending => "descending",
    };
    format!("{title}, {direction}")
}

#[component]
fn ReportTable(
    kind: ReportKind,
    query: ReportQuery,
    rows: Vec<crate::views::reports::ReportRow>,
    totals: Option<Vec<String>>,
) -> impl IntoView {
    let columns = kind.columns();
    let width = columns.len() + usize::from(kind.note_column().is_some());
    let head = columns
        .iter()
        .map(|column| {
            let sorted = query.sort == column.key;
            let aria_sort = match (sorted, query.direction) {
                (false, _) => "none",
                (true, Direction::Ascending) => "ascending",
                (true, Direction::Descending) => "descending",
            };
            let href = format!(
                "{}{}",
                kind.path(),
                query.sorted_by(column.key).to_query_string(kind)
            );
            let arrow = match (sorted, query.direction) {
                (false, _) => "",
                (true, Direction::Ascending) => " ▲",
                (true, Direction::Descending) => " ▼",
            };
            let label = format!("{}{arrow}", column.title);
            view! {
                <th scope="col" class:number=column.numeric aria-sort=aria_sort>
                    <A href=href>{label}</A>
                </th>
            }
        })
        .collect_view();
    let note_head = kind
        .note_column()
        .map(|title| view! { <th scope="col">{title}</th> });
    if rows.is_empty() {
        return view! { <p class="empty">"No rows match these filters."</p> }.into_any();
    }
    let body = rows
        .into_iter()
        .map(|row| {
            let group = row.group.map(|group| {
                view! {
                    <tr class="group">
                        <th scope="rowgroup" colspan=width>
                            {group}
                        </th>
                    </tr>
                }
            });
            let flagged = row.flag.is_some();
            let cells = row
                .cells
                .into_iter()
                .zip(columns)
                .map(|(cell, column)| view! { <td class:number=column.numeric>{text(cell)}</td> })
                .collect_view();
            let note = kind
                .note_column()
                .map(|_| view! { <td class="note">{row.flag}</td> });
            view! {
                {group}
                <tr class:flagged=flagged>{cells}{note}</tr>
            }
        })
        .collect_view();
    let foot = totals.map(|totals| {
        let cells = totals
            .into_iter()
            .zip(columns)
            .map(|(cell, column)| view! { <td class:number=column.numeric>{text(cell)}</td> })
            .collect_view();
        let note = kind.note_column().map(|_| view! { <td></td> });
        view! {
            <tfoot>
                <tr class="totals">{cells}{note}</tr>
            </tfoot>
        }
    });
    view! {
        <table class="report">
            <thead>
                <tr>{head}{note_head}</tr>
            </thead>
            <tbody>{body}</tbody>
            {foot}
        </table>
    }
    .into_any()
}

/// A cell's text; an empty cell renders no text node at all (which the server would
/// otherwise render as a space), so that the page holds exactly what the CSV holds.
fn text(cell: String) -> Option<String> {
    (!cell.is_empty()).then_some(cell)
}

#[component]
fn Pagination(kind: ReportKind, query: ReportQuery, pages: u32) -> impl IntoView {
    if pages <= 1 {
        return ().into_any();
    }
    let link = |page: u32| {
        format!(
            "{}{}",
            kind.path(),
            query.on_page(page).to_query_string(kind)
        )
    };
    let previous = (query.page > 1).then(|| {
        view! {
            <A href=link(query.page - 1) attr:rel="prev">
                "Previous"
            </A>
        }
    });
    let next = (query.page < pages).then(|| {
        view! {
            <A href=link(query.page + 1) attr:rel="next">
                "Next"
            </A>
        }
    });
    view! {
        <nav class="pagination" aria-label="Pages">
            {previous}
            <span>{format!("Page {} of {pages}", query.page)}</span>
            {next}
        </nav>
    }
    .into_any()
}
