//! Requests to addresses a user chose (webhooks): never to this machine, its network or the
//! cloud's metadata service (SSRF). A URL is checked when it is set (a literal address or a
//! local name is refused at once) and again when it is called: the client resolves names
//! through [`PublicOnly`], which drops every address that is not public, so a name that
//! resolves (or later re-resolves) to an internal address reaches nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether `ip` is an address on the public internet: not loopback, private, link-local
/// (169.254.0.0/16 holds the metadata services), shared (100.64.0.0/10, Alibaba Cloud's
/// metadata is 100.100.100.200), unspecified, broadcast, multicast, documentation or reserved;
/// IPv6 forms that carry an IPv4 address are judged by it.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6].iter().all(|s| *s == 0) {
        let [.., hi, lo] = seg;
        let v4 = Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
        return is_public_v4(v4);
    }
    // 6to4 (2002::/16) carries an IPv4 address in its second and third segments.
    if seg[0] == 0x2002 {
        let v4 = Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        );
        return is_public_v4(v4);
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || seg[..6].iter().all(|s| *s == 0)) // IPv4-compatible ::a.b.c.d
}

/// Why a target URL is refused, in Chinese then English.
pub const PRIVATE_TARGET: &str = "这个地址指向本机或内网，不能作为推送地址 / \
    url must not point to this machine, a private network or a metadata address";

/// The check made when a user sets a URL: a literal address must be public, and names that
/// only mean something inside a network (`localhost`, `*.local`, `*.internal`, a bare name
/// without a dot) are refused. A public-looking name is checked again when it is called.
pub fn check_target(url: &reqwest::Url) -> Result<(), &'static str> {
    match url.host() {
        None => Err(PRIVATE_TARGET),
        Some(url::Host::Ipv4(ip)) if !is_public_v4(ip) => Err(PRIVATE_TARGET),
        Some(url::Host::Ipv6(ip)) if !is_public_v6(ip) => Err(PRIVATE_TARGET),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let local = !name.contains('.')
                || [
                    "localhost",
                    "local",
                    "internal",
                    "intranet",
                    "lan",
                    "home.arpa",
                ]
                .iter()
                .any(|suffix| name == *suffix || name.ends_with(&format!(".{suffix}")));
            if local { Err(PRIVATE_TARGET) } else { Ok(()) }
        }
        Some(_) => Ok(()),
    }
}

/// A resolver for clients that call user-chosen URLs: the system's resolver, keeping public
/// addresses only (none left: the request fails, nothing is sent).
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.10",
            "169.254.169.254",
            "100.100.100.200",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
            "2001:db8::1",
            "ff02::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"));
            assert!(!is_public(ip), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "47.92.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "2400:3200::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"));
            assert!(is_public(ip), "{ip}");
        }
    }

    #[test]
    fn urls_to_local_names_and_addresses_are_refused_when_set() {
        for url in [
            "http://127.0.0.1/hook",
            "http://[::1]:8080/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.100.100.200/latest/meta-data/",
            "http://localhost:3000/",
            "http://api.localhost/",
            "http://printer.local/",
            "http://metadata.google.internal/",
            "http://router/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://017700000001/",
            "http://[::ffff:10.0.0.1]/",
            "http://10.0.0.1.nip.io.local/",
        ] {
            let parsed = reqwest::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(
                check_target(&parsed).is_err(),
                "{url} ({:?})",
                parsed.host()
            );
        }
        for url in [
            "https://hooks.example.com/unilife",
            "https://8.8.8.8/x",
            "https://[2400:3200::1]/",
        ] {
            let parsed = reqwest::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(check_target(&parsed).is_ok(), "{url}");
        }
    }

    #[tokio::test]
    async fn the_resolver_keeps_no_internal_address() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap_or_else(|_| unreachable!());
        let err = PublicOnly.resolve(name).await.err();
        assert!(err.is_some(), "localhost resolves to loopback only");
    }
}
