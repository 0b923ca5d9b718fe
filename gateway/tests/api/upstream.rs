//! A small fake service for proxy tests: echoes what it received, counts streamed uploads,
//! streams SSE under the test's control, and can be slow.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::Notify;

#[derive(Default)]
pub struct UpstreamState {
    pub received: AtomicU64,
    pub release_sse: Notify,
    pub sse_finished: AtomicU64,
    /// Set when an SSE response stream is dropped, finished or not (a client that left).
    pub sse_dropped: AtomicU64,
}

/// Marks the SSE stream's end of life in the state, however it ends.
struct DropFlag(Arc<UpstreamState>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.sse_dropped.store(1, Ordering::SeqCst);
    }
}

pub struct Upstream {
    pub base_url: String,
    pub state: Arc<UpstreamState>,
}

async fn echo(req: HttpRequest, body: Bytes) -> HttpResponse {
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                json!(v.to_str().unwrap_or("<binary>")),
            )
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "method": req.method().as_str(),
        "version": format!("{:?}", req.version()),
        "path": req.path(),
        "query": req.query_string(),
        "headers": headers,
        "body_len": body.len(),
    }))
}

async fn count(mut payload: web::Payload, state: web::Data<Arc<UpstreamState>>) -> HttpResponse {
    let mut total = 0u64;
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return HttpResponse::BadRequest().finish();
        };
        total += chunk.len() as u64;
        state
            .received
            .fetch_add(chunk.len() as u64, Ordering::SeqCst);
    }
    HttpResponse::Ok().json(json!({"bytes": total}))
}

async fn sse(state: web::Data<Arc<UpstreamState>>) -> HttpResponse {
    let state = state.get_ref().clone();
    let stream = async_stream(state);
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(stream)
}

fn async_stream(
    state: Arc<UpstreamState>,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
    let flag = DropFlag(state.clone());
    futures_util::stream::unfold(0u8, move |step| {
        let _alive = &flag;
        let state = state.clone();
        async move {
            match step {
                0 => Some((Ok(Bytes::from_static(b"event: delta\ndata: first\n\n")), 1)),
                1 => {
                    state.release_sse.notified().await;
                    Some((Ok(Bytes::from_static(b"event: done\ndata: second\n\n")), 2))
                }
                _ => {
                    state.sse_finished.store(1, Ordering::SeqCst);
                    None
                }
            }
        }
    })
}

/// An endless SSE stream, a tick every 50 ms, like a model that keeps writing.
async fn ticks(state: web::Data<Arc<UpstreamState>>) -> HttpResponse {
    let flag = DropFlag(state.get_ref().clone());
    let stream = futures_util::stream::unfold(0u64, move |n| {
        let _alive = &flag;
        async move {
            if n > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let event = format!("event: delta\ndata: tick {n}\n\n");
            Some((Ok::<_, actix_web::Error>(Bytes::from(event)), n + 1))
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(stream)
}

async fn slow() -> HttpResponse {
    tokio::time::sleep(Duration::from_secs(5)).await;
    HttpResponse::Ok().finish()
}

async fn hop_by_hop() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("keep-alive", "timeout=5"))
        .insert_header(("proxy-authenticate", "Basic"))
        .insert_header(("trailer", "x-checksum"))
        .insert_header(("x-upstream", "kept"))
        .json(json!({"ok": true}))
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "up"}))
}

pub async fn spawn_upstream() -> Upstream {
    spawn_upstream_on(None).await
}

/// The same upstream over HTTPS (a certificate from a throwaway CA; ALPN offers h2 and
/// http/1.1), with the CA's file.
pub async fn spawn_upstream_tls() -> (Upstream, std::path::PathBuf) {
    let tls = shared::testing::TestTls::new().expect("test CA");
    let ca_file = tls.write_ca_file().expect("CA file");
    let mut upstream = spawn_upstream_on(Some(tls.server)).await;
    upstream.base_url = upstream.base_url.replace("http://", "https://");
    (upstream, ca_file)
}

async fn spawn_upstream_on(tls: Option<rustls::ServerConfig>) -> Upstream {
    let state = Arc::new(UpstreamState::default());
    let data = web::Data::new(state.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .route("/healthz", web::get().to(healthz))
            .route("/api/v1/drugs/echo", web::to(echo))
            .route("/api/v1/drugs/count", web::post().to(count))
            .route("/api/v1/drugs/slow", web::get().to(slow))
            .route("/api/v1/drugs/hop", web::get().to(hop_by_hop))
            .route("/api/v1/chat/sse", web::get().to(sse))
            .route("/api/v1/chat/ticks", web::get().to(ticks))
            .route("/api/drugs/echo", web::to(echo))
    });
    let server = match tls {
        // HTTP/1.1 or h2c, as our services (`shared::server::internal_service`).
        None => server.listen_auto_h2c(listener),
        Some(tls) => server.listen_rustls_0_23(listener, tls),
    }
    .expect("listen")
    .workers(1)
    .disable_signals()
    .run();
    tokio::spawn(server);
    Upstream {
        base_url: format!("http://127.0.0.1:{port}"),
        state,
    }
}
