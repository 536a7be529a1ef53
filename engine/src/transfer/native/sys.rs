//! The few system calls the native snapshotter needs that `std` does not offer: nanosecond times on
//! any entry (symlinks included), device and FIFO nodes, extended attributes, hole-aware copying with
//! `copy_file_range`. Each wrapper takes a path or a descriptor and returns an [`io::Result`]; none
//! follows a symlink unless its name says so.

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cpath(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A timestamp with nanoseconds, as `stat` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    pub sec: i64,
    pub nsec: i64,
}

fn timespecs(mtime: Time) -> [libc::timespec; 2] {
    [
        // atime: left as the kernel set it when the entry was made (rsync -a does not keep it).
        libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
        libc::timespec {
            // `as _`: the field's own type (`time_t`, whose alias libc deprecates on musl).
            tv_sec: mtime.sec as _,
            tv_nsec: mtime.nsec as _,
        },
    ]
}

/// Sets the modification time of the entry at `path` itself (a symlink is not followed).
pub fn set_mtime_nofollow(path: &Path, mtime: Time) -> io::Result<()> {
    let c = cpath(path)?;
    let ts = timespecs(mtime);
    // SAFETY: `c` is a valid C string and `ts` two valid timespecs for the duration of the call.
    check(unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            ts.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// Sets the modification time of an open file.
pub fn set_mtime_fd(file: &File, mtime: Time) -> io::Result<()> {
    let ts = timespecs(mtime);
    // SAFETY: the descriptor is open and `ts` valid for the duration of the call.
    check(unsafe { libc::futimens(file.as_raw_fd(), ts.as_ptr()) })
}

/// Creates a device node, FIFO or socket node with the given `st_mode` (type and permission bits).
pub fn mknod(path: &Path, mode: u32, rdev: u64) -> io::Result<()> {
    let c = cpath(path)?;
    // SAFETY: `c` is a valid C string for the duration of the call.
    check(unsafe { libc::mknod(c.as_ptr(), mode as libc::mode_t, rdev as libc::dev_t) })
}

/// Changes the owner of the entry at `path` itself (`lchown`).
pub fn lchown(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
}

/// Changes the permission bits (setuid, setgid and sticky included) of a non-symlink entry.
pub fn chmod(path: &Path, mode: u32) -> io::Result<()> {
    let c = cpath(path)?;
    // SAFETY: `c` is a valid C string for the duration of the call.
    check(unsafe { libc::chmod(c.as_ptr(), (mode & 0o7777) as libc::mode_t) })
}

/// Changes the permission bits of an open file.
pub fn fchmod(file: &File, mode: u32) -> io::Result<()> {
    // SAFETY: the descriptor is open for the duration of the call.
    check(unsafe { libc::fchmod(file.as_raw_fd(), (mode & 0o7777) as libc::mode_t) })
}

/// Opens a file of the source for reading without following a symlink and, where allowed, without
/// touching its access time (a backup should not make every file look freshly read).
pub fn open_source(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let open = |noatime: bool| {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | if noatime { libc::O_NOATIME } else { 0 })
            .open(path)
    };
    match open(true) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(false),
        other => other,
    }
}

