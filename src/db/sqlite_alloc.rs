//! SQLite's memory from mimalloc instead of glibc's `malloc`.
//!
//! sqlx copies every column value it reads (`sqlite3_value_dup`) on the
//! connection's thread, and the rows are dropped on a tokio thread: glibc
//! serves that producer/consumer pattern from its locked arena path
//! (`_int_malloc`, `malloc_consolidate`), a fifth of the connection
//! threads' samples in a billing run under `perf`. mimalloc, the server's
//! allocator, frees across threads without a lock.
//!
//! SQLite copies the method table and accepts it only before it is first
//! initialised (the first connection); later calls are refused by SQLite
//! and change nothing, so installing is safe at any time.

use std::ffi::{c_int, c_void};
use std::sync::Once;

use libmimalloc_sys::{mi_free, mi_good_size, mi_malloc, mi_realloc, mi_usable_size};
use libsqlite3_sys::{SQLITE_CONFIG_MALLOC, SQLITE_OK, sqlite3_config, sqlite3_mem_methods};

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    // SAFETY: mimalloc accepts any size; SQLite never asks for n <= 0.
    unsafe { mi_malloc(n.max(0) as usize) }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    // SAFETY: SQLite frees only what x_malloc/x_realloc returned.
    unsafe { mi_free(p) }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    // SAFETY: as above; `p` came from this allocator.
    unsafe { mi_realloc(p, n.max(0) as usize) }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    // SAFETY: `p` came from this allocator. SQLite allocations stay far
    // below 2 GiB (its own limit is SQLITE_MAX_ALLOCATION_SIZE).
    c_int::try_from(unsafe { mi_usable_size(p) }).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    // SAFETY: a pure size computation.
    c_int::try_from(unsafe { mi_good_size(n.max(0) as usize) }).unwrap_or(n)
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Points SQLite at mimalloc; call before the first connection opens.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let methods = sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: SQLITE_CONFIG_MALLOC takes a pointer to a method table,
        // which SQLite copies before returning.
        let rc = unsafe { sqlite3_config(SQLITE_CONFIG_MALLOC, &methods as *const _) };
        if rc != SQLITE_OK {
            // Already initialised (a connection was opened earlier in this
            // process): SQLite keeps its own allocator, which still works.
            tracing::debug!(rc, "SQLite kept its default allocator");
        }
    });
}

#[cfg(test)]
mod tests {
    use libmimalloc_sys::mi_is_in_heap_region;
    use libsqlite3_sys::{sqlite3_free, sqlite3_malloc};

    /// A connection opened through `Db::connect` runs on a SQLite whose
    /// memory comes from mimalloc (the test binary's own allocator is the
    /// system's, so only the hook can put it there).
    #[tokio::test]
    async fn sqlite_allocates_from_mimalloc() {
        let dir = std::env::temp_dir().join(format!("bc-alloc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("a.db").display());
        let db = crate::db::Db::connect(&url).await.unwrap();
        sqlx::query("SELECT 1").execute(&db.pool).await.unwrap();
        // SAFETY: a plain allocation, freed right after.
        unsafe {
            let p = sqlite3_malloc(64);
            assert!(!p.is_null());
            assert!(
                mi_is_in_heap_region(p),
                "SQLite did not allocate from mimalloc"
            );
            sqlite3_free(p);
        }
        db.pool.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
