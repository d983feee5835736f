//! Inline SVG charts for the HTML report: line charts (IOPS over time,
//! a metric against a matrix parameter) and grouped bar charts (latency
//! percentiles).
//!
//! The charts are plain SVG text with no script and no external reference,
//! so a report stays one self-contained file that renders with JavaScript
//! off. Every data point carries a `<title>` so hovering shows its value.

use std::fmt::Write as _;

/// Width of every chart in SVG user units (it scales to the page width).
const WIDTH: f64 = 640.0;
/// Height of every chart.
const HEIGHT: f64 = 260.0;
/// Left margin: room for the y axis labels.
const LEFT: f64 = 64.0;
/// Right margin.
const RIGHT: f64 = 16.0;
/// Top margin: room for the title.
const TOP: f64 = 28.0;
/// Bottom margin: room for the x axis labels and the legend.
const BOTTOM: f64 = 58.0;

/// Colours of successive series, chosen to stay apart for common colour
/// blindness.
const PALETTE: [&str; 8] =
    ["#1f77b4", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666"];

/// One named series of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend label.
    pub label: String,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// A line chart of one or more series against a shared numeric x axis.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// The title above the plot.
    pub title: String,
    /// The x axis label.
    pub x_label: String,
    /// The y axis label.
    pub y_label: String,
    /// The series.
    pub series: Vec<Series>,
}

/// A bar chart: for each category, one bar per group.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// The title above the plot.
    pub title: String,
    /// The y axis label.
    pub y_label: String,
    /// The categories along the x axis (`p50`, `p99`, ...).
    pub categories: Vec<String>,
    /// One group per legend entry, with one value per category.
    pub groups: Vec<(String, Vec<f64>)>,
    /// A logarithmic y axis (decades), for values that span orders of
    /// magnitude such as latency percentiles next to the maximum.
    pub log_scale: bool,
}

/// "Nice" tick values covering `0..=max` (or `min..=max`): steps of 1, 2 or
/// 5 times a power of ten, about `target` of them.
fn ticks(min: f64, max: f64, target: usize) -> Vec<f64> {
    let (min, max) = if max > min { (min, max) } else { (min, min + 1.0) };
    let raw = (max - min) / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let first = (min / step).floor() * step;
    let mut out = Vec::new();
    let mut v = first;
    while v <= max + step * 0.5 {
        out.push(v);
        v += step;
        if out.len() > 50 {
            break;
        }
    }
    out
}

/// A number short enough for an axis label: `950`, `12.5k`, `1.2M`, `0.25`.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = if scaled.fract().abs() < 1e-9 || scaled.abs() >= 100.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 10.0 {
        format!("{scaled:.1}")
    } else {
        format!("{scaled:.2}")
    };
    let text =
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    format!("{text}{suffix}")
}

/// Escapes text for an SVG text node or attribute.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match crate::html_entity(c) {
            Some(entity) => out.push_str(entity),
            None => out.push(c),
        }
    }
    out
}

/// The opening of a chart: the `<svg>` element, its accessible title and
/// the plot title.
fn open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text class="chart-title" x="{x}" y="18" text-anchor="middle">{t}</text>"#,
        t = esc(title),
        x = WIDTH / 2.0,
    );
}

/// Closes a chart that has nothing to plot with a note saying so, rather
/// than empty axes.
fn no_data(mut out: String) -> String {
    let _ = write!(
        out,
        r#"<text class="tick" x="{}" y="{}" text-anchor="middle">no data</text></svg>"#,
        WIDTH / 2.0,
        HEIGHT / 2.0
    );
    out
}

/// Horizontal grid lines with y labels, and the axis labels.
fn y_axis(out: &mut String, y_ticks: &[f64], y_of: &dyn Fn(f64) -> f64, y_label: &str) {
    for &t in y_ticks {
        let y = y_of(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{tx}" y="{ty:.1}" text-anchor="end">{label}</text>"#,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 6.0,
            ty = y + 4.0,
            label = short_number(t),
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis-label" transform="translate(14 {cy}) rotate(-90)" text-anchor="middle">{l}</text>"#,
        cy = TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
        l = esc(y_label),
    );
}

/// The legend below the plot: one swatch and label per entry.
fn legend(out: &mut String, labels: &[&str]) {
    if labels.len() < 2 {
        return;
    }
    let y = HEIGHT - 10.0;
    let mut x = LEFT;
    for (i, label) in labels.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{ry}" width="10" height="10" fill="{colour}"/><text class="legend" x="{tx:.1}" y="{y}">{l}</text>"#,
            ry = y - 9.0,
            tx = x + 14.0,
            l = esc(label),
        );
        x += 24.0 + 6.5 * label.chars().count() as f64;
    }
}

