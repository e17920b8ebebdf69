//! The client's address behind reverse proxies (issue #10). The socket peer is the client,
//! unless it is one of `trusted_proxies`: then the hops its header reports (`X-Forwarded-For`,
//! or RFC 7239 `Forwarded`, whichever `forwarded_header` names) are walked from the right, and
//! the first address that is not a trusted proxy is the client. Entries further left were
//! written by the client itself and prove nothing.
//!
//! Only one header is read, the one the proxies are configured to write: a proxy that appends
//! to `X-Forwarded-For` passes a client's own `Forwarded` through untouched, so reading
//! whichever is present would let the client choose its address.
//!
//! An obfuscated identifier, `unknown` or anything unparsable stops the walk (RFC 7239 §6.2,
//! §6.3): the client is then the nearest trusted proxy that reported it, never a guess.
//! Addresses are compared in canonical form (an IPv4-mapped IPv6 address is its IPv4 address).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::{IpNet, Ipv4Net};
use serde::Deserialize;

/// The header the trusted proxies write (setting `forwarded_header`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum ForwardedHeader {
    /// The de facto `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, Caddy, Traefik,
    /// ingress-nginx, cloud load balancers).
    #[default]
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`.
    #[serde(rename = "forwarded")]
    Forwarded,
}

impl ForwardedHeader {
    /// The header name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

/// The header value to pass for a header line that is not readable text: an opaque hop.
pub const UNREADABLE: &str = "unknown";

/// The proxies whose forwarding header is believed: addresses and CIDR prefixes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Each entry is an address (`10.0.0.7`, `::1`) or a prefix (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let net = match entry.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => match entry.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => return Err(format!("{entry:?} is neither an IP address nor a CIDR prefix")),
                },
            };
            nets.push(canonical_net(net).trunc());
        }
        Ok(Self { nets })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }
}

/// `::ffff:10.0.0.0/104` is `10.0.0.0/8`: addresses are compared in canonical form.
fn canonical_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net
        && let Some(v4) = v6.addr().to_ipv4_mapped()
        && v6.prefix_len() >= 96
        && let Ok(mapped) = Ipv4Net::new(v4, v6.prefix_len() - 96)
    {
        return IpNet::V4(mapped);
    }
    net
}

/// How the client address is found: the trusted proxies and the header they write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxySettings {
    pub trusted: TrustedProxies,
    pub header: ForwardedHeader,
}

impl ProxySettings {
    /// The client's address, from the socket peer and the lines of `self.header` in the order
    /// received (a list may be split over several lines, RFC 9110 §5.3).
    pub fn client_address(&self, peer: IpAddr, header_lines: &[&str]) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusted.contains(peer) {
            return peer;
        }
        let hops = match self.header {
            ForwardedHeader::XForwardedFor => parse_x_forwarded_for(header_lines),
            ForwardedHeader::Forwarded => parse_forwarded(header_lines),
        };
        let mut nearest = peer;
        for hop in hops.iter().rev() {
            match *hop {
                Hop::Address(ip) if self.trusted.contains(ip) => nearest = ip.to_canonical(),
                Hop::Address(ip) => return ip.to_canonical(),
                Hop::Opaque => return nearest,
            }
        }
        nearest
    }
}

/// One hop as a proxy reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hop {
    Address(IpAddr),
    /// `unknown`, an obfuscated identifier (`_hidden`), or something unparsable.
    Opaque,
}

/// `X-Forwarded-For: 203.0.113.7, 10.0.0.2`: comma-separated addresses, some proxies with a
/// port (`203.0.113.7:4711`, `[2001:db8::1]:4711`). Empty list elements are ignored (RFC 9110
/// §5.6.1).
fn parse_x_forwarded_for(lines: &[&str]) -> Vec<Hop> {
    lines
        .iter()
        .flat_map(|line| line.split(','))
        .map(|element| element.trim_matches([' ', '\t']))
        .filter(|element| !element.is_empty())
        .map(|element| parse_loose_address(element).map_or(Hop::Opaque, Hop::Address))
        .collect()
}

fn parse_loose_address(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = s.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// RFC 7239 §4: `Forwarded: forwarded-element *( "," forwarded-element )`, each element
/// `pair *( ";" pair )`, a pair `token "=" ( token / quoted-string )`. One hop per element,
/// from its `for` parameter; an element without exactly one readable `for` is opaque.
fn parse_forwarded(lines: &[&str]) -> Vec<Hop> {
    lines
        .iter()
        .flat_map(|line| split_unquoted(line, ','))
        .filter(|element| !element.trim_matches([' ', '\t']).is_empty())
        .map(forwarded_element)
        .collect()
}

fn forwarded_element(element: &str) -> Hop {
    let mut node = None;
    for pair in split_unquoted(element, ';') {
        let Some((name, value)) = pair.trim_matches([' ', '\t']).split_once('=') else {
            return Hop::Opaque;
        };
        let Some(value) = unquote(value) else { return Hop::Opaque };
        // Parameter names are case-insensitive and occur at most once (RFC 7239 §4).
        if name.eq_ignore_ascii_case("for") {
            if node.is_some() {
                return Hop::Opaque;
            }
            node = Some(value);
        }
    }
    node.and_then(|n| forwarded_node(&n)).map_or(Hop::Opaque, Hop::Address)
}

/// RFC 7239 §6: `node = nodename [ ":" node-port ]`; `nodename = IPv4address / "[" IPv6address
/// "]" / "unknown" / obfnode`. `None` for `unknown`, an obfuscated name or garbage.
fn forwarded_node(node: &str) -> Option<IpAddr> {
    let (name, port) = match node.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest.split_once(']')?;
            (inside, if after.is_empty() { None } else { Some(after.strip_prefix(':')?) })
        }
        None => match node.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (node, None),
        },
    };
    if let Some(port) = port {
        // §6.3: a port number, or an obfuscated port (`_` then ALPHA / DIGIT / "." / "_" / "-").
        let is_number = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
        let is_obfuscated = port.len() > 1
            && port.starts_with('_')
            && port.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !is_number && !is_obfuscated {
            return None;
        }
    }
    if node.starts_with('[') {
        name.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        name.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    }
}

