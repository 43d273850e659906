//! Keeping the daemon's resident memory close to what it actually holds. glibc's allocator
//! keeps memory it was given back: one arena per thread that ever allocated (up to eight per
//! core), and freed chunks left inside the heap. After a burst (decoding images, a bulk
//! decision, the index rebuild at start) that can be tens of megabytes the daemon no longer
//! uses. [`tune`] limits the arenas; [`release`] hands free pages back after a burst, and
//! [`run`] again every little while, for what is freed late (sled frees old page versions only
//! as its epochs advance, seconds after the write). With another libc they do nothing.

/// Sets the allocator up before the runtime starts its threads: two arenas for the whole
/// process, enough for the daemon's few busy threads (`MALLOC_ARENA_MAX` in the environment
/// still wins).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        glibc::mallopt_arena_max(2);
    }
}

/// How often [`run`] hands free pages back.
const EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Hands free pages back every [`EVERY`] until `shutdown`.
pub async fn run(shutdown: tokio_util::sync::CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
        let _ = tokio::task::spawn_blocking(release).await;
    }
}

/// [`release`] on the blocking pool, so that the answer to the call that caused the burst is
/// not kept waiting for it (it walks the heap: tens of milliseconds at 100,000 cards). At most
/// one runs at a time: a burst that ends while one runs is left to the next, or to [`run`].
pub fn release_soon() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static RUNNING: AtomicBool = AtomicBool::new(false);
    if RUNNING.swap(true, Ordering::AcqRel) {
        return;
    }
    drop(tokio::task::spawn_blocking(|| {
        release();
        RUNNING.store(false, Ordering::Release);
    }));
}

/// Returns the free pages of every arena to the system. It walks the heap (milliseconds at
/// 100,000 cards) and briefly locks each arena, so it runs after bursts, not per request.
pub fn release() {
    collect_old_versions();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let started = std::time::Instant::now();
        let before = glibc::heap();
        glibc::malloc_trim();
        let after = glibc::heap();
        tracing::debug!(
            took = ?started.elapsed(),
            in_use_mib = after.in_use >> 20,
            free_mib_before = before.free >> 20,
            free_mib_after = after.free >> 20,
            mapped_mib = after.mapped >> 20,
            "free memory handed back"
        );
    }
}

/// Frees the page versions sled has replaced. sled defers each free until no reader can
/// still see the old version (crossbeam's epochs), and the deferred frees run only a few bags
/// at a time as threads pin: after a bulk decision of 10,000 cards tens of megabytes wait
/// there for the next few thousand store operations. Pinning here advances the epoch and runs
/// what has expired, a bounded number of times (microseconds each).
fn collect_old_versions() {
    const ROUNDS: usize = 4096;
    for _ in 0..ROUNDS {
        crossbeam_epoch::pin().flush();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    #[expect(unsafe_code, reason = "FFI to glibc's allocator settings")]
    pub fn mallopt_arena_max(arenas: i32) {
        // SAFETY: mallopt only changes allocator parameters and has no caller-side invariants.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }

    /// What the allocator holds, in bytes: handed out, kept free in its heaps, and in
    /// allocations large enough to have their own mapping.
    pub struct Heap {
        pub in_use: usize,
        pub free: usize,
        pub mapped: usize,
    }

    #[expect(unsafe_code, reason = "FFI to glibc's mallinfo2")]
    pub fn heap() -> Heap {
        // SAFETY: mallinfo2 only reads the allocator's counters (under its locks).
        let info = unsafe { libc::mallinfo2() };
        Heap {
            in_use: info.uordblks,
            free: info.fordblks,
            mapped: info.hblkhd,
        }
    }

    #[expect(unsafe_code, reason = "FFI to glibc's malloc_trim")]
    pub fn malloc_trim() {
        // SAFETY: malloc_trim is thread-safe and releases only memory no allocation holds.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}
