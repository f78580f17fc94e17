//! Horizontal stacked bar charts as inline SVG: drawn on the server, readable without
//! JavaScript and on paper, with labelled axes, a legend and each value in words.

use leptos::prelude::*;

use crate::views::reports::BarChart;

const WIDTH: i64 = 720;
/// Room for the category labels, left of the bars.
const LABELS: i64 = 170;
/// Room for each bar's total, right of the bars.
const TOTALS: i64 = 70;
const ROW: i64 = 22;
const TOP: i64 = 34;
const BOTTOM: i64 = 46;
/// Value-axis ticks, about.
const TICKS: i64 = 5;

/// Characters of a category label that fit left of the bars.
const LABEL_CHARS: usize = 24;

/// `label`, cut to fit left of the bars (the bar's tooltip keeps it whole).
fn fitted(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_owned()
    } else {
        let cut: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// A round step between ticks that gives about [`TICKS`] of them up to `max`.
fn tick_step(max: i64) -> i64 {
    let rough = (max / TICKS).max(1);
    let mut magnitude = 1;
    while magnitude * 10 <= rough {
        magnitude *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|factor| factor * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10 * magnitude)
}

#[component]
pub fn BarChartView(chart: BarChart, id: &'static str) -> impl IntoView {
    let plot = WIDTH - LABELS - TOTALS;
    let height = TOP + ROW * i64::try_from(chart.bars.len()).unwrap_or(0) + BOTTOM;
    let largest = chart
        .bars
        .iter()
        .map(|bar| bar.values.iter().sum::<i64>())
        .max()
        .unwrap_or(0);
    let step = tick_step(largest);
    // The axis ends at the first tick at or past the largest bar.
    let scale_max = ((largest + step - 1) / step).max(1) * step;
    let x = move |value: i64| LABELS + value * plot / scale_max;
    let axis_y = TOP + ROW * i64::try_from(chart.bars.len()).unwrap_or(0);

    let legend = chart
        .series
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let left = LABELS + i64::try_from(index).unwrap_or(0) * 170;
            view! {
                <g>
                    <rect class=format!("series-{index}") x=left y="8" width="12" height="12" />
                    <text x=left + 18 y="18" class="legend">
                        {name.clone()}
                    </text>
                </g>
            }
        })
        .collect_view();
    let bars = chart
        .bars
        .iter()
        .enumerate()
        .map(|(row, bar)| {
            let top = TOP + i64::try_from(row).unwrap_or(0) * ROW;
            let mut start = 0;
            let segments = bar
                .values
                .iter()
                .enumerate()
                .map(|(index, value)| {
                    let (from, to) = (x(start), x(start + value));
                    start += value;
                    let series = chart.series.get(index).cloned().unwrap_or_default();
                    view! {
                        <rect
                            class=format!("series-{index}")
                            x=from
                            y=top + 3
                            width=to - from
                            height=ROW - 6
                        >
                            <title>{format!("{}: {series} {value}", bar.label)}</title>
                        </rect>
                    }
                })
                .collect_view();
            view! {
                <g class="bar">
                    <text x=LABELS - 8 y=top + ROW / 2 + 4 text-anchor="end" class="category">
                        {fitted(&bar.label)}
                    </text>
                    {segments}
                    <text x=x(start) + 6 y=top + ROW / 2 + 4 class="total">
                        {start}
                    </text>
                </g>
            }
        })
        .collect_view();
    let ticks = (0..=scale_max / step)
        .map(|n| {
            let value = n * step;
            view! {
                <g class="tick">
                    <line x1=x(value) x2=x(value) y1=TOP y2=axis_y + 4 />
                    <text x=x(value) y=axis_y + 17 text-anchor="middle">
                        {value}
                    </text>
                </g>
            }
        })
        .collect_view();
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    view! {
        <figure class="chart">
            <svg
                viewBox=format!("0 0 {WIDTH} {height}")
                role="img"
                aria-labelledby=labelled_by
                xmlns="http://www.w3.org/2000/svg"
            >
                <title id=title_id>{chart.title.clone()}</title>
                {legend}
                {ticks}
                <line class="axis" x1=LABELS x2=LABELS y1=TOP y2=axis_y />
                <line class="axis" x1=LABELS x2=LABELS + plot y1=axis_y y2=axis_y />
                {bars}
                <text x=LABELS + plot / 2 y=height - 6 text-anchor="middle" class="axis-title">
                    {chart.value_axis.clone()}
                </text>
                <text x="4" y="18" class="axis-title">
                    {chart.category_axis.clone()}
                </text>
            </svg>
            <figcaption>
                <details>
                    <summary>{chart.title.clone()}</summary>
                    {view! { <ChartData chart /> }.into_any()}
                </details>
            </figcaption>
        </figure>
    }
}

/// The chart's figures as a table: for screen readers, and for whoever wants numbers.
#[component]
fn ChartData(chart: BarChart) -> impl IntoView {
    let series = chart
        .series
        .iter()
        .map(|name| view! { <th scope="col" class="number">{name.clone()}</th> })
        .collect_view();
    let rows = chart
        .bars
        .into_iter()
        .map(|bar| {
            let values = bar
                .values
                .into_iter()
                .map(|value| view! { <td class="number">{value}</td> })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{bar.label}</th>
                    {values}
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="chart-data">
            <thead>
                <tr>
                    <th scope="col">{chart.category_axis}</th>
                    {series}
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_are_cut_to_fit() {
        assert_eq!(fitted("LAMP"), "LAMP");
        let long = fitted(&"X".repeat(40));
        assert_eq!(long.chars().count(), LABEL_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn ticks_fall_on_round_numbers() {
        assert_eq!(tick_step(0), 1);
        assert_eq!(tick_step(7), 1);
        assert_eq!(tick_step(48), 10);
        assert_eq!(tick_step(120), 50);
        assert_eq!(tick_step(1_000), 200);
    }
}
