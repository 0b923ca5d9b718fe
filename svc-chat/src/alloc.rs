//! Allocator tuning for the svc-chat binary, which runs on jemalloc.
//!
//! A chat turn allocates and frees a lot before its stream starts (database rows, the prompt,
//! the request body) and then holds little while the model streams for seconds. jemalloc keeps
//! freed pages for ten seconds by default, so every open stream looked about 20 KiB heavier
//! than what it holds. This service waits on the model, not on the CPU: freed pages go back to
//! the system at once (dirty and muzzy decay 0). Measured with `stack/examples/stream_bench.rs`:
//! svc-chat RSS per open stream over idle 78–80 KiB → 59–61 KiB.

use tikv_jemalloc_ctl::{Access, AsName};

/// Set dirty and muzzy page decay to 0 for the arenas that exist and for those created later.
/// Call first thing in `main`. Returns how many settings jemalloc accepted (the unit test reads
/// it); when jemalloc is not the global allocator the settings apply to an unused heap.
pub fn return_freed_pages_promptly() -> usize {
    let set_zero = |key: String| key.as_str().name().write(0isize).is_ok();
    let arenas: u32 = tikv_jemalloc_ctl::arenas::narenas::read().unwrap_or(0);
    let mut accepted = 0;
    for key in ["dirty_decay_ms", "muzzy_decay_ms"] {
        accepted += usize::from(set_zero(format!("arenas.{key}\0")));
        // Arenas not yet in use refuse; they start with the default set just above.
        accepted += (0..arenas)
            .filter(|i| set_zero(format!("arena.{i}.{key}\0")))
            .count();
    }
    accepted
}

#[cfg(test)]
mod tests {
    use tikv_jemalloc_ctl::{Access, AsName};

    #[test]
    fn new_arenas_return_freed_pages_at_once() {
        assert!(super::return_freed_pages_promptly() >= 2);
        for key in ["arenas.dirty_decay_ms\0", "arenas.muzzy_decay_ms\0"] {
            let value: isize = key.name().read().expect("jemalloc answers");
            assert_eq!(value, 0, "{key}");
        }
    }
}
