//! Which address a request comes from, for the limits per client address. Behind a reverse proxy
//! every request comes from the proxy: `X-Forwarded-For` is believed only when the direct peer
//! is one of `TRUSTED_PROXIES`, and then only its right-most entries, which trusted proxies
//! wrote (anything to their left the client could have made up).
use axum::http::HeaderMap;
use std::net::IpAddr;

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    forwarded.iter().rev().find(|ip| !trusted_proxies.contains(ip)).copied().unwrap_or(peer)
}

/// The key a client address is counted under by every per-address limit: an IPv4 address as is,
/// an IPv6 address by its /64, the smallest network a home or an office is given (one machine can
/// use every address in it).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !(u128::MAX >> 64)).into()),
        },
    }
}

/// Every network a client address counts in for the limits on guessing: its own key
/// (`limit_key`) and, for IPv6, its /56 and /48, which a home line or a small provider's
/// customer may hold whole (256 and 65,536 /64s): without them, a /56 would get 256 times the
/// budget of one address.
pub fn network_keys(ip: IpAddr) -> [Option<IpAddr>; 3] {
    let own = limit_key(ip);
    match own {
        IpAddr::V4(_) => [Some(own), None, None],
        IpAddr::V6(v6) => {
            let prefix = |bits: u32| IpAddr::V6((u128::from(v6) & !(u128::MAX >> bits)).into());
            [Some(own), Some(prefix(56)), Some(prefix(48))]
        }
    }
}

/// Reads `TRUSTED_PROXIES`: addresses separated by commas or spaces.
pub fn parse_trusted_proxies(value: &str) -> Result<Vec<IpAddr>, String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("TRUSTED_PROXIES: {s:?} is not an IP address")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let peer: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(peer, &headers("203.0.113.9"), &[]), peer);
    }

    #[test]
    fn a_trusted_proxy_gives_the_client_it_saw() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let client: IpAddr = "203.0.113.9".parse().unwrap();
        // The client forged the first entry; the proxy appended the real one.
        assert_eq!(client_ip(proxy, &headers("1.2.3.4, 203.0.113.9"), &[proxy]), client);
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let key = |s: &str| limit_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        assert_eq!(key("::ffff:203.0.113.9"), key("203.0.113.9"));
        assert_ne!(key("203.0.113.9"), key("203.0.113.10"));
    }

    #[test]
    fn ipv6_addresses_also_count_in_their_56_and_48() {
        let keys = |s: &str| network_keys(s.parse().unwrap());
        let home = keys("2001:db8:aa:bb01:1::1");
        assert_eq!(home[0], Some("2001:db8:aa:bb01::".parse().unwrap()));
        assert_eq!(home[1], Some("2001:db8:aa:bb00::".parse().unwrap()));
        assert_eq!(home[2], Some("2001:db8:aa::".parse().unwrap()));
        assert_eq!(keys("2001:db8:aa:bbff::9")[1], home[1], "another /64 of the same /56");
        assert_ne!(keys("2001:db8:aa:cc00::9")[1], home[1]);
        assert_eq!(keys("2001:db8:aa:cc00::9")[2], home[2], "the same /48");
        assert_eq!(keys("203.0.113.9"), [Some("203.0.113.9".parse().unwrap()), None, None]);
    }

    #[test]
    fn parses_the_setting() {
        assert_eq!(parse_trusted_proxies("").unwrap(), Vec::<IpAddr>::new());
        assert_eq!(parse_trusted_proxies("10.0.0.2, ::1").unwrap().len(), 2);
        assert!(parse_trusted_proxies("proxy.local").is_err());
    }
}
