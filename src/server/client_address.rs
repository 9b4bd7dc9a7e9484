//! The client's address behind reverse proxies (the documented way to get
//! HTTPS): `Forwarded` and `X-Forwarded-For` are believed only when the
//! connection comes from a proxy listed in `BC_TRUSTED_PROXIES`, else
//! anyone could pick the address the rate limits count.

use std::net::IpAddr;

use axum::http::HeaderMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// No proxy is trusted: the connection's address is the client's.
    pub const fn none() -> TrustedProxies {
        TrustedProxies(Vec::new())
    }

    /// CIDRs (or single addresses) separated by commas:
    /// `10.0.0.0/8, 192.168.1.10, ::1`.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let net = item
                .parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("BC_TRUSTED_PROXIES: {item:?} is not an address or a CIDR"))?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request from `peer`: the last address the trusted
    /// proxies in front of us saw (read from the right, skipping trusted
    /// hops), or `peer` itself when it is not a trusted proxy.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        for hop in chain.iter().rev() {
            match hop {
                Some(ip) if self.trusts(*ip) => continue,
                Some(ip) => return *ip,
                // "unknown" or an obfuscated name: nothing further is known.
                None => return peer,
            }
        }
        chain.first().copied().flatten().unwrap_or(peer)
    }
}

/// The addresses of `Forwarded` (RFC 7239, `for=`), or of
/// `X-Forwarded-For` when there is no `Forwarded`, leftmost first; `None`
/// for an entry that is not an address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.eq_ignore_ascii_case("for").then(|| address(v))
                })
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .map(|v| address(v))
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:5678`, `"[2001:db8::1]:443"`, `2001:db8::1`.
fn address(v: &str) -> Option<IpAddr> {
    let v = v.trim().trim_matches('"');
    if let Ok(ip) = v.parse() {
        return Some(ip);
    }
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    v.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_count_only_from_a_trusted_peer() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &h), ip("203.0.113.7"));
        // A client that sends the header itself gains nothing.
        assert_eq!(proxies.client(ip("198.51.100.1"), &h), ip("198.51.100.1"));
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &h),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // The client forged "1.1.1.1"; the edge proxy appended what it saw.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.2")]);
        assert_eq!(proxies.client(ip("10.0.0.3"), &h), ip("203.0.113.7"));
        let h = headers(&[
            ("forwarded", "for=1.1.1.1"),
            (
                "forwarded",
                "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.2",
            ),
            ("x-forwarded-for", "9.9.9.9"),
        ]);
        assert_eq!(proxies.client(ip("10.0.0.3"), &h), ip("2001:db8::7"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(proxies.client(ip("10.0.0.3"), &h), ip("10.0.0.3"));
        let h = headers(&[("x-forwarded-for", "203.0.113.9:1234")]);
        assert_eq!(proxies.client(ip("10.0.0.3"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn a_bad_list_names_the_bad_entry() {
        let e = TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(e.contains("\"proxy.local\""), "{e}");
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
        assert!(TrustedProxies::parse("::1/128,192.168.0.0/16").is_ok());
    }
}