/// Renders a line chart as an SVG element. A chart without any point says
/// so instead of drawing empty axes.
pub fn line_chart(chart: &LineChart) -> String {
    let points: Vec<(f64, f64)> = chart.series.iter().flat_map(|s| s.points.iter().copied()).collect();
    let mut out = String::new();
    open(&mut out, &chart.title);
    if points.is_empty() {
        return no_data(out);
    }
    let x_min = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_max = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let y_max = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let y_ticks = ticks(0.0, y_max, 5);
    let y_top = y_ticks.last().copied().unwrap_or(1.0).max(y_max).max(f64::MIN_POSITIVE);
    let x_ticks = ticks(x_min, x_max, 8);
    let (x_lo, x_hi) = if x_max > x_min { (x_min, x_max) } else { (x_min - 1.0, x_max + 1.0) };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_of = |x: f64| LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w;
    let y_of = |y: f64| TOP + plot_h - y / y_top * plot_h;

    y_axis(&mut out, &y_ticks, &y_of, &chart.y_label);
    for &t in x_ticks.iter().filter(|t| **t >= x_lo - 1e-9 && **t <= x_hi + 1e-9) {
        let _ = write!(
            out,
            r#"<text class="tick" x="{x:.1}" y="{y}" text-anchor="middle">{l}</text>"#,
            x = x_of(t),
            y = TOP + plot_h + 16.0,
            l = short_number(t),
        );
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" x2="{x2}" y1="{y}" y2="{y}"/><text class="axis-label" x="{cx}" y="{ly}" text-anchor="middle">{l}</text>"#,
        x2 = WIDTH - RIGHT,
        y = TOP + plot_h,
        cx = LEFT + plot_w / 2.0,
        ly = TOP + plot_h + 32.0,
        l = esc(&chart.x_label),
    );
    for (i, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let path: Vec<String> =
            series.points.iter().map(|&(x, y)| format!("{:.1},{:.1}", x_of(x), y_of(y))).collect();
        if path.len() > 1 {
            let _ = write!(
                out,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
                path.join(" ")
            );
        }
        // Markers only where they stay readable; the line carries long series.
        if series.points.len() <= 60 {
            for &(x, y) in &series.points {
                let _ = write!(
                    out,
                    r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3" fill="{colour}"><title>{l}: {xl} {xv}, {yl} {yv}</title></circle>"#,
                    cx = x_of(x),
                    cy = y_of(y),
                    l = esc(&series.label),
                    xl = esc(&chart.x_label),
                    xv = short_number(x),
                    yl = esc(&chart.y_label),
                    yv = short_number(y),
                );
            }
        }
    }
    let labels: Vec<&str> = chart.series.iter().map(|s| s.label.as_str()).collect();
    legend(&mut out, &labels);
    out.push_str("</svg>");
    out
}

