//! Which host names this server answers to (SPEC §11: DNS rebinding).
//!
//! A page on another site can make a browser resolve its own name to this server's address and then
//! talk to it as "its" origin. The request then names the attacker's host, so only known names are
//! served: the listen address, `localhost` and the loopback addresses, the machine's host name (also
//! with `.local`, `.lan`, `.home.arpa`), its interface addresses, and every `serve --allowed-host`.
//! Others get `421 Misdirected Request`. `--allowed-host '*'` turns the check off (e.g. behind a
//! proxy that already checks names). The name checked is the request's authority (HTTP/2's
//! `:authority`, else `Host`), or with `--trust-proxy` the proxy's `X-Forwarded-Host`. The guard that
//! answers `421` is `security::known_host`; this file only knows the names.

use axum::http::{header, HeaderMap};
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

/// The names (lower case, no port, IPv6 without brackets) a server answers to.
#[derive(Clone, Debug)]
pub struct AllowedHosts {
    names: BTreeSet<String>,
    any: bool,
}

impl AllowedHosts {
    /// The defaults for a server listening on `listen`, plus `extra` (`*` allows any name).
    pub fn new(listen: SocketAddr, extra: &[String]) -> AllowedHosts {
        let mut names: BTreeSet<String> = ["localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let ip = listen.ip();
        if !ip.is_unspecified() {
            names.insert(ip.to_string());
        }
        let host = engine::mail::report::host_name().to_ascii_lowercase();
        if host != "this server" {
            for suffix in ["", ".local", ".lan", ".home.arpa"] {
                names.insert(format!("{host}{suffix}"));
            }
        }
        for addr in interface_addresses() {
            names.insert(addr.to_string());
        }
        let mut any = false;
        for e in extra {
            let e = e.trim();
            if e == "*" {
                any = true;
            } else if !e.is_empty() {
                names.insert(host_part(e).to_ascii_lowercase());
            }
        }
        AllowedHosts { names, any }
    }

    /// Whether `authority` (`host[:port]`, `[v6]:port`) names this server.
    pub fn allows(&self, authority: &str) -> bool {
        self.any
            || self
                .names
                .contains(&host_part(authority).to_ascii_lowercase())
    }

    /// The names, for the start-up log.
    pub fn names(&self) -> Vec<String> {
        if self.any {
            vec!["*".into()]
        } else {
            self.names.iter().cloned().collect()
        }
    }
}

/// The host of `host[:port]` or `[v6][:port]`, without brackets or port.
pub fn host_part(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        // A bare IPv6 address has several colons: it has no port.
        Some((host, port)) if !host.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            host
        }
        _ => authority,
    }
}

/// The addresses of this machine's network interfaces.
fn interface_addresses() -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we only read and then free with
    // freeifaddrs; every pointer is checked for null before use.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return out;
        }
        let mut cur = list;
        while !cur.is_null() {
            let addr = (*cur).ifa_addr;
            if !addr.is_null() {
                match i32::from((*addr).sa_family) {
                    libc::AF_INET => {
                        let a = &*(addr as *const libc::sockaddr_in);
                        out.push(IpAddr::from(u32::from_be(a.sin_addr.s_addr).to_be_bytes()));
                    }
                    libc::AF_INET6 => {
                        let a = &*(addr as *const libc::sockaddr_in6);
                        out.push(IpAddr::from(a.sin6_addr.s6_addr));
                    }
                    _ => {}
                }
            }
            cur = (*cur).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    out
}

/// The authority this request was sent to, as the browser saw it: HTTP/2's `:authority` (the
/// request URI's), else the `Host` header; with `trust_proxy`, the proxy's `X-Forwarded-Host` first.
pub fn request_authority<'a>(
    uri: &'a axum::http::Uri,
    headers: &'a HeaderMap,
    trust_proxy: bool,
) -> Option<&'a str> {
    if trust_proxy {
        if let Some(h) = headers
            .get("x-forwarded-host")
            .and_then(|v| v.to_str().ok())
        {
            return h.split(',').next().map(str::trim);
        }
    }
    uri.authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_only() {
        let hosts = AllowedHosts::new(
            "0.0.0.0:3000".parse().unwrap(),
            &["backup.home.example".into()],
        );
        for ok in [
            "localhost:3000",
            "LOCALHOST",
            "127.0.0.1:3000",
            "[::1]:3000",
            "backup.home.example",
            "Backup.Home.Example:443",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:3000",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "[::2]:3000",
            "",
        ] {
            assert!(!hosts.allows(bad), "{bad}");
        }
        let any = AllowedHosts::new("127.0.0.1:3000".parse().unwrap(), &["*".into()]);
        assert!(any.allows("anything.example"));
    }

    #[test]
    fn the_listen_address_and_interfaces_are_known() {
        let hosts = AllowedHosts::new("127.0.0.2:3000".parse().unwrap(), &[]);
        assert!(hosts.allows("127.0.0.2:3000"));
        for a in interface_addresses() {
            let authority = match a {
                IpAddr::V4(v4) => format!("{v4}:3000"),
                IpAddr::V6(v6) => format!("[{v6}]:3000"),
            };
            assert!(hosts.allows(&authority), "{authority}");
        }
    }
}
