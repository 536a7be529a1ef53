//! Keeps the memory an idle server holds small, honestly: it gives back heap, never code pages.
//!
//! Big short-lived buffers are the main source of memory an idle server keeps: a sign-in hashes the
//! password with argon2id, which takes 19 MiB. glibc hands out such blocks with `mmap` and unmaps
//! them when freed — until a freed one raises its threshold, after which they come from the heap
//! and stay there. [`keep_big_buffers_out_of_the_heap`] fixes the threshold at 1 MiB.
//!
//! Once the listener is bound, [`trim_startup_heap`] returns the free heap left by start-up (reading
//! the config, migrating the database, building the route list) to the kernel (`malloc_trim`).
//! The binary's own code pages are left alone: paging them out lowers the RSS figure, not the memory
//! the machine needs. `scripts/bench web` reports both the anonymous RSS and the total RSS: see the
//! README.

/// Allocations of 1 MiB and more always get their own mapping, returned to the kernel when freed
/// (glibc's `M_MMAP_THRESHOLD`; setting it turns off the threshold's growth). Call first in `main`.
#[cfg(target_env = "gnu")]
pub fn keep_big_buffers_out_of_the_heap() {
    // SAFETY: mallopt only changes allocator parameters; called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(target_env = "gnu"))]
pub fn keep_big_buffers_out_of_the_heap() {}

/// Returns the free heap of start-up to the kernel. Best effort.
#[cfg(target_env = "gnu")]
pub fn trim_startup_heap() {
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(target_env = "gnu"))]
pub fn trim_startup_heap() {}
