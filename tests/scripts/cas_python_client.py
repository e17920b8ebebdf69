#!/usr/bin/env python3
"""A real CAS client against a running provider (issue #11): python-cas from PyPI.

    cas_python_client.py SERVER_URL SERVICE_URL VERSION LOGIN PASSWORD [--expect-refused]

SERVER_URL is the provider's CAS base (https://idp.example/cas/). The script does what a
browser and the application's server do together: python-cas builds the login URL, `requests`
fills in the provider's login form and reads the ticket off the redirect back to the service,
then python-cas (CASClient version 1, 2 or 3) validates it. It prints one JSON object:
{"user": ..., "attributes": ..., "ticket": ...}. With --expect-refused it checks instead that
the provider refuses the service (an error page, no redirect) and prints {"refused": true}.
Exit status 1 on any deviation.
"""
import json
import re
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from cas import CASClient


def hidden_fields(html):
    """Every hidden field of the login form (the CSRF token, what the sign-in is for)."""
    unescape = lambda v: v.replace("&#x2F;", "/").replace("&quot;", '"').replace("&#x27;", "'").replace(
        "&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    found = {unescape(n): unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', html)}
    if "csrf" not in found:
        sys.exit("no CSRF token in the login page: %s" % html[:500])
    return found


def form_action(html):
    m = re.search(r'<form class="form"[^>]* method="post" action="([^"]*)"', html)
    if not m:
        sys.exit("no login form: %s" % html[:500])
    return m.group(1).replace("&#x2F;", "/").replace("&amp;", "&")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    expect_refused = "--expect-refused" in sys.argv
    server, service, version, login, password = args
    client = CASClient(version=int(version), service_url=service, server_url=server)
    browser = requests.Session()
    page = browser.get(client.get_login_url(), allow_redirects=False)
    if expect_refused:
        if page.status_code < 400 or "location" in page.headers:
            sys.exit("an unregistered service was not refused: %s %s" % (page.status_code, page.headers))
        print(json.dumps({"refused": True}))
        return
    if page.status_code != 200:
        sys.exit("login page: HTTP %s" % page.status_code)
    html = page.text
    action = urljoin(page.url, form_action(html))
    origin = "%s://%s" % (urlparse(page.url).scheme, urlparse(page.url).netloc)
    answer = browser.post(
        action,
        data=dict(hidden_fields(html), login=login, password=password),
        headers={"Origin": origin},
        allow_redirects=False,
    )
    location = answer.headers.get("location", "")
    if not location.startswith(service):
        sys.exit("not sent back to the service: HTTP %s %r" % (answer.status_code, location))
    ticket = parse_qs(urlparse(location).query)["ticket"][0]
    user, attributes, _pgtiou = client.verify_ticket(ticket)
    if user is None:
        sys.exit("python-cas refused the ticket")
    again, _, _ = client.verify_ticket(ticket)
    if again is not None:
        sys.exit("a ticket validated twice")
    print(json.dumps({"user": user, "attributes": attributes, "ticket": ticket}))


if __name__ == "__main__":
    main()
