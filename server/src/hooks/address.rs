//! Where a webhook may be delivered: never to this machine, the studio's network or the
//! cloud's metadata service unless the studio says so (`liner serve
//! --webhooks-allow-private`), since whoever may add a hook could otherwise make the server
//! call into places only it can reach (SSRF).
//!
//! Two doors, both checked at the moment of connecting:
//! - an address written in the URL is checked as it is ([`refusal_of_url`]; reqwest never
//!   resolves an IP literal, so the resolver below would not see it);
//! - a host name is resolved by [`Guarded`], reqwest's resolver for webhooks: every address
//!   it resolves to is checked and one refused address refuses the host, so the address
//!   checked is the address connected to (a name that resolves to a public address when
//!   added and to 127.0.0.1 when delivered, DNS rebinding, is still refused).
//!
//! Redirects are never followed ([`super::deliver`]), so a public receiver cannot send the
//! request on to a private one.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// What kind of address `ip` is, when it is one a webhook may not reach without the studio's
/// say-so: "a loopback address", "a private address", ... None: a public address.
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "an unspecified address (0.0.0.0/8, this machine)",
        (127, _, _) => "a loopback address (this machine)",
        (10, _, _) | (192, 168, _) => "a private address (RFC 1918)",
        (172, 16..=31, _) => "a private address (RFC 1918)",
        (100, 64..=127, _) => "a shared address (carrier-grade NAT, 100.64.0.0/10)",
        (169, 254, _) => "a link-local address (169.254.0.0/16, where cloud metadata lives)",
        (192, 0, 0) => "an IETF protocol address (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address (198.18.0.0/15)",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) if ip.is_broadcast() => "the broadcast address",
        (240..=255, _, _) => "a reserved address (240.0.0.0/4)",
        _ => return None,
    })
}

fn refusal_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified address (::)");
    }
    if ip.is_loopback() {
        return Some("a loopback address (this machine)");
    }
    // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64
    // (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::): judged by the IPv4 address they carry.
    let embedded = match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => Some((hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some((hi, lo)),
        [0x2002, hi, lo, ..] => Some((hi, lo)),
        _ => None,
    };
    if let Some((hi, lo)) = embedded {
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return refusal_v4(v4);
    }
    Some(match s[0] {
        0xfc00..=0xfdff => "a private address (IPv6 unique local, fc00::/7)",
        0xfe80..=0xfebf => "a link-local address (fe80::/10)",
        0xfec0..=0xfeff => "a site-local address (fec0::/10)",
        0xff00..=0xffff => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address (2001:db8::/32)",
        0x2001 if s[1] == 0 => "a Teredo tunnel address (2001::/32)",
        0x0100 if s[1..4] == [0, 0, 0] => "a discard-only address (100::/64)",
        _ => return None,
    })
}

/// The words a refused delivery is logged with: what the address is and how to allow it.
pub fn refused_words(host: &str, ip: IpAddr, what: &str) -> String {
    if host == ip.to_string() || host.trim_matches(['[', ']']) == ip.to_string() {
        format!(
            "refused: {ip} is {what}; start `liner serve` with --webhooks-allow-private to \
             deliver there"
        )
    } else {
        format!(
            "refused: {host} resolves to {ip}, {what}; start `liner serve` with \
             --webhooks-allow-private to deliver there"
        )
    }
}

/// Why `url` may not be delivered to, when its host is an address written in it (not a
/// name) that [`refusal`] refuses.
pub fn refusal_of_url(url: &reqwest::Url) -> Option<String> {
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    refusal(ip).map(|what| refused_words(&ip.to_string(), ip, what))
}

/// A host refused by [`Guarded`]: found again in reqwest's error to log its words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The resolver webhooks connect through (see the module docs): the system's resolver, then
/// every address checked, unless `allow_private`.
#[derive(Debug, Clone, Copy)]
pub struct Guarded {
    pub allow_private: bool,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private {
                if let Some((ip, what)) = found
                    .iter()
                    .find_map(|a| refusal(a.ip()).map(|what| (a.ip(), what)))
                {
                    return Err(Box::new(Refused(refused_words(&host, ip, what))) as _);
                }
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> bool {
        refusal(ip.parse().unwrap()).is_some()
    }

    #[test]
    fn loopback_private_link_local_and_the_like_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001:0:4136:e378::1",
            "100::1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn ipv4_inside_ipv6_is_judged_by_the_ipv4_address() {
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
        for ip in ["::ffff:8.8.8.8", "64:ff9b::1.1.1.1", "2002:0808:0808::1"] {
            assert!(!refused(ip), "{ip} is public");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert!(!refused(ip), "{ip} is public");
        }
    }

    #[test]
    fn an_address_in_the_url_is_refused_with_words_saying_how_to_allow_it() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let words = refusal_of_url(&url("http://169.254.169.254/latest/meta-data")).unwrap();
        assert!(words.contains("link-local"), "{words}");
        assert!(words.contains("--webhooks-allow-private"), "{words}");
        // Other spellings of loopback parse to the same address.
        for u in [
            "http://[::1]:8080/",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://[::ffff:7f00:1]/",
        ] {
            assert!(refusal_of_url(&url(u)).is_some(), "{u}");
        }
        assert!(refusal_of_url(&url("https://hooks.slack.com/services/x")).is_none());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_allowed() {
        let name: Name = "localhost".parse().unwrap();
        let refused = Guarded {
            allow_private: false,
        }
        .resolve(name)
        .await;
        let words = refused.err().expect("refused").to_string();
        assert!(words.contains("localhost resolves to"), "{words}");
        let name: Name = "localhost".parse().unwrap();
        let allowed = Guarded {
            allow_private: true,
        }
        .resolve(name)
        .await
        .expect("allowed");
        assert!(allowed.count() > 0);
    }
}
