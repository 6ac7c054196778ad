//! A counting global allocator for the Rust contenders: live heap bytes and allocation counts,
//! exact (no sampling), next to the RSS figures.
//!
//! Counting is off until [`start_counting`] and costs one relaxed load per allocation then
//! (two relaxed atomic adds once on), so the CPU figures of a run that never turns it on are
//! not disturbed.
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: rivet_bench::heap::CountingAlloc = rivet_bench::heap::CountingAlloc;
//! rivet_bench::heap::start_counting();
//! let before = rivet_bench::heap::live_bytes();
//! ```
// The one place of the workspace with unsafe code: `GlobalAlloc` is an unsafe trait. Every
// call is forwarded unchanged to the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The system allocator, counting while [`start_counting`] is in effect.
pub struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
/// Live bytes counted (wrapping: frees of blocks allocated before counting started subtract;
/// only differences between two readings taken while counting mean anything).
static LIVE: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// Starts counting (call it before what is measured; differences between readings are exact
/// from then on).
pub fn start_counting() {
    COUNTING.store(true, Ordering::SeqCst);
}

/// Stops counting.
pub fn stop_counting() {
    COUNTING.store(false, Ordering::SeqCst);
}

/// Live heap bytes counted so far (see [`LIVE`]'s wrapping note).
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// Allocations (and reallocations) counted so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::SeqCst)
}

/// The live bytes added between two [`live_bytes`] readings (negative when the heap shrank).
pub fn live_delta(before: usize, after: usize) -> i64 {
    after.wrapping_sub(before) as isize as i64
}

#[inline]
fn count_alloc(size: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(size, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

#[inline]
fn count_free(size: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_sub(size, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counters are plain atomics and never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count_alloc(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count_alloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count_free(layout.size());
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `new_size` is checked by the caller.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count_free(layout.size());
            count_alloc(new_size);
        }
        new
    }
}
