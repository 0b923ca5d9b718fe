//! The web console as served: its page and files, their headers, compression and caching, and
//! the size of the first screen. (What it does is tested in a browser: stack/tests/stack_tests/web.rs.)

use std::collections::BTreeSet;
use std::io::Read;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

use crate::helpers::spawn_app;

/// Without automatic decompression: what goes over the wire.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// `/assets/…` files a page names in `src="…"` / `href="…"` and in `import … from "./…"`.
fn references(text: &str, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    for quote in text.split('"').skip(1).step_by(2) {
        // A file (`/assets/app.js`), not the scope a service worker is registered for.
        if let Some(rest) = quote
            .strip_prefix("/assets/")
            .filter(|r| r.ends_with(".js") || r.ends_with(".css"))
        {
            out.push(rest.to_owned());
        } else if (quote.starts_with("./") || quote.starts_with("../")) && quote.ends_with(".js") {
            let mut parts: Vec<&str> = base.split('/').collect();
            parts.pop();
            for piece in quote.split('/') {
                match piece {
                    "." => {}
                    ".." => {
                        parts.pop();
                    }
                    p => parts.push(p),
                }
            }
            out.push(parts.join("/"));
        }
    }
    out
}

#[tokio::test]
async fn the_console_page_and_its_files_are_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let client = raw_client();

    let page = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let etag = page.headers()[ETAG].clone();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<script type=\"module\" src=\"/assets/app.js\">"),
        "{html}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere"
    );

    // Unchanged: a 304 without a body.
    let again = client
        .get(app.url("/"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // Gzipped when asked for; the same bytes when not.
    let plain = client.get(app.url("/assets/app.js")).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(
        plain.headers()[CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let plain = plain.bytes().await.unwrap();
    let zipped = client
        .get(app.url("/assets/app.js"))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()[CONTENT_ENCODING], "gzip");
    let zipped = zipped.bytes().await.unwrap();
    assert!(zipped.len() < plain.len());
    assert_eq!(gunzip(&zipped), plain);
    let refused = client
        .get(app.url("/assets/app.js"))
        .header(ACCEPT_ENCODING, "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert!(refused.headers().get(CONTENT_ENCODING).is_none());

    // Nothing outside the console's folder, and unknown files are the API's 404.
    for path in [
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/Cargo.toml",
        "/assets/missing.js",
        "/assets/README.md",
        "/assets/index.html",
        "/assets/",
    ] {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "not_found", "{path}");
    }
}

/// The budget: the first screen (the page and every script and style it loads, as
/// sent gzipped) within 200 KB.
#[tokio::test]
async fn the_first_screen_transfers_under_200_kb_compressed() {
    let app = spawn_app().await;
    let client = raw_client();
    let html = client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut pending: Vec<String> = references(&html, "");
    let mut seen = BTreeSet::new();
    let mut total = 0usize;
    while let Some(file) = pending.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let res = client
            .get(app.url(&format!("/assets/{file}")))
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{file}");
        let body = res.bytes().await.unwrap();
        total += body.len();
        let text = String::from_utf8(gunzip(&body)).unwrap();
        pending.extend(references(&text, &file));
    }
    assert!(
        seen.contains("app.js") && seen.contains("style.css") && seen.contains("views/chat.js"),
        "{seen:?}"
    );
    println!("first screen: {} files, {total} bytes gzipped", seen.len());
    assert!(total <= 200 * 1024, "{total} bytes");
}

/// Every error code the API can answer has its text in the console, the Chinese one as in the
/// API's table (docs/API.md).
#[test]
fn the_console_has_a_message_for_every_error_code() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let errors = std::fs::read_to_string(root.join("web/errors.js")).unwrap();
    let table = std::fs::read_to_string(root.join("docs/API.md")).unwrap();
    let mut count = 0;
    for line in table.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || !cells[1].starts_with('`') || cells[2].parse::<u16>().is_err() {
            continue;
        }
        let code = cells[1].trim_matches('`');
        let zh = cells[3];
        let entry = format!("  {code}: [\"{zh}\", \"");
        assert!(
            errors.contains(&entry),
            "web/errors.js lacks {code} with {zh:?}"
        );
        count += 1;
    }
    assert!(count >= 60, "read {count} codes from docs/API.md");
}