/// Renders a grouped bar chart as an SVG element.
pub fn bar_chart(chart: &BarChart) -> String {
    let mut out = String::new();
    open(&mut out, &chart.title);
    let y_max = chart.groups.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max);
    if chart.categories.is_empty() || chart.groups.is_empty() {
        return no_data(out);
    }
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let positive_min = chart
        .groups
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let (y_ticks, y_of): (Vec<f64>, Box<dyn Fn(f64) -> f64>) = if chart.log_scale && positive_min.is_finite()
    {
        // Whole decades from the one below the smallest value to the one
        // above the largest; zero and below sit on the baseline.
        let lo = positive_min.log10().floor();
        let hi = y_max.log10().ceil().max(lo + 1.0);
        let ticks = (lo as i32..=hi as i32).map(|e| 10f64.powi(e)).collect();
        (
            ticks,
            Box::new(move |y: f64| {
                TOP + plot_h - ((y.max(10f64.powf(lo)).log10() - lo) / (hi - lo)) * plot_h
            }),
        )
    } else {
        let ticks = ticks(0.0, y_max, 5);
        let y_top = ticks.last().copied().unwrap_or(1.0).max(y_max).max(f64::MIN_POSITIVE);
        (ticks, Box::new(move |y: f64| TOP + plot_h - y / y_top * plot_h))
    };
    y_axis(&mut out, &y_ticks, &y_of, &chart.y_label);
    let slot = plot_w / chart.categories.len() as f64;
    let bar = (slot * 0.8) / chart.groups.len() as f64;
    for (c, category) in chart.categories.iter().enumerate() {
        let x0 = LEFT + slot * c as f64 + slot * 0.1;
        for (g, (label, values)) in chart.groups.iter().enumerate() {
            let Some(&v) = values.get(c) else { continue };
            let colour = PALETTE[g % PALETTE.len()];
            let y = y_of(v);
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{colour}"><title>{l} {cat}: {val}</title></rect>"#,
                x = x0 + bar * g as f64,
                w = (bar - 1.0).max(1.0),
                h = (TOP + plot_h - y).max(0.0),
                l = esc(label),
                cat = esc(category),
                val = short_number(v),
            );
        }
        let _ = write!(
            out,
            r#"<text class="tick" x="{x:.1}" y="{y}" text-anchor="middle">{l}</text>"#,
            x = LEFT + slot * (c as f64 + 0.5),
            y = TOP + plot_h + 16.0,
            l = esc(category),
        );
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" x2="{x2}" y1="{y}" y2="{y}"/>"#,
        x2 = WIDTH - RIGHT,
        y = TOP + plot_h
    );
    let labels: Vec<&str> = chart.groups.iter().map(|(l, _)| l.as_str()).collect();
    legend(&mut out, &labels);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 95.0, 5), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(
            ticks(0.0, 1_000_000.0, 5),
            [0.0, 200_000.0, 400_000.0, 600_000.0, 800_000.0, 1_000_000.0]
        );
        let t = ticks(1.0, 16.0, 8);
        assert!(t[0] <= 1.0 && *t.last().unwrap() >= 16.0, "{t:?}");
        // A flat range still gets an axis.
        assert!(ticks(0.0, 0.0, 5).len() >= 2);
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short_number(950.0), "950");
        assert_eq!(short_number(12_500.0), "12.5k");
        assert_eq!(short_number(1_250_000.0), "1.25M");
        assert_eq!(short_number(0.25), "0.25");
        assert_eq!(short_number(2_000_000_000.0), "2G");
    }

    #[test]
    fn line_chart_draws_each_series_and_escapes_labels() {
        let chart = LineChart {
            title: "IOPS <per> second".into(),
            x_label: "second".into(),
            y_label: "IOPS".into(),
            series: vec![
                Series { label: "worker 0".into(), points: vec![(1.0, 100.0), (2.0, 150.0), (3.0, 120.0)] },
                Series { label: "worker \"1\"".into(), points: vec![(1.0, 80.0), (2.0, 90.0), (3.0, 85.0)] },
            ],
        };
        let svg = line_chart(&chart);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 6);
        assert!(svg.contains("IOPS &lt;per&gt; second"));
        assert!(svg.contains("worker &quot;1&quot;"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn single_points_and_empty_charts_render() {
        let one = LineChart {
            title: "t".into(),
            x_label: "qd".into(),
            y_label: "IOPS".into(),
            series: vec![Series { label: "s".into(), points: vec![(4.0, 0.0)] }],
        };
        let svg = line_chart(&one);
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 1);
        let empty = LineChart { series: vec![], ..one };
        assert!(line_chart(&empty).contains("no data"));
    }

    #[test]
    fn bar_chart_draws_one_bar_per_group_and_category() {
        let chart = BarChart {
            title: "latency".into(),
            y_label: "µs".into(),
            categories: vec!["p50".into(), "p99".into(), "p99.9".into()],
            groups: vec![("w0".into(), vec![10.0, 20.0, 40.0]), ("w1".into(), vec![12.0, 25.0, 60.0])],
            log_scale: false,
        };
        let svg = bar_chart(&chart);
        assert_eq!(svg.matches("<rect").count(), 6 + 2, "6 bars and 2 legend swatches");
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn log_scale_bars_keep_small_values_visible() {
        let chart = BarChart {
            title: "latency".into(),
            y_label: "µs".into(),
            categories: vec!["p50".into(), "max".into()],
            groups: vec![("w0".into(), vec![8.0, 12_000.0])],
            log_scale: true,
        };
        let svg = bar_chart(&chart);
        // Decade ticks from 1 to 100k.
        for label in [">1<", ">10<", ">100<", ">1000<", ">10k<", ">100k<"] {
            assert!(svg.contains(label), "no tick {label}");
        }
        let heights: Vec<f64> = svg
            .split("<rect ")
            .skip(1)
            .map(|r| r.split("height=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(heights.len(), 2);
        // On a linear axis the p50 bar would be a tenth of a pixel; on
        // decades it is a fifth of the max bar.
        assert!(heights[0] > 20.0 && heights[0] > heights[1] * 0.2, "{heights:?}");
    }
}
