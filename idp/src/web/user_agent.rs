//! "Firefox sur Linux" from a User-Agent header, for the sessions and sign-ins /account lists
//! (issue #13, decision 0019). The parsing is woothee's; this module only maps its names to the
//! ones people know (`Mac OSX` is macOS, `Windows 10` is any recent Windows, since Windows 11
//! still sends `Windows NT 10.0`). The sentence around them comes from the message catalogs.

/// What a User-Agent says about the browser; `browser: None` when nothing is recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrowserName {
    pub browser: Option<&'static str>,
    pub os: Option<&'static str>,
}

/// The browser and system named by `user_agent`, as people call them.
pub fn browser_name(user_agent: &str) -> BrowserName {
    let Some(parsed) = woothee::parser::Parser::new().parse(user_agent) else {
        return BrowserName { browser: None, os: None };
    };
    BrowserName { browser: browser_of(parsed.name), os: os_of(parsed.os) }
}

fn browser_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "Firefox" => "Firefox",
        "Chrome" => "Chrome",
        "Safari" => "Safari",
        "Edge" => "Edge",
        "Opera" => "Opera",
        "Vivaldi" => "Vivaldi",
        "SamsungBrowser" => "Samsung Internet",
        "Yandex Browser" => "Yandex Browser",
        "Internet Explorer" => "Internet Explorer",
        // Robots, libraries and the rest: not a browser a person would recognise.
        _ => return None,
    })
}

fn os_of(os: &str) -> Option<&'static str> {
    Some(match os {
        "Linux" => "Linux",
        "Android" => "Android",
        "Mac OSX" => "macOS",
        "iPhone" => "iPhone",
        "iPad" => "iPad",
        "iPod" => "iPod",
        "iOS" => "iOS",
        "ChromeOS" => "ChromeOS",
        "BSD" => "BSD",
        other if other.starts_with("Windows") => "Windows",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::{BrowserName, browser_name};

    fn named(ua: &str) -> (Option<&'static str>, Option<&'static str>) {
        let BrowserName { browser, os } = browser_name(ua);
        (browser, os)
    }

    #[test]
    fn current_desktop_browsers_are_named_with_their_system() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", ("Firefox", "Linux")),
            ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", ("Firefox", "Linux")),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                ("Firefox", "Windows"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                ("Chrome", "Windows"),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                ("Chrome", "Linux"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                ("Edge", "Windows"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                ("Safari", "macOS"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
                ("Firefox", "macOS"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                ("Chrome", "macOS"),
            ),
        ];
        for (ua, (browser, os)) in cases {
            assert_eq!(named(ua), (Some(browser), Some(os)), "{ua}");
        }
    }

    #[test]
    fn current_mobile_browsers_are_named_with_their_system() {
        let cases = [
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                ("Chrome", "Android"),
            ),
            ("Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", ("Firefox", "Android")),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                ("Safari", "iPhone"),
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                ("Safari", "iPad"),
            ),
        ];
        for (ua, (browser, os)) in cases {
            assert_eq!(named(ua), (Some(browser), Some(os)), "{ua}");
        }
    }

    #[test]
    fn robots_tools_and_empty_headers_are_not_named() {
        for ua in ["", "curl/8.5.0", "reqwest/0.12", "not a browser at all"] {
            assert_eq!(named(ua).0, None, "{ua:?}");
        }
    }
}
