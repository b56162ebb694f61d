//! `GET /api/v1/logs/tail?query=…[&start=…]`: server-sent events, one matching hit per
//! event as it is ingested. With `start`, the hits since then come first (oldest first, up to
//! `limit`).

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_like::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

use super::search::{hit_json, request, SearchParams};
use super::{ApiError, AppState};
use crate::store::{Direction, LogBackend};

mod futures_like {
    pub use tokio_stream::Stream;
}

pub async fn tail(
    State(state): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let backfill = p.start.is_some();
    let mut req = request(&p)?;
    let mut live = state.store.subscribe();
    let (tx, rx) = mpsc::channel::<Event>(256);
    let query = req.query.clone();
    if backfill {
        req.direction = Direction::Forward;
        let store = state.store.clone();
        let res = tokio::task::spawn_blocking(move || store.search(&req))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(|e| ApiError::internal(format!("search failed: {e}")))?;
        for h in res.hits {
            let _ = tx.try_send(Event::default().data(hit_json(&h.record).to_string()));
        }
    }
    tokio::spawn(async move {
        loop {
            match live.recv().await {
                Ok(batch) => {
                    for r in batch.iter().filter(|r| query.matches_record(r)) {
                        let ev = Event::default().data(hit_json(r).to_string());
                        if tx.send(ev).await.is_err() {
                            return;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    let ev = Event::default()
                        .event("lagged")
                        .data(format!("{{\"skipped_batches\":{n}}}"));
                    if tx.send(ev).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let stream = tokio_stream::StreamExt::map(stream, Ok::<_, Infallible>);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
