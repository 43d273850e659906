//! Warnings about peers that misbehave before they are admitted (no handshake in time, a
//! malformed one, a failed TLS handshake, a refused token): one line per kind per minute, the
//! rest counted into the next line, so 400 idle connections do not flood the log. A peer that
//! connects and leaves without a byte (a port probe, `idreviewd doctor`) is not a warning.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use tracing::{debug, warn};

/// At most one warning per kind in this window.
const WINDOW: Duration = Duration::from_secs(60);

/// Per kind: when its last warning was logged and how many were held back since.
static SEEN: LazyLock<Mutex<HashMap<&'static str, (Instant, u64)>>> = LazyLock::new(Mutex::default);

/// Logs `what` (with `detail`) as a warning unless one of the same kind was logged within
/// the window; those are counted and logged at debug level.
pub fn warn_peer(what: &'static str, detail: &dyn Display) {
    let Some(held) = admit(what, Instant::now()) else {
        debug!(%detail, "{what}");
        return;
    };
    if held == 0 {
        warn!(%detail, "{what}");
    } else {
        warn!(%detail, held_back = held, "{what} ({held} more like it in the last minute)");
    }
}

/// Whether a warning of `what` at `now` is logged, and how many were held back before it.
fn admit(what: &'static str, now: Instant) -> Option<u64> {
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    match seen.get_mut(what) {
        Some((last, held)) if now.duration_since(*last) < WINDOW => {
            *held += 1;
            None
        }
        Some((last, held)) => {
            let before = *held;
            (*last, *held) = (now, 0);
            Some(before)
        }
        None => {
            seen.insert(what, (now, 0));
            Some(0)
        }
    }
}

/// Whether a handshake error is a peer that left before sending anything.
pub fn left_silently(e: &idreview_protocol::transport::TransportError) -> bool {
    matches!(e, idreview_protocol::transport::TransportError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_warning_per_kind_per_window_then_the_count() {
        let t0 = Instant::now();
        let kind = "test kind";
        assert_eq!(admit(kind, t0), Some(0));
        for i in 1..=399 {
            assert_eq!(admit(kind, t0 + Duration::from_millis(i)), None);
        }
        assert_eq!(admit("other kind", t0), Some(0), "kinds are apart");
        assert_eq!(admit(kind, t0 + WINDOW), Some(399));
        assert_eq!(admit(kind, t0 + WINDOW * 2), Some(0));
    }
}
