//! Charts as inline SVG (no script, no external file): colours are presentation attributes,
//! so the pages' style policy (`style-src 'self'`) holds.

use crate::html::esc;

/// Colours for the series, in order (colour-blind-safe Okabe–Ito, then greys).
pub const PALETTE: [&str; 9] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
    "#999999",
];

pub fn color(i: usize) -> &'static str {
    PALETTE[i.min(PALETTE.len() - 1)]
}

/// A small coloured square for a legend.
pub fn swatch(color: &str) -> String {
    format!(
        "<svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"{color}\"/></svg>"
    )
}

/// Stacked bars, one per day; `series[i].1[d]` is series i's count on `days[d]`.
pub fn stacked_days(days: &[i64], series: &[(String, Vec<i64>)]) -> String {
    const W: f64 = 860.0;
    const H: f64 = 260.0;
    const LEFT: f64 = 44.0;
    const BOTTOM: f64 = 24.0;
    let totals: Vec<i64> = (0..days.len())
        .map(|d| {
            series
                .iter()
                .map(|(_, v)| v.get(d).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let plot_h = H - BOTTOM - 8.0;
    let slot = (W - LEFT) / days.len().max(1) as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let mut s = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"incidents per day by cause\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    // The axis and its top value.
    s += &format!(
        "<line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{W}\" y2=\"{y}\" stroke=\"#888\"/><text x=\"{x}\" y=\"16\" font-size=\"11\" text-anchor=\"end\" fill=\"#444\">{max}</text><text x=\"{x}\" y=\"{y}\" font-size=\"11\" text-anchor=\"end\" fill=\"#444\">0</text>",
        y = H - BOTTOM,
        x = LEFT - 6.0,
        max = max as i64
    );
    for (d, day) in days.iter().enumerate() {
        let x = LEFT + d as f64 * slot + (slot - bar_w) / 2.0;
        let mut y = H - BOTTOM;
        for (i, (name, values)) in series.iter().enumerate() {
            let n = values.get(d).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let h = n as f64 / max * plot_h;
            y -= h;
            s += &format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{} {}: {n}</title></rect>",
                color(i),
                crate::time::date(*day),
                esc(name)
            );
        }
        // A date under every seventh bar (and the last).
        if d % 7 == 0 || d + 1 == days.len() {
            s += &format!(
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#444\">{}</text>",
                x + bar_w / 2.0,
                H - 8.0,
                &crate::time::date(*day)[5..]
            );
        }
    }
    s + "</svg>"
}

/// One horizontal bar, its length the share of `max` (for breakdown tables).
pub fn bar(value: i64, max: i64, color: &str) -> String {
    let w = if max > 0 {
        (value as f64 / max as f64 * 200.0).max(1.0)
    } else {
        0.0
    };
    format!(
        "<svg class=\"bar\" width=\"200\" height=\"12\" role=\"img\" aria-label=\"{value}\"><rect width=\"{w:.1}\" height=\"12\" fill=\"{color}\"/></svg>"
    )
}
