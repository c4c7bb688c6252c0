//! Small hand-written SVG charts: axes with ticks and units, legends outside the plot, the Okabe–Ito
//! colour-blind-safe palette. Each function returns one standalone `<svg>` element.

use std::fmt::Write as _;

/// Okabe–Ito colours.
pub const PALETTE: [&str; 7] = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"];

const W: f64 = 680.0;
const H: f64 = 360.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 215.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 48.0;

/// Escapes text for XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// About five round tick values covering `[lo, hi]`.
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![lo];
    }
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 1e4 || (v != 0.0 && v.abs() < 1e-2) {
        format!("{v:.1e}")
    } else {
        format!("{}", (v * 1000.0).round() / 1000.0)
    }
}

struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x0) / (self.x1 - self.x0).max(1e-12) * (W - LEFT - RIGHT)
    }
    fn py(&self, y: f64) -> f64 {
        H - BOTTOM - (y - self.y0) / (self.y1 - self.y0).max(1e-12) * (H - TOP - BOTTOM)
    }
}

fn open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12"><rect width="{W}" height="{H}" fill="white"/><text x="{}" y="20" font-size="14" font-weight="bold">{}</text>"#,
        LEFT,
        esc(title)
    );
}

fn axes(out: &mut String, f: &Frame, xlabel: &str, ylabel: &str) {
    let (l, r, t, b) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
    let _ = write!(out, r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="#444"/>"##, r - l, b - t);
    for x in if f.x0.is_finite() { ticks(f.x0, f.x1) } else { vec![] } {
        let px = f.px(x);
        let _ = write!(
            out,
            r##"<line x1="{px:.1}" y1="{b}" x2="{px:.1}" y2="{}" stroke="#444"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
            b + 4.0,
            b + 17.0,
            fmt_tick(x)
        );
    }
    for y in ticks(f.y0, f.y1) {
        let py = f.py(y);
        let _ = write!(
            out,
            r##"<line x1="{}" y1="{py:.1}" x2="{l}" y2="{py:.1}" stroke="#444"/><line x1="{l}" y1="{py:.1}" x2="{r}" y2="{py:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            l - 4.0,
            l - 6.0,
            py + 4.0,
            fmt_tick(y)
        );
    }
    let _ =
        write!(out, r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#, (l + r) / 2.0, H - 10.0, esc(xlabel));
    let _ = write!(
        out,
        r#"<text transform="translate(16,{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (t + b) / 2.0,
        esc(ylabel)
    );
}

fn legend(out: &mut String, items: &[(String, &str, bool)]) {
    for (i, (name, color, dashed)) in items.iter().enumerate() {
        let y = TOP + 8.0 + 18.0 * i as f64;
        let x = W - RIGHT + 12.0;
        let dash = if *dashed { r#" stroke-dasharray="5,3""# } else { "" };
        let _ = write!(
            out,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{color}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            x + 22.0,
            x + 28.0,
            y + 4.0,
            esc(name)
        );
    }
}

/// Draws the horizontal reference lines, the legend of `items` and the lines, and closes the figure.
fn close(mut out: String, f: &Frame, hlines: &[(String, f64)], mut items: Vec<(String, &str, bool)>) -> String {
    for (label, y) in hlines {
        let py = f.py(*y);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#000" stroke-dasharray="2,2"/>"##,
            W - RIGHT
        );
        items.push((label.clone(), "#000", true));
    }
    legend(&mut out, &items);
    out.push_str("</svg>");
    out
}

/// A series of a line chart.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

fn bounds(points: impl Iterator<Item = (f64, f64)>) -> (f64, f64, f64, f64) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in points.filter(|(x, y)| x.is_finite() && y.is_finite()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        return (0.0, 1.0, 0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.05).max(1e-9);
    (x0, if x1 > x0 { x1 } else { x0 + 1.0 }, y0 - pad, y1 + pad)
}

/// Opens a figure whose frame holds `points` and the heights of the reference lines, with its axes.
fn start(
    title: &str,
    xlabel: &str,
    ylabel: &str,
    points: impl Iterator<Item = (f64, f64)>,
    hlines: &[(String, f64)],
) -> (String, Frame) {
    let (x0, x1, mut y0, mut y1) = bounds(points);
    for &(_, y) in hlines {
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let f = Frame { x0, x1, y0, y1 };
    let mut out = String::new();
    open(&mut out, title);
    axes(&mut out, &f, xlabel, ylabel);
    (out, f)
}

/// Line chart with optional horizontal reference lines `(label, y)`.
pub fn line_chart(title: &str, xlabel: &str, ylabel: &str, series: &[Series], hlines: &[(String, f64)]) -> String {
    let (mut out, f) = start(title, xlabel, ylabel, series.iter().flat_map(|s| s.points.iter().copied()), hlines);
    let mut items = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let pts: Vec<String> = s
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|(x, y)| format!("{:.1},{:.1}", f.px(*x), f.py(*y)))
            .collect();
        let dash = if s.dashed { r#" stroke-dasharray="5,3""# } else { "" };
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"/>"#,
            pts.join(" ")
        );
        items.push((s.name.clone(), color, s.dashed));
    }
    close(out, &f, hlines, items)
}

/// A mean curve with a ± band.
pub struct Band {
    pub name: String,
    /// `(x, mean, spread)`: the band runs from mean − spread to mean + spread.
    pub points: Vec<(f64, f64, f64)>,
}

/// Mean curves, each in a translucent band, with optional horizontal reference lines `(label, y)`.
pub fn band_chart(title: &str, xlabel: &str, ylabel: &str, bands: &[Band], hlines: &[(String, f64)]) -> String {
    let extent = bands.iter().flat_map(|b| b.points.iter().flat_map(|&(x, m, s)| [(x, m - s), (x, m + s)]));
    let (mut out, f) = start(title, xlabel, ylabel, extent, hlines);
    let mut items = Vec::new();
    for (i, b) in bands.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let upper = b.points.iter().map(|&(x, m, s)| format!("{:.1},{:.1}", f.px(x), f.py(m + s)));
        let lower = b.points.iter().rev().map(|&(x, m, s)| format!("{:.1},{:.1}", f.px(x), f.py(m - s)));
        let outline: Vec<String> = upper.chain(lower).collect();
        let mean: Vec<String> = b.points.iter().map(|&(x, m, _)| format!("{:.1},{:.1}", f.px(x), f.py(m))).collect();
        let _ = write!(
            out,
            r#"<polygon fill="{color}" fill-opacity="0.15" stroke="none" points="{}"/><polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            outline.join(" "),
            mean.join(" ")
        );
        items.push((b.name.clone(), color, false));
    }
    close(out, &f, hlines, items)
}