/// The extended attributes of an entry (ACLs included: they are the `system.posix_acl_*`
/// attributes), sorted by name. Attributes this process may not read are left out, as rsync does.
pub fn xattrs(path: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let c = cpath(path)?;
    read_xattrs(
        // SAFETY: the buffer is valid for `buf.len()` bytes and `c` a valid C string.
        &|buf| unsafe { libc::llistxattr(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) },
        // SAFETY: as above, for the attribute's name and value buffer too.
        &|attr, buf| unsafe {
            libc::lgetxattr(
                c.as_ptr(),
                attr.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        },
    )
}

/// Lists the attribute names with `list` and reads each value with `get` (both return what the
/// `*xattr` calls return: a length, or -1 with errno set), growing the buffers as needed.
fn read_xattrs(
    list: &dyn Fn(&mut [u8]) -> isize,
    get: &dyn Fn(&CStr, &mut [u8]) -> isize,
) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut names = vec![0u8; 256];
    let len = loop {
        let n = list(&mut names);
        if n >= 0 {
            break n as usize;
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ERANGE) => names.resize(names.len() * 4, 0),
            Some(libc::ENOTSUP) => return Ok(Vec::new()),
            _ => return Err(e),
        }
    };
    let mut out = Vec::new();
    for name in names[..len].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let Ok(cname) = CString::new(name) else {
            continue;
        };
        let mut value = vec![0u8; 256];
        loop {
            let n = get(&cname, &mut value);
            if n >= 0 {
                value.truncate(n as usize);
                out.push((name.to_vec(), value));
                break;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::ERANGE) => value.resize(value.len() * 8, 0),
                // Gone meanwhile, or not ours to read: skipped like rsync does.
                Some(libc::ENODATA) | Some(libc::EPERM) | Some(libc::EACCES) => break,
                _ => return Err(e),
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes extended attributes onto the entry at `path` itself.
pub fn set_xattrs(path: &Path, attrs: &[(Vec<u8>, Vec<u8>)]) -> io::Result<()> {
    let c = cpath(path)?;
    for (name, value) in attrs {
        let Ok(cname) = CString::new(name.as_slice()) else {
            continue;
        };
        // SAFETY: both strings are valid and `value` holds `value.len()` bytes.
        check(unsafe {
            libc::lsetxattr(
                c.as_ptr(),
                cname.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        })?;
    }
    Ok(())
}

/// Copies `len` bytes (or up to the end of `src`, whichever comes first) from the current contents
/// of `src` into `dst` at the same offsets, keeping holes: only the data ranges of a sparse file are
/// copied, and `dst` is then given the length `len`. Uses `copy_file_range`, which lets the
/// filesystem clone or copy in the kernel, and falls back to read/write where it is not offered.
/// Returns the bytes copied.
/// `chunk` bounds one call; `after_chunk` is told the bytes of each (a bandwidth limit sleeps there,
/// progress is counted there) and stops the copy by returning an error.
pub fn copy_contents(
    src: &File,
    dst: &File,
    len: u64,
    sparse: bool,
    chunk: usize,
    after_chunk: &mut dyn FnMut(u64) -> io::Result<()>,
) -> io::Result<u64> {
    let mut copied = 0u64;
    if sparse {
        let mut pos: i64 = 0;
        while (pos as u64) < len {
            // SAFETY: plain lseek on an open descriptor.
            let data = unsafe { libc::lseek(src.as_raw_fd(), pos, libc::SEEK_DATA) };
            if data < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::ENXIO) {
                    break; // only a hole is left
                }
                return Err(e);
            }
            // SAFETY: as above.
            let hole = unsafe { libc::lseek(src.as_raw_fd(), data, libc::SEEK_HOLE) };
            if hole < 0 {
                return Err(io::Error::last_os_error());
            }
            let end = (hole as u64).min(len);
            if end > data as u64 {
                copied += copy_range(src, dst, data as u64, end - data as u64, chunk, after_chunk)?;
            }
            pos = hole;
        }
        // A hole at the end is only a length.
        dst.set_len(len)?;
    } else {
        copied = copy_range(src, dst, 0, len, chunk, after_chunk)?;
    }
    Ok(copied)
}

/// Copies `[offset, offset + len)` of `src` to the same offsets of `dst`; stops early at the end of
/// `src` (a file that shrank while it was read).
fn copy_range(
    src: &File,
    dst: &File,
    offset: u64,
    len: u64,
    chunk: usize,
    after_chunk: &mut dyn FnMut(u64) -> io::Result<()>,
) -> io::Result<u64> {
    let mut done = 0u64;
    let mut kernel = true;
    let mut buf = Vec::new();
    while done < len {
        let want = (len - done).min(chunk as u64) as usize;
        if kernel {
            let mut off_in = (offset + done) as libc::loff_t;
            let mut off_out = off_in;
            // SAFETY: both descriptors are open; the offsets are valid pointers for the call.
            let n = unsafe {
                libc::copy_file_range(
                    src.as_raw_fd(),
                    &mut off_in,
                    dst.as_raw_fd(),
                    &mut off_out,
                    want,
                    0,
                )
            };
            if n > 0 {
                done += n as u64;
                after_chunk(n as u64)?;
                continue;
            }
            if n == 0 {
                break;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EXDEV)
                | Some(libc::ENOSYS)
                | Some(libc::EINVAL)
                | Some(libc::EOPNOTSUPP) => kernel = false,
                Some(libc::EINTR) => {}
                _ => return Err(e),
            }
            continue;
        }
        use std::os::unix::fs::FileExt;
        if buf.is_empty() {
            buf = vec![0u8; 256 * 1024];
        }
        let chunk = want.min(buf.len());
        let n = src.read_at(&mut buf[..chunk], offset + done)?;
        if n == 0 {
            break;
        }
        dst.write_all_at(&buf[..n], offset + done)?;
        done += n as u64;
        after_chunk(n as u64)?;
    }
    Ok(done)
}

// --- Calls relative to an open directory: one path lookup per directory, not one per file. ---

