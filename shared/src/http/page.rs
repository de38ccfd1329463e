//! The public pages (a patient's forms, a clinic's booking page): one small HTML document with its script
//! and style inlined (each starts with the shared `pages/base.js` and `pages/base.css`), served with a
//! Content-Security-Policy that allows exactly those two by hash, and nothing from anywhere else.

use crate::http::outcome::Reply;

/// What every public page looks like: type, colours, fields, buttons, errors.
const BASE_STYLE: &str = include_str!("../pages/base.css");
/// What every public page's script starts with: `app`, `el` and `message`.
const BASE_SCRIPT: &str = include_str!("../pages/base.js");

/// A page, assembled once.
pub struct Page {
    html: String,
    csp: String,
}

impl Page {
    /// The page titled `title` that runs the shared script then `script` in `<main id="app">`, styled by
    /// the shared style and `style`.
    pub fn assemble(title: &str, script: &str, style: &str) -> Self {
        let style = format!("{BASE_STYLE}{style}");
        let script = format!("{BASE_SCRIPT}{script}");
        let html = format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"robots\" content=\"noindex, nofollow\">\n\
             <link rel=\"icon\" href=\"data:,\">\n<title>{title}</title>\n<style>{style}</style>\n</head>\n<body>\n\
             <main id=\"app\" aria-live=\"polite\">\n  <p class=\"notice\">Loading…</p>\n</main>\n\
             <script>{script}</script>\n</body>\n</html>\n"
        );
        use base64::Engine;
        use sha2::Digest;
        let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s.as_bytes()));
        let csp = format!(
            "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src 'self' data: blob:; connect-src 'self' https:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
            hash(&script),
            hash(&style)
        );
        Self { html, csp }
    }

    /// The page as an answer, with its policy and no referrer.
    pub fn reply(&self) -> Reply {
        let mut reply = Reply::bytes("text/html; charset=utf-8", self.html.as_bytes().to_vec());
        reply.headers = vec![
            ("content-security-policy".into(), self.csp.clone()),
            ("x-content-type-options".into(), "nosniff".into()),
            ("referrer-policy".into(), "no-referrer".into()),
        ];
        reply
    }
}