/// A labelled point drawn on a chart (a published figure), `(label, x, y)`.
pub struct Mark {
    pub label: String,
    pub x: f64,
    pub y: f64,
}

/// Mean curves in ± bands with a marker at every point, dashed reference series and labelled
/// points, against a logarithmic x axis (ticks at the x values that occur): the predictor study's
/// figure of a figure against the labelled budget.
pub fn log_band_chart(
    title: &str,
    xlabel: &str,
    ylabel: &str,
    bands: &[Band],
    dashed: &[Series],
    marks: &[Mark],
) -> String {
    let lg = |x: f64| x.max(1e-12).log10();
    let extent = bands
        .iter()
        .flat_map(|b| b.points.iter().flat_map(|&(x, m, s)| [(lg(x), m - s), (lg(x), m + s)]))
        .chain(dashed.iter().flat_map(|d| d.points.iter().map(|&(x, y)| (lg(x), y))))
        .chain(marks.iter().map(|m| (lg(m.x), m.y)));
    let (x0, x1, y0, y1) = bounds(extent);
    let padx = (x1 - x0) * 0.04;
    let f = Frame { x0: x0 - padx, x1: x1 + padx, y0, y1 };
    let mut out = String::new();
    open(&mut out, title);
    // The y axis as usual; the x axis with a tick at every x that occurs.
    axes(&mut out, &Frame { x0: f64::NAN, x1: f.x1, y0: f.y0, y1: f.y1 }, xlabel, ylabel);
    let mut xs: Vec<f64> =
        bands.iter().flat_map(|b| b.points.iter().map(|p| p.0)).chain(marks.iter().map(|m| m.x)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let b = H - BOTTOM;
    let mut last = f64::NEG_INFINITY;
    for x in xs {
        let px = f.px(lg(x));
        let _ = write!(out, r##"<line x1="{px:.1}" y1="{b}" x2="{px:.1}" y2="{}" stroke="#444"/>"##, b + 4.0);
        if px - last >= 26.0 {
            let _ = write!(out, r#"<text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"#, b + 17.0, fmt_tick(x));
            last = px;
        }
    }
    let mut items = Vec::new();
    for (i, band) in bands.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let pts: Vec<&(f64, f64, f64)> = band.points.iter().filter(|p| p.1.is_finite()).collect();
        let upper = pts.iter().map(|&&(x, m, s)| format!("{:.1},{:.1}", f.px(lg(x)), f.py(m + s)));
        let lower = pts.iter().rev().map(|&&(x, m, s)| format!("{:.1},{:.1}", f.px(lg(x)), f.py(m - s)));
        let outline: Vec<String> = upper.chain(lower).collect();
        let mean: Vec<String> = pts.iter().map(|&&(x, m, _)| format!("{:.1},{:.1}", f.px(lg(x)), f.py(m))).collect();
        let _ = write!(
            out,
            r#"<polygon fill="{color}" fill-opacity="0.15" stroke="none" points="{}"/><polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            outline.join(" "),
            mean.join(" ")
        );
        for &&(x, m, _) in &pts {
            let _ = write!(out, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#, f.px(lg(x)), f.py(m));
        }
        items.push((band.name.clone(), color, false));
    }
    for d in dashed {
        let pts: Vec<String> = d.points.iter().map(|&(x, y)| format!("{:.1},{:.1}", f.px(lg(x)), f.py(y))).collect();
        let _ = write!(
            out,
            r##"<polyline fill="none" stroke="#777" stroke-width="1.5" stroke-dasharray="5,3" points="{}"/>"##,
            pts.join(" ")
        );
        items.push((d.name.clone(), "#777", true));
    }
    for m in marks {
        let (px, py) = (f.px(lg(m.x)), f.py(m.y));
        let _ = write!(
            out,
            r##"<path d="M{:.1},{:.1} l5,5 l-5,5 l-5,-5 z" fill="#000"/><text x="{:.1}" y="{:.1}" font-size="10">{}</text>"##,
            px,
            py - 5.0,
            px + 6.0,
            py - 6.0,
            esc(&m.label)
        );
    }
    legend(&mut out, &items);
    out.push_str("</svg>");
    out
}

/// Fronts of accuracy (y, maximised) against a cost (x, minimised): each a staircase through its
/// points (a point dominates everything right of and below it), `truth` dashed black where known, the
/// others in the palette with a marker per point; `log_x` for a cost that spans decades (ticks at the
/// powers of ten within it).
pub fn front_chart(
    title: &str,
    xlabel: &str,
    ylabel: &str,
    log_x: bool,
    truth: Option<&[(f64, f64)]>,
    fronts: &[(String, Vec<(f64, f64)>)],
) -> String {
    let tx = |x: f64| if log_x { x.max(1e-300).log10() } else { x };
    let all = truth.into_iter().flatten().chain(fronts.iter().flat_map(|(_, p)| p.iter())).map(|&(x, y)| (tx(x), y));
    let (x0, x1, y0, y1) = bounds(all);
    let padx = (x1 - x0) * 0.03;
    let f = Frame { x0: x0 - padx, x1: x1 + padx, y0, y1 };
    let mut out = String::new();
    open(&mut out, title);
    if log_x {
        // The y axis as usual, the x axis at powers of ten.
        axes(&mut out, &Frame { x0: f64::NAN, x1: f.x1, y0: f.y0, y1: f.y1 }, xlabel, ylabel);
        let b = H - BOTTOM;
        for k in f.x0.ceil() as i32..=f.x1.floor() as i32 {
            let px = f.px(f64::from(k));
            let _ = write!(
                out,
                r##"<line x1="{px:.1}" y1="{b}" x2="{px:.1}" y2="{}" stroke="#444"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
                b + 4.0,
                b + 17.0,
                fmt_tick(10f64.powi(k))
            );
        }
    } else {
        axes(&mut out, &f, xlabel, ylabel);
    }
    // A staircase: from each point right to the next one's cost, then up to its accuracy.
    let stairs = |pts: &[(f64, f64)]| {
        let mut p: Vec<(f64, f64)> = pts.iter().filter(|(x, y)| x.is_finite() && y.is_finite()).copied().collect();
        p.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        // Through the points no cheaper one beats (all of them, for a front of these two objectives).
        let mut best = f64::NEG_INFINITY;
        let steps: Vec<(f64, f64)> = p
            .iter()
            .filter(|&&(_, y)| {
                let keep = y > best;
                best = best.max(y);
                keep
            })
            .copied()
            .collect();
        let mut path = Vec::new();
        for (i, &(x, y)) in steps.iter().enumerate() {
            path.push(format!("{:.1},{:.1}", f.px(tx(x)), f.py(y)));
            if let Some(&(nx, _)) = steps.get(i + 1) {
                path.push(format!("{:.1},{:.1}", f.px(tx(nx)), f.py(y)));
            }
        }
        (p, path.join(" "))
    };
    let mut items = Vec::new();
    for (i, (name, pts)) in fronts.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let (p, path) = stairs(pts);
        let _ = write!(out, r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{path}"/>"#);
        for (x, y) in p {
            let _ = write!(out, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#, f.px(tx(x)), f.py(y));
        }
        items.push((name.clone(), color, false));
    }
    if let Some(t) = truth {
        let (_, path) = stairs(t);
        let _ = write!(
            out,
            r##"<polyline fill="none" stroke="#000" stroke-width="1.5" stroke-dasharray="5,3" points="{path}"/>"##
        );
        items.push(("the true front".to_string(), "#000", true));
    }
    legend(&mut out, &items);
    out.push_str("</svg>");
    out
}

/// Scatter plot.
pub fn scatter(title: &str, xlabel: &str, ylabel: &str, points: &[(f64, f64)]) -> String {
    let (x0, x1, y0, y1) = bounds(points.iter().copied());
    let f = Frame { x0, x1, y0, y1 };
    let mut out = String::new();
    open(&mut out, title);
    axes(&mut out, &f, xlabel, ylabel);
    let _ = write!(out, r#"<g fill="{}" fill-opacity="0.35">"#, PALETTE[0]);
    for (x, y) in points.iter().filter(|(x, y)| x.is_finite() && y.is_finite()) {
        let _ = write!(out, r#"<circle cx="{:.1}" cy="{:.1}" r="1.6"/>"#, f.px(*x), f.py(*y));
    }
    out.push_str("</g></svg>");
    out
}

/// A heat map of counts with the numbers written in the cells.
pub fn heatmap(title: &str, row_label: &str, col_label: &str, m: &[Vec<usize>]) -> String {
    let n = m.len().max(1);
    let cell = 48.0;
    let (x0, y0) = (110.0, 60.0);
    let (w, h) = (x0 + cell * n as f64 + 30.0, y0 + cell * n as f64 + 50.0);
    let max = m.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12"><rect width="{w}" height="{h}" fill="white"/><text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let _ = write!(
        out,
        r#"<text x="{:.1}" y="44" text-anchor="middle">{}</text>"#,
        x0 + cell * n as f64 / 2.0,
        esc(col_label)
    );
    let _ = write!(
        out,
        r#"<text transform="translate(24,{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        y0 + cell * n as f64 / 2.0,
        esc(row_label)
    );
    for (i, row) in m.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{}" y="{:.1}" text-anchor="end">tier {}</text>"#,
            x0 - 6.0,
            y0 + cell * (i as f64 + 0.55),
            i + 1
        );
        for (j, &v) in row.iter().enumerate() {
            let a = v as f64 / max;
            let fill = format!(
                "rgb({},{},{})",
                (255.0 - a * 255.0) as u8,
                (255.0 - a * (255.0 - 114.0)) as u8,
                (255.0 - a * (255.0 - 178.0)) as u8
            );
            let text = if a > 0.55 { "white" } else { "black" };
            let _ = write!(
                out,
                r##"<rect x="{:.1}" y="{:.1}" width="{cell}" height="{cell}" fill="{fill}" stroke="#fff"/><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{text}">{v}</text>"##,
                x0 + cell * j as f64,
                y0 + cell * i as f64,
                x0 + cell * (j as f64 + 0.5),
                y0 + cell * (i as f64 + 0.55)
            );
        }
    }
    for j in 0..n {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">tier {}</text>"#,
            x0 + cell * (j as f64 + 0.5),
            y0 + cell * n as f64 + 16.0,
            j + 1
        );
    }
    out.push_str("</svg>");
    out
}

/// Grouped bars: for each group (tier), one bar per bin.
pub fn grouped_bars(title: &str, xlabel: &str, ylabel: &str, bins: &[String], groups: &[(String, Vec<f64>)]) -> String {
    let ymax = groups.iter().flat_map(|g| g.1.iter().copied()).fold(0.0, f64::max).max(1.0);
    let f = Frame { x0: 0.0, x1: bins.len().max(1) as f64, y0: 0.0, y1: ymax * 1.05 };
    let mut out = String::new();
    open(&mut out, title);
    axes(&mut out, &Frame { x0: f64::NAN, ..f }, "", ylabel);
    // Replace the numeric x ticks by bin labels.
    let slot = (W - LEFT - RIGHT) / bins.len().max(1) as f64;
    let bw = slot * 0.8 / groups.len().max(1) as f64;
    for (b, label) in bins.iter().enumerate() {
        let cx = LEFT + slot * (b as f64 + 0.5);
        let _ = write!(
            out,
            r#"<text x="{cx:.1}" y="{}" text-anchor="middle" font-size="10">{}</text>"#,
            H - BOTTOM + 15.0,
            esc(label)
        );
        for (g, (_, vals)) in groups.iter().enumerate() {
            let v = vals.get(b).copied().unwrap_or(0.0);
            let x = LEFT + slot * b as f64 + slot * 0.1 + bw * g as f64;
            let y = f.py(v);
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"/>"#,
                bw.max(1.0),
                (H - BOTTOM - y).max(0.0),
                PALETTE[g % PALETTE.len()]
            );
        }
    }
    let _ = write!(
        out,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 10.0,
        esc(xlabel)
    );
    let items: Vec<(String, &str, bool)> =
        groups.iter().enumerate().map(|(g, (n, _))| (n.clone(), PALETTE[g % PALETTE.len()], false)).collect();
    legend(&mut out, &items);
    out.push_str("</svg>");
    out
}

/// An NB201 cell: 4 nodes left to right, each edge labelled with its op.
pub fn nb201_cell(title: &str, ops: &[(usize, usize, &str)]) -> String {
    let (w, h) = (420.0, 210.0);
    let xs = [40.0, 150.0, 260.0, 370.0];
    let y = 120.0;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11"><rect width="{w}" height="{h}" fill="white"/><text x="8" y="16" font-size="12" font-weight="bold">{}</text>"#,
        esc(title)
    );
    for (i, j, op) in ops {
        let (x1, x2) = (xs[*i], xs[*j]);
        let bend = 28.0 * (*j - *i) as f64;
        let (mx, my) = ((x1 + x2) / 2.0, y - bend);
        let color = if *op == "none" { "#bbb" } else { PALETTE[(i + j) % PALETTE.len()] };
        let dash = if *op == "none" { r#" stroke-dasharray="3,3""# } else { "" };
        let _ = write!(
            out,
            r#"<path d="M{x1},{y} Q{mx},{:.1} {x2},{y}" fill="none" stroke="{color}" stroke-width="1.8"{dash}/><text x="{mx:.1}" y="{:.1}" text-anchor="middle" fill="{color}">{}</text>"#,
            my - bend,
            my - 4.0,
            esc(op)
        );
    }
    for (n, x) in xs.iter().enumerate() {
        let _ = write!(
            out,
            r##"<circle cx="{x}" cy="{y}" r="14" fill="#fff" stroke="#000"/><text x="{x}" y="{}" text-anchor="middle">{n}</text>"##,
            y + 4.0
        );
    }
    out.push_str("</svg>");
    out
}

/// An NB101 cell: vertices in a row labelled with their ops, edges as arcs above.
pub fn nb101_cell(title: &str, ops: &[&str], edges: &[(usize, usize)]) -> String {
    let n = ops.len();
    let w = 60.0 + 92.0 * n as f64;
    let h = 230.0;
    let x = |v: usize| 50.0 + 92.0 * v as f64;
    let y = 170.0;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="10"><rect width="{w}" height="{h}" fill="white"/><text x="8" y="16" font-size="12" font-weight="bold">{}</text>"#,
        esc(title)
    );
    for &(i, j) in edges {
        let bend = 22.0 * (j - i) as f64;
        let _ = write!(
            out,
            r##"<path d="M{},{y} Q{:.1},{:.1} {},{y}" fill="none" stroke="#0072B2" stroke-width="1.5"/>"##,
            x(i),
            (x(i) + x(j)) / 2.0,
            y - 2.0 * bend,
            x(j)
        );
    }
    for (v, op) in ops.iter().enumerate() {
        let short = op.replace("-bn-relu", "");
        let _ = write!(
            out,
            r##"<rect x="{:.1}" y="{}" width="80" height="24" rx="5" fill="#fff" stroke="#000"/><text x="{:.1}" y="{}" text-anchor="middle">{}</text>"##,
            x(v) - 40.0,
            y - 12.0,
            x(v),
            y + 4.0,
            esc(&short)
        );
    }
    out.push_str("</svg>");
    out
}
