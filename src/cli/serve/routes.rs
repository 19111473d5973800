//! The URL map, and how a view is run: on the blocking pool (views read
//! files), with the time it took in a `Server-Timing` header and headers
//! that keep the pages to themselves.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::Served;
use super::access::guard;
use super::assets;
use super::flow;
use super::html::Page;
use super::items::{self, QueueQuery};
use super::live;
use super::overview;
use super::query;
use super::runs::{self, RunsQuery};

pub fn router(served: Arc<Served>) -> Router {
    Router::new()
        .route("/", get(overview_page))
        .route("/api/status", get(status_json))
        .route("/flow", get(flow_page))
        .route("/queue", get(queue_page))
        .route("/items/{id}", get(item_page))
        .route("/runs", get(runs_page))
        .route("/runs/{id}", get(run_page))
        .route("/events", get(live::events))
        .route("/assets/{name}", get(assets::serve))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(served.access.clone(), guard))
        .layer(middleware::from_fn(headers))
        .with_state(served)
}

/// Runs `view` on the blocking pool and times it.
async fn render(
    served: Arc<Served>,
    view: impl FnOnce(&Served) -> Page + Send + 'static,
) -> Response {
    let started = Instant::now();
    let page = tokio::task::spawn_blocking(move || view(&served)).await;
    let mut response = match page {
        Ok(page) => page.into_response(),
        Err(_) => Page::notice("Error", "the page failed to render")
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
    };
    let timing = format!("render;dur={:.3}", started.elapsed().as_secs_f64() * 1000.0);
    if let Ok(value) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

async fn overview_page(State(s): State<Arc<Served>>) -> Response {
    render(s, overview::page).await
}

async fn status_json(State(s): State<Arc<Served>>) -> Response {
    let json = tokio::task::spawn_blocking(move || overview::status_json(&s)).await;
    let body = json
        .ok()
        .flatten()
        .unwrap_or(serde_json::Value::Null)
        .to_string();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn flow_page(State(s): State<Arc<Served>>) -> Response {
    render(s, flow::page).await
}

async fn queue_page(State(s): State<Arc<Served>>, RawQuery(raw): RawQuery) -> Response {
    match query::parse::<QueueQuery>(raw.as_deref()) {
        Ok(q) => render(s, move |s| items::queue_page(s, &q)).await,
        Err(page) => page.into_response(),
    }
}

async fn item_page(State(s): State<Arc<Served>>, Path(id): Path<String>) -> Response {
    render(s, move |s| items::item_page(s, &id)).await
}

async fn runs_page(State(s): State<Arc<Served>>, RawQuery(raw): RawQuery) -> Response {
    match query::parse::<RunsQuery>(raw.as_deref()) {
        Ok(q) => render(s, move |s| runs::runs_page(s, &q)).await,
        Err(page) => page.into_response(),
    }
}

async fn run_page(State(s): State<Arc<Served>>, Path(id): Path<String>) -> Response {
    render(s, move |s| runs::run_page(s, &id)).await
}

async fn not_found() -> Response {
    Page::not_found("no such page").into_response()
}

/// Pages load nothing from elsewhere, are never framed, and never leak
/// their URL (it may carry the token).
async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}
