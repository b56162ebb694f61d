//! `GET /`: the log search web UI, one self-contained page served from the binary.

use axum::response::Html;

const INDEX: &str = include_str!("../../ui/index.html");

pub async fn index() -> Html<&'static str> {
    Html(INDEX)
}
