//! The dashboard served at `/`: one HTML page, its script and its style
//! sheet, embedded in the binary (`include_str!`) so that the aggregator
//! serves everything itself: no CDN, no build step, nothing fetched from
//! elsewhere.
//!
//! The page reads only the public JSON API (`/v1/status`,
//! `/v1/checkpoints`, `/v1/divergences`), polling it about once a second,
//! and says so when the data grows stale. A strict Content-Security-Policy
//! keeps it that way: scripts, styles and requests go to this origin only.
//!
//! Caching: the files change only with the binary, so each answer carries
//! an `ETag` (a hash of the content) and `Cache-Control: no-cache`: a
//! browser revalidates on every load and gets a `304` without a body while
//! the binary stays the same, and never runs a stale script against a newer
//! API after an upgrade.

use std::sync::LazyLock;

use actix_web::{
    HttpRequest, HttpResponse, guard,
    http::header::{self, EntityTag, HeaderValue},
    web,
};
use alloy::primitives::keccak256;

/// The page.
pub(crate) const INDEX_PATH: &str = chorus_wire::routes::DASHBOARD;
/// Its script.
pub(crate) const SCRIPT_PATH: &str = "/dashboard.js";
/// Its style sheet.
pub(crate) const STYLE_PATH: &str = "/dashboard.css";

/// Only this origin, for everything; inline scripts and styles are refused.
/// `data:` images allow the empty inline favicon (no `/favicon.ico` request).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// One embedded file and how it is served.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 3] = [
    Asset {
        path: INDEX_PATH,
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../assets/dashboard/index.html"),
    },
    Asset {
        // RFC 9239: text/javascript is the one media type for scripts.
        path: SCRIPT_PATH,
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/dashboard/dashboard.js"),
    },
    Asset {
        path: STYLE_PATH,
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/dashboard/dashboard.css"),
    },
];

/// A strong validator per asset, in [`ASSETS`] order: the first 8 bytes
/// of the content's keccak-256, computed once.
static ETAGS: LazyLock<Vec<EntityTag>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let hash = keccak256(asset.body.as_bytes());
            EntityTag::new_strong(alloy::hex::encode(&hash[..8]))
        })
        .collect()
});

/// Registers the page and its assets (`GET` and `HEAD`) on the API's app.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    for (index, asset) in ASSETS.iter().enumerate() {
        config.service(
            web::resource(asset.path).route(
                web::route()
                    .guard(guard::Any(guard::Get()).or(guard::Head()))
                    .to(move |request: HttpRequest| async move { serve(index, &request) }),
            ),
        );
    }
}

/// Answers with asset `index`, or `304` when the browser's copy is current.
fn serve(index: usize, request: &HttpRequest) -> HttpResponse {
    let (Some(asset), Some(etag)) = (ASSETS.get(index), ETAGS.get(index)) else {
        return HttpResponse::NotFound().finish();
    };
    let current = is_current(request, etag);
    let mut response = if current { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")));
    if asset.path == INDEX_PATH {
        response.insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ));
    }
    if current {
        return response.finish();
    }
    response.content_type(asset.content_type).body(asset.body)
}

/// True when `If-None-Match` names `etag` (or `*`).
fn is_current(request: &HttpRequest, etag: &EntityTag) -> bool {
    request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.parse::<EntityTag>().is_ok_and(|tag| tag.weak_eq(etag)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use actix_web::{App, http::StatusCode, test as actix_test};

    use super::*;

    async fn get(path: &str, if_none_match: Option<&str>) -> actix_web::dev::ServiceResponse {
        let app = actix_test::init_service(App::new().configure(configure)).await;
        let mut request = actix_test::TestRequest::get().uri(path);
        if let Some(tag) = if_none_match {
            request = request.insert_header((header::IF_NONE_MATCH, tag));
        }
        actix_test::call_service(&app, request.to_request()).await
    }

    fn header_of(response: &actix_web::dev::ServiceResponse, name: header::HeaderName) -> String {
        response.headers().get(name).unwrap().to_str().unwrap().to_owned()
    }

    #[actix_web::test]
    async fn each_asset_is_served_with_its_content_type() {
        for (path, kind) in
            [(INDEX_PATH, "text/html"), (SCRIPT_PATH, "text/javascript"), (STYLE_PATH, "text/css")]
        {
            let response = get(path, None).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert!(header_of(&response, header::CONTENT_TYPE).starts_with(kind), "{path}");
            assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache");
            let body = actix_test::read_body(response).await;
            assert!(!body.is_empty(), "{path}");
        }
        let page = get(INDEX_PATH, None).await;
        let policy = header_of(&page, header::CONTENT_SECURITY_POLICY);
        assert!(policy.contains("connect-src 'self'"), "{policy}");
    }

    #[actix_web::test]
    async fn a_current_copy_is_answered_without_a_body() {
        let first = get(SCRIPT_PATH, None).await;
        let etag = header_of(&first, header::ETAG);
        let again = get(SCRIPT_PATH, Some(&etag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(actix_test::read_body(again).await.is_empty());
        let stale = get(SCRIPT_PATH, Some("\"0000\"")).await;
        assert_eq!(stale.status(), StatusCode::OK);
    }

    #[actix_web::test]
    async fn other_methods_are_not_served() {
        let app = actix_test::init_service(App::new().configure(configure)).await;
        let request = actix_test::TestRequest::post().uri(INDEX_PATH).to_request();
        let response = actix_test::call_service(&app, request).await;
        assert!(response.status().is_client_error());
    }

    #[test]
    fn the_page_references_only_its_own_assets() {
        for asset in &ASSETS {
            for scheme in ["http://", "https://", "//cdn", "@import"] {
                assert!(
                    !asset.body.contains(scheme),
                    "{} refers to {scheme}: everything must be served locally",
                    asset.path
                );
            }
        }
        let index = ASSETS[0].body;
        assert!(index.contains(&format!("src=\"{SCRIPT_PATH}\"")), "the page loads its script");
        assert!(index.contains(&format!("href=\"{STYLE_PATH}\"")), "the page loads its styles");
        // Every src/href of the page is one of the served paths (or the
        // empty inline favicon).
        for attribute in ["src=\"", "href=\""] {
            for reference in index.split(attribute).skip(1) {
                let target = reference.split('"').next().unwrap_or_default();
                assert!(
                    target == "data:," || ASSETS.iter().any(|a| a.path == target),
                    "the page refers to {target}, which the aggregator does not serve"
                );
            }
        }
    }
}