/// Opens a directory as a handle for `*at` calls only (`O_PATH`: no read permission needed).
pub fn open_dir_handle(path: &Path) -> io::Result<OwnedFd> {
    let c = cpath(path)?;
    // SAFETY: `c` is a valid C string; the returned descriptor is owned below.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The entry's own attributes that decide whether an earlier copy is the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: Time,
    pub rdev: u64,
}

impl Attrs {
    pub fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Attrs {
            mode: meta.mode(),
            uid: meta.uid(),
            gid: meta.gid(),
            size: meta.size(),
            mtime: Time {
                sec: meta.mtime(),
                nsec: meta.mtime_nsec(),
            },
            rdev: meta.rdev(),
        }
    }
}

/// `fstatat` without following a symlink.
pub fn stat_at(dir: &OwnedFd, name: &CStr) -> io::Result<Attrs> {
    let mut st = std::mem::MaybeUninit::<libc::stat64>::uninit();
    // SAFETY: `name` is a valid C string and `st` has room for a stat64.
    let rc = unsafe {
        libc::fstatat64(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstatat64 succeeded, so it filled `st`.
    let st = unsafe { st.assume_init() };
    Ok(Attrs {
        mode: st.st_mode,
        uid: st.st_uid,
        gid: st.st_gid,
        size: st.st_size as u64,
        mtime: Time {
            sec: st.st_mtime,
            nsec: st.st_mtime_nsec,
        },
        rdev: st.st_rdev,
    })
}

/// Hard-links `from_dir/name` as `to_dir/name` (a symlink itself is linked, not its target).
pub fn link_at(from_dir: &OwnedFd, name: &CStr, to_dir: &OwnedFd) -> io::Result<()> {
    // SAFETY: both descriptors are open directories and `name` a valid C string.
    check(unsafe {
        libc::linkat(
            from_dir.as_raw_fd(),
            name.as_ptr(),
            to_dir.as_raw_fd(),
            name.as_ptr(),
            0,
        )
    })
}

/// The target of the symlink `dir/name`.
pub fn read_link_at(dir: &OwnedFd, name: &CStr) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: the buffer holds `buf.len()` bytes.
        let n = unsafe {
            libc::readlinkat(
                dir.as_raw_fd(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        if n < buf.len() {
            buf.truncate(n);
            return Ok(buf);
        }
        buf.resize(buf.len() * 4, 0);
    }
}

/// `listxattrat(2)` and `getxattrat(2)` (Linux 6.13; the same number on every architecture since
/// the syscall tables were unified). Older kernels say ENOSYS and the path calls are used instead.
const SYS_GETXATTRAT: libc::c_long = 464;
const SYS_LISTXATTRAT: libc::c_long = 465;

static XATTRAT_MISSING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[repr(C)]
struct XattrArgs {
    value: u64,
    size: u32,
    flags: u32,
}

fn list_xattrs_at(dir: RawFd, name: &CStr, buf: &mut [u8]) -> isize {
    // SAFETY: the buffer holds `buf.len()` bytes; `name` is a valid C string.
    unsafe {
        libc::syscall(
            SYS_LISTXATTRAT,
            dir,
            name.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            buf.as_mut_ptr(),
            buf.len(),
        ) as isize
    }
}

fn get_xattr_at(dir: RawFd, name: &CStr, attr: &CStr, buf: &mut [u8]) -> isize {
    let mut args = XattrArgs {
        value: buf.as_mut_ptr() as u64,
        size: buf.len() as u32,
        flags: 0,
    };
    // SAFETY: `args` points at a buffer of `args.size` bytes; the strings are valid.
    unsafe {
        libc::syscall(
            SYS_GETXATTRAT,
            dir,
            name.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            attr.as_ptr(),
            &mut args as *mut XattrArgs,
            std::mem::size_of::<XattrArgs>(),
        ) as isize
    }
}

/// The extended attributes of `dir/name` (sorted), as [`xattrs`] gives them for a path; `path` is
/// the same entry by path, for kernels without the `*xattrat` calls.
pub fn xattrs_at(dir: &OwnedFd, name: &CStr, path: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    use std::sync::atomic::Ordering;
    if XATTRAT_MISSING.load(Ordering::Relaxed) {
        return xattrs(path);
    }
    let fd = dir.as_raw_fd();
    match read_xattrs(&|buf| list_xattrs_at(fd, name, buf), &|attr, buf| {
        get_xattr_at(fd, name, attr, buf)
    }) {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            XATTRAT_MISSING.store(true, Ordering::Relaxed);
            xattrs(path)
        }
        other => other,
    }
}
