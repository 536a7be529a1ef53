//! Gives the memory of start-up back to the kernel once the server is up.
//!
//! Most of an idle `mnemosynce serve`'s resident memory is its own code, not data: reading the
//! config, migrating the database, building the route list and the scheduler touch code all over the
//! binary, and the kernel maps it in 64 KB runs around every touched page. None of it runs again
//! until the next start. Once the listener is bound, [`release_startup_pages`] advises the kernel
//! (`madvise(MADV_PAGEOUT)`) to drop the binary's read-only pages from this process and trims the
//! heap (`malloc_trim`); the code the server keeps using comes back on its next call, from the page
//! cache when it is still there. Measured with `scripts/bench web`: see the README.
//!
//! Big short-lived buffers are the other source of memory an idle server keeps: a sign-in hashes the
//! password with argon2id, which takes 19 MiB. glibc hands out such blocks with `mmap` and unmaps
//! them when freed — until a freed one raises its threshold, after which they come from the heap
//! and stay there. [`keep_big_buffers_out_of_the_heap`] fixes the threshold at 1 MiB.

use std::path::Path;

/// Advises the kernel to page out the binary's read-only mappings (code and constants) and returns
/// how many bytes were advised. Best effort: any failure leaves the memory as it was.
pub fn release_startup_pages() -> usize {
    let Ok(exe) = std::env::current_exe() else {
        return 0;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let mut released = 0;
    for (start, end) in readonly_mappings_of(&maps, &exe) {
        let len = end - start;
        // SAFETY: the range is a whole mapping of this process as /proc/self/maps lists it; it is
        // read-only and file-backed, so paging it out loses nothing (the file holds every byte).
        let rc = unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_PAGEOUT) };
        if rc == 0 {
            released += len;
        }
    }
    trim_heap();
    released
}

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

#[cfg(target_env = "gnu")]
fn trim_heap() {
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(target_env = "gnu"))]
fn trim_heap() {}

/// The `(start, end)` of each mapping of `exe` without write permission, from `/proc/self/maps`
/// lines such as `5581c0a00000-5581c1200000 r-xp 00400000 08:01 1234  /usr/bin/mnemosynce`.
fn readonly_mappings_of(maps: &str, exe: &Path) -> Vec<(usize, usize)> {
    let exe = exe.to_string_lossy();
    maps.lines()
        .filter_map(|line| {
            // Five fields, then the path (which may hold spaces) to the end of the line.
            let mut rest = line;
            let mut fields = [""; 5];
            for field in &mut fields {
                let (word, tail) = rest.trim_start().split_once(' ')?;
                *field = word;
                rest = tail;
            }
            let [range, perms, ..] = fields;
            if rest.trim_start() != exe || perms.contains('w') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            (end > start).then_some((start, end))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rss_file_kb() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("RssFile:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    #[test]
    fn only_read_only_mappings_of_the_binary_are_chosen() {
        let maps = "\
1000-3000 r--p 00000000 08:01 7 /usr/bin/mnemosynce
3000-9000 r-xp 00002000 08:01 7 /usr/bin/mnemosynce
9000-a000 rw-p 00008000 08:01 7 /usr/bin/mnemosynce
b000-c000 r-xp 00000000 08:01 9 /usr/lib/libc.so.6
d000-e000 rw-p 00000000 00:00 0 
f000-10000 r--p 00000000 08:01 8 /usr/bin/mnemosynce (deleted)
";
        assert_eq!(
            readonly_mappings_of(maps, Path::new("/usr/bin/mnemosynce")),
            vec![(0x1000, 0x3000), (0x3000, 0x9000)]
        );
    }

    #[test]
    fn the_binary_pages_leave_the_resident_set() {
        // A freshly linked test binary may still be dirty in the page cache, which no reclaim
        // touches; an installed binary is long written back.
        let exe = std::env::current_exe().unwrap();
        std::fs::File::open(exe).unwrap().sync_all().unwrap();
        let before = rss_file_kb();
        let released = release_startup_pages();
        let after = rss_file_kb();
        assert!(released > 0, "no mapping of the test binary was found");
        assert!(
            after < before,
            "file-backed RSS did not shrink: {before} kB before, {after} kB after"
        );
    }
}
