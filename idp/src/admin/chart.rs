//! Small charts drawn by the server as SVG markup (issue #12: the console's dashboard), so the
//! console needs no JavaScript and no third-party asset. Accessible: `role="img"`, a `<title>`
//! and a `<desc>` naming every figure, and text labels (axis maximum, first and last day,
//! legend). Colours are presentation attributes (no `style`, which the CSP forbids inline);
//! every text is escaped.

use std::fmt::Write;

/// How the series are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartKind {
    /// Side-by-side bars per x value.
    Bars,
    /// One polyline per series.
    Lines,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    pub label: String,
    /// One value per x label; missing values count as 0, negative ones as 0.
    pub values: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    pub title: String,
    pub kind: ChartKind,
    /// The x axis' labels (e.g. dates); the first and last are drawn.
    pub x_labels: Vec<String>,
    pub series: Vec<Series>,
}

const WIDTH: i64 = 720;
const HEIGHT: i64 = 260;
const LEFT: i64 = 48;
const RIGHT: i64 = 12;
const TOP: i64 = 16;
const BOTTOM: i64 = 64;
/// Colour-blind-safe (Okabe–Ito) colours, one per series in turn.
const COLOURS: [&str; 6] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];

/// The chart as an `<svg>` element.
pub fn svg(chart: &Chart) -> String {
    let n = chart.x_labels.len().max(chart.series.iter().map(|s| s.values.len()).max().unwrap_or(0));
    let value = |s: &Series, i: usize| s.values.get(i).copied().unwrap_or(0).max(0);
    let max = chart.series.iter().flat_map(|s| (0..n).map(move |i| value(s, i))).max().unwrap_or(0).max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_step = if n == 0 { 0.0 } else { plot_w as f64 / n as f64 };
    let y = |v: i64| TOP as f64 + plot_h as f64 * (1.0 - v as f64 / max as f64);
    let title = escape(&chart.title);

    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc"><title id="chart-title">{title}</title><desc id="chart-desc">{}</desc>"#,
        escape(&describe(chart, n))
    );
    // Axes and the maximum's label.
    let _ = write!(
        out,
        r##"<g class="axes" stroke="#555" stroke-width="1"><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}"/><line x1="{LEFT}" y1="{}" x2="{}" y2="{}"/></g>"##,
        TOP + plot_h,
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h
    );
    let _ = write!(
        out,
        r##"<g class="labels" font-size="11" fill="#222"><text x="{}" y="{}" text-anchor="end">{max}</text><text x="{}" y="{}" text-anchor="end">0</text>"##,
        LEFT - 4,
        TOP + 4,
        LEFT - 4,
        TOP + plot_h
    );
    if let Some(first) = chart.x_labels.first() {
        let _ = write!(out, r#"<text x="{LEFT}" y="{}">{}</text>"#, TOP + plot_h + 14, escape(first));
    }
    if chart.x_labels.len() > 1
        && let Some(last) = chart.x_labels.last()
    {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LEFT + plot_w,
            TOP + plot_h + 14,
            escape(last)
        );
    }
    out.push_str("</g>");
    // The data.
    let count = chart.series.len().max(1) as f64;
    for (k, s) in chart.series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let _ =
            write!(out, r#"<g class="series" fill="{colour}" stroke="{colour}"><title>{}</title>"#, escape(&s.label));
        match chart.kind {
            ChartKind::Bars => {
                let bar_w = (x_step * 0.8 / count).max(0.5);
                for i in 0..n {
                    let v = value(s, i);
                    let x = LEFT as f64 + x_step * i as f64 + x_step * 0.1 + bar_w * k as f64;
                    let top = y(v);
                    let _ = write!(
                        out,
                        r#"<rect x="{x:.1}" y="{top:.1}" width="{bar_w:.1}" height="{:.1}" stroke="none"><title>{}: {v}</title></rect>"#,
                        (TOP + plot_h) as f64 - top,
                        escape(chart.x_labels.get(i).map(String::as_str).unwrap_or(""))
                    );
                }
            }
            ChartKind::Lines => {
                let points: Vec<String> = (0..n)
                    .map(|i| format!("{:.1},{:.1}", LEFT as f64 + x_step * (i as f64 + 0.5), y(value(s, i))))
                    .collect();
                let _ = write!(out, r#"<polyline fill="none" stroke-width="2" points="{}"/>"#, points.join(" "));
            }
        }
        out.push_str("</g>");
    }
    // The legend, in text.
    out.push_str(r##"<g class="legend" font-size="11" fill="#222">"##);
    for (k, s) in chart.series.iter().enumerate() {
        let x = LEFT + (k as i64 % 4) * 165;
        let y = HEIGHT - 28 + (k as i64 / 4) * 14;
        let colour = COLOURS[k % COLOURS.len()];
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{}" width="10" height="10" fill="{colour}"/><text x="{}" y="{y}">{}</text>"#,
            y - 9,
            x + 14,
            escape(&s.label)
        );
    }
    out.push_str("</g></svg>");
    out
}

