use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn the_openapi_document_covers_every_gateway_route_and_every_proxied_prefix() {
    let app = spawn_app_with(|s| s.legacy.enabled = true).await;
    let res = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/apple", "post"),
        ("/api/v1/users/me", "get"),
        ("/api/v1/users/me", "put"),
        ("/api/v1/users/me/energy", "put"),
        ("/api/v1/health", "get"),
        ("/health", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} undocumented"
        );
    }
    // The resume protocol of streamed replies is in the document, with its header.
    let resume = &paths["/api/v1/chat/resume"]["get"];
    assert!(
        resume["description"]
            .as_str()
            .unwrap()
            .contains("Last-Event-ID: <the last id received>")
    );
    assert_eq!(resume["parameters"][0]["name"], "Last-Event-ID");
    assert_eq!(resume["parameters"][0]["in"], "header");
    assert_eq!(
        paths["/api/v1/chat"]["post"]["parameters"][0]["name"],
        "Last-Event-ID"
    );
    let table = gateway::routing::route_table(&app.settings);
    for route in table.routes() {
        assert!(
            paths
                .keys()
                .any(|p| p == &route.prefix || p.starts_with(&format!("{}/", route.prefix))),
            "proxied prefix {} has no documented route",
            route.prefix
        );
    }
    for documented in paths.keys() {
        let ours = [
            "/api/v1/auth/",
            "/api/v1/users/me",
            "/api/v1/health",
            "/health",
        ]
        .iter()
        .any(|p| documented.starts_with(p));
        let concrete = documented
            .replace("{id}", "x")
            .replace("{image_id}", "x")
            .replace("{dose_id}", "x")
            .replace("{date}", "x")
            .replace("{file}", "x");
        assert!(
            ours || table.find(&concrete).is_some(),
            "{documented} is documented but not routed"
        );
    }
}

#[tokio::test]
async fn the_docs_page_is_self_contained() {
    let app = spawn_app_with(|_| {}).await;
    let res = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("/api/v1/openapi.json"));
    assert!(!html.contains("https://"), "no external assets");
}