/// Splits on `separator` outside quoted strings (a `\` inside quotes escapes the next char).
fn split_unquoted(s: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == separator && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A token, or a quoted-string with its quoted-pairs resolved (RFC 9110 §5.6.4). `None` when
/// the value is neither.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        let is_token =
            !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:".contains(&b));
        // `:` is not a tchar, but unquoted `for=192.0.2.43:80` is common enough to accept.
        return is_token.then(|| value.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn settings(trusted: &[&str], header: ForwardedHeader) -> ProxySettings {
        ProxySettings { trusted: TrustedProxies::parse(trusted).unwrap(), header }
    }

    fn xff(trusted: &[&str]) -> ProxySettings {
        settings(trusted, ForwardedHeader::XForwardedFor)
    }

    fn forwarded(trusted: &[&str]) -> ProxySettings {
        settings(trusted, ForwardedHeader::Forwarded)
    }

    #[test]
    fn without_trusted_proxies_the_socket_peer_is_the_client_whatever_the_headers_say() {
        let s = xff(&[]);
        assert_eq!(s.client_address(ip("127.0.0.1"), &["198.51.100.1"]), ip("127.0.0.1"));
        let s = forwarded(&[]);
        assert_eq!(s.client_address(ip("127.0.0.1"), &["for=198.51.100.1"]), ip("127.0.0.1"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_even_when_other_proxies_are_trusted() {
        let s = xff(&["10.0.0.0/8"]);
        assert_eq!(s.client_address(ip("203.0.113.9"), &["198.51.100.1"]), ip("203.0.113.9"));
    }

    #[test]
    fn the_rightmost_address_that_is_not_a_trusted_proxy_is_the_client() {
        let s = xff(&["10.0.0.0/8"]);
        // The client wrote "1.1.1.1" itself; 203.0.113.7 reached the first trusted proxy.
        let lines = ["1.1.1.1, 203.0.113.7, 10.1.2.3"];
        assert_eq!(s.client_address(ip("10.0.0.2"), &lines), ip("203.0.113.7"));
    }

    #[test]
    fn several_header_lines_are_one_list_in_order() {
        let s = xff(&["10.0.0.0/8"]);
        assert_eq!(s.client_address(ip("10.0.0.2"), &["1.1.1.1", "203.0.113.7,10.1.2.3"]), ip("203.0.113.7"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &["203.0.113.7", "10.1.2.3", ""]), ip("203.0.113.7"));
    }

    #[test]
    fn empty_elements_and_whitespace_are_ignored() {
        let s = xff(&["10.0.0.0/8"]);
        assert_eq!(s.client_address(ip("10.0.0.2"), &[" ,203.0.113.7 ,\t, 10.1.2.3 ,"]), ip("203.0.113.7"));
    }

    #[test]
    fn a_missing_header_leaves_the_proxy_as_the_client() {
        let s = xff(&["10.0.0.0/8"]);
        assert_eq!(s.client_address(ip("10.0.0.2"), &[]), ip("10.0.0.2"));
    }

    #[test]
    fn a_chain_of_trusted_proxies_only_ends_at_the_furthest_one() {
        let s = xff(&["10.0.0.0/8"]);
        assert_eq!(s.client_address(ip("10.0.0.2"), &["10.9.9.9, 10.1.2.3"]), ip("10.9.9.9"));
    }

    #[test]
    fn garbage_stops_the_walk_at_the_nearest_trusted_proxy() {
        let s = xff(&["10.0.0.0/8"]);
        assert_eq!(s.client_address(ip("10.0.0.2"), &["203.0.113.7, not-an-ip, 10.1.2.3"]), ip("10.1.2.3"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &["203.0.113.7, unknown"]), ip("10.0.0.2"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &["203.0.113.7, fe80::1%eth0"]), ip("10.0.0.2"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &[UNREADABLE]), ip("10.0.0.2"));
    }

    #[test]
    fn ports_are_dropped() {
        let s = xff(&["10.0.0.0/8"]);
        assert_eq!(s.client_address(ip("10.0.0.2"), &["203.0.113.7:4711"]), ip("203.0.113.7"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &["[2001:db8::1]:4711"]), ip("2001:db8::1"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &["[2001:db8::1]"]), ip("2001:db8::1"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &["2001:db8::1"]), ip("2001:db8::1"));
    }

    #[test]
    fn ipv4_mapped_ipv6_addresses_are_their_ipv4_address() {
        let s = xff(&["10.0.0.0/8"]);
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
        assert_eq!(s.client_address(ip("::ffff:10.0.0.2"), &["::ffff:203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &["203.0.113.7, ::ffff:10.1.2.3"]), ip("203.0.113.7"));
        assert_eq!(xff(&[]).client_address(ip("::ffff:192.0.2.1"), &[]), ip("192.0.2.1"));
        let mapped = xff(&["::ffff:10.0.0.0/104"]);
        assert_eq!(mapped.client_address(ip("10.0.0.2"), &["203.0.113.7"]), ip("203.0.113.7"));
    }

    #[test]
    fn rfc_7239_for_parameters_are_walked_like_x_forwarded_for() {
        let s = forwarded(&["10.0.0.0/8"]);
        // RFC 7239 §4 and §7.1 examples.
        let lines = ["for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com"];
        assert_eq!(s.client_address(ip("10.0.0.2"), &lines), ip("198.51.100.17"));
        let lines = ["For=\"[2001:db8:cafe::17]:4711\""];
        assert_eq!(s.client_address(ip("10.0.0.2"), &lines), ip("2001:db8:cafe::17"));
        let lines = ["for=192.0.2.60;proto=http;by=203.0.113.43", "for=\"10.1.2.3:8080\""];
        assert_eq!(s.client_address(ip("10.0.0.2"), &lines), ip("192.0.2.60"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &["for=\"192.0.2.60:_port\""]), ip("192.0.2.60"));
    }

    #[test]
    fn rfc_7239_unknown_and_obfuscated_nodes_stop_the_walk() {
        let s = forwarded(&["10.0.0.0/8"]);
        assert_eq!(s.client_address(ip("10.0.0.2"), &["for=192.0.2.1, for=unknown"]), ip("10.0.0.2"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &["for=192.0.2.1, for=_hidden, for=10.1.2.3"]), ip("10.1.2.3"));
        assert_eq!(s.client_address(ip("10.0.0.2"), &["for=\"_gazonk\""]), ip("10.0.0.2"));
    }

    #[test]
    fn rfc_7239_malformed_elements_are_opaque() {
        let s = forwarded(&["10.0.0.0/8"]);
        for bad in [
            "for=192.0.2.1;for=192.0.2.2", // a parameter twice
            "proto=https",                 // no for
            "for=\"192.0.2.1",             // unterminated quote
            "for=2001:db8::1",             // IPv6 must be bracketed (and quoted)
            "for=\"[2001:db8::1]:port\"",  // not a port
            "for=192.0.2.1:99999999",
            "garbage",
            "for=[2001:db8::1",
        ] {
            assert_eq!(s.client_address(ip("10.0.0.2"), &[bad]), ip("10.0.0.2"), "{bad}");
        }
    }

    #[test]
    fn rfc_7239_quoted_commas_and_semicolons_do_not_split() {
        let s = forwarded(&["10.0.0.0/8"]);
        let lines = ["for=203.0.113.7;host=\"a,b;c\\\"d\", for=10.1.2.3"];
        assert_eq!(s.client_address(ip("10.0.0.2"), &lines), ip("203.0.113.7"));
    }

    #[test]
    fn only_the_configured_header_is_read() {
        // X-Forwarded-For configured: a Forwarded value passed in is just garbage to it.
        assert_eq!(xff(&["10.0.0.0/8"]).client_address(ip("10.0.0.2"), &["for=203.0.113.7"]), ip("10.0.0.2"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_prefixes() {
        let t = TrustedProxies::parse(&["10.0.0.7", " 192.168.0.0/16 ", "fd00::/8", "::1", ""]).unwrap();
        assert!(t.contains(ip("10.0.0.7")) && !t.contains(ip("10.0.0.8")));
        assert!(t.contains(ip("192.168.44.1")) && t.contains(ip("fd12::3")) && t.contains(ip("::1")));
        assert!(t.contains(ip("::ffff:10.0.0.7")));
        // Host bits set: the prefix still means the network.
        assert!(TrustedProxies::parse(&["10.1.2.3/8"]).unwrap().contains(ip("10.200.0.1")));
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["proxy.example"]).is_err());
        assert!(TrustedProxies::parse::<&str>(&[]).unwrap().is_empty());
    }
}