/// The text alternative: each series' total over the period.
fn describe(chart: &Chart, n: usize) -> String {
    let period = match (chart.x_labels.first(), chart.x_labels.last()) {
        (Some(first), Some(last)) if first != last => format!("{first} – {last}: "),
        (Some(only), _) => format!("{only}: "),
        _ => String::new(),
    };
    let totals: Vec<String> = chart
        .series
        .iter()
        .map(|s| format!("{} {}", s.label, s.values.iter().take(n).map(|v| (*v).max(0)).sum::<i64>()))
        .collect();
    format!("{period}{}", totals.join(", "))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(kind: ChartKind) -> Chart {
        Chart {
            title: "Connexions / Sign-ins".into(),
            kind,
            x_labels: vec!["2026-11-01".into(), "2026-11-02".into(), "2026-11-03".into()],
            series: vec![
                Series { label: "Connexions".into(), values: vec![3, 0, 6] },
                Series { label: "Échecs".into(), values: vec![1, 2] },
            ],
        }
    }

    #[test]
    fn a_bar_chart_has_a_title_a_text_alternative_and_one_bar_per_value() {
        let svg = svg(&chart(ChartKind::Bars));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=\"chart-title\">Connexions / Sign-ins</title>"));
        assert!(svg.contains("2026-11-01 – 2026-11-03: Connexions 9, Échecs 3"), "totals in the description: {svg}");
        assert_eq!(svg.matches("<rect").count(), 6 + 2, "three bars per series and two legend keys");
        assert!(svg.contains(">6</text>"), "the axis maximum is labelled");
        assert!(svg.contains("<title>2026-11-03: 6</title>"), "each bar says its value");
    }

    #[test]
    fn a_line_chart_draws_one_polyline_per_series() {
        let svg = svg(&chart(ChartKind::Lines));
        assert_eq!(svg.matches("<polyline").count(), 2);
    }

    #[test]
    fn text_is_escaped_and_no_style_or_script_is_emitted() {
        let mut c = chart(ChartKind::Bars);
        c.title = "<script>alert(1)</script> & \"co\"".into();
        c.series[0].label = "a<b".into();
        let svg = svg(&c);
        assert!(!svg.contains("<script") && svg.contains("&lt;script&gt;") && svg.contains("&amp; &quot;co&quot;"));
        assert!(svg.contains("a&lt;b"));
        assert!(!svg.contains("style=") && !svg.contains("<style"), "the CSP forbids inline styles");
    }

    #[test]
    fn an_empty_chart_is_still_well_formed() {
        let svg = svg(&Chart { title: "Rien".into(), kind: ChartKind::Bars, x_labels: vec![], series: vec![] });
        assert!(
            svg.starts_with("<svg")
                && svg.ends_with("</svg>")
                && svg.contains("<title id=\"chart-title\">Rien</title>")
        );
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
