//! The `continue` token of chunked lists, in the etcd3 store's format: unpadded
//! base64url of `{"v":"meta.k8s.io/v1","rv":<snapshot rv>,"start":"<key after the last
//! item>"}`, the key relative to the list's prefix (`ns/name\0` for all namespaces,
//! `name\0` within one). `rv` -1 continues at the latest state (the token an expired
//! continue answers with).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

const VERSION: &str = "meta.k8s.io/v1";

#[derive(Serialize, Deserialize)]
struct Wire {
    v: String,
    rv: i64,
    start: String,
}

/// A decoded token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContinueToken {
    /// The resourceVersion of the snapshot the list pages through; -1 for the latest.
    pub rv: i64,
    /// The first key (relative to the list's prefix) the next page may return.
    pub start: String,
}

/// The token that resumes at `start` (relative to the prefix; the key after a page's
/// last item `k` is `k\0`).
pub fn encode(start: &str, rv: i64) -> String {
    let wire = Wire {
        v: VERSION.to_string(),
        rv,
        start: start.to_string(),
    };
    let json = serde_json::to_vec(&wire).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Decodes a token; the error is the etcd3 store's text (`continue key is not valid: ...`).
pub fn decode(token: &str) -> Result<ContinueToken, String> {
    let invalid = |e: &dyn std::fmt::Display| format!("continue key is not valid: {e}");
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|e| invalid(&e))?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|e| invalid(&e))?;
    if wire.v != VERSION {
        return Err(format!(
            "continue key is not valid: server does not recognize this encoded version {:?}",
            wire.v
        ));
    }
    if wire.rv == 0 {
        return Err(format!(
            "continue key is not valid: incorrect encoded start resourceVersion (version {VERSION})"
        ));
    }
    if wire.start.is_empty() {
        return Err(format!(
            "continue key is not valid: encoded start key empty (version {VERSION})"
        ));
    }
    // The store's path.Clean guard: a start key may not climb out of the list's prefix.
    let climbs = wire
        .start
        .trim_end_matches('\u{0}')
        .split('/')
        .any(|part| part == ".." || part == ".");
    if climbs || wire.start.starts_with('/') {
        return Err(format!("continue key is not valid: {}", wire.start));
    }
    Ok(ContinueToken {
        rv: wire.rv,
        start: wire.start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches_the_etcd3_layout() {
        let token = encode("shop/cart-1\u{0}", 42);
        let raw = URL_SAFE_NO_PAD.decode(&token).expect("base64url");
        assert_eq!(
            String::from_utf8(raw).expect("utf8"),
            r#"{"v":"meta.k8s.io/v1","rv":42,"start":"shop/cart-1\u0000"}"#
        );
        assert_eq!(
            decode(&token),
            Ok(ContinueToken {
                rv: 42,
                start: "shop/cart-1\u{0}".to_string()
            })
        );
    }

    #[test]
    fn rejects_bad_tokens() {
        assert!(decode("!!!").is_err_and(|e| e.starts_with("continue key is not valid")));
        let other = URL_SAFE_NO_PAD.encode(r#"{"v":"x","rv":1,"start":"a"}"#);
        assert!(decode(&other).is_err_and(|e| e.contains("does not recognize")));
        let zero = URL_SAFE_NO_PAD.encode(r#"{"v":"meta.k8s.io/v1","rv":0,"start":"a"}"#);
        assert!(decode(&zero).is_err_and(|e| e.contains("incorrect encoded start")));
        let climb = URL_SAFE_NO_PAD.encode(r#"{"v":"meta.k8s.io/v1","rv":3,"start":"../x"}"#);
        assert!(decode(&climb).is_err());
    }
}
