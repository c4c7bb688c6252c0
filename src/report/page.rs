//! The one page template of nar's three HTML pages (a run's report, the search study's page, the
//! predictor study's page): a self-contained document, its own style sheet inline, no scripts.

/// A self-contained HTML page titled `title`, with the style sheet `css` and the `body` markup.
pub fn page(title: &str, css: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\n{css}</style></head><body>{body}</body></html>\n",
        super::svg::esc(title)
    )
}

/// The style every page shares: the font, the colours, compact tables.
pub const BASE_CSS: &str = "body{font-family:sans-serif;margin:24px auto;padding:0 16px;color:#222}\ntable{border-collapse:collapse;font-size:13px}\n";
