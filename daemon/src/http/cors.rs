//! CORS for `[http] cors_origins`: preflight for `Authorization`, `PUT`, `PATCH`, the
//! idempotency header and the tus headers, which answers expose.
//!
//! tower-http answers every `OPTIONS` as a preflight. A preflight carries
//! `Access-Control-Request-Method`; an `OPTIONS` without it is an ordinary request (tus's
//! discovery of `uploads/`), so it reaches the routes and gets the headers of an ordinary
//! cross-origin answer.

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower::ServiceExt;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{auth, resumable};

/// `routes` with CORS for `origins`; `routes` unchanged when there are none.
pub fn around(routes: Router, origins: &[String]) -> Router {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim().trim_end_matches('/')).ok())
        .collect();
    if origins.is_empty() {
        return routes;
    }
    let discovery = Discovery {
        routes: routes.clone(),
        origins: origins.clone(),
    };
    routes
        .layer(layer(origins))
        .layer(middleware::from_fn_with_state(
            discovery,
            options_or_preflight,
        ))
}

/// The layer answering preflights and marking ordinary answers.
fn layer(origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::HEAD,
            Method::OPTIONS,
        ])
        .allow_headers(
            [
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static(auth::ACTING_FOR),
            ]
            .into_iter()
            .chain(resumable::HEADERS.map(HeaderName::from_static))
            .collect::<Vec<_>>(),
        )
        .expose_headers(exposed())
        .max_age(Duration::from_secs(600))
}

fn exposed() -> Vec<HeaderName> {
    [header::RETRY_AFTER, header::LOCATION]
        .into_iter()
        .chain(resumable::HEADERS.map(HeaderName::from_static))
        .collect()
}

/// The routes without the CORS layer, for an `OPTIONS` that is not a preflight.
#[derive(Clone)]
struct Discovery {
    routes: Router,
    origins: Vec<HeaderValue>,
}

async fn options_or_preflight(
    State(discovery): State<Discovery>,
    request: Request,
    next: Next,
) -> Response {
    let preflight = request
        .headers()
        .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if request.method() != Method::OPTIONS || preflight {
        return next.run(request).await;
    }
    let origin = request.headers().get(header::ORIGIN).cloned();
    let Ok(mut response) = discovery.routes.oneshot(request).await;
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    if let Some(origin) = origin.filter(|o| discovery.origins.contains(o)) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        let exposed = exposed();
        let names: Vec<&str> = exposed.iter().map(HeaderName::as_str).collect();
        if let Ok(value) = HeaderValue::from_str(&names.join(",")) {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, value);
        }
    }
    response
}
