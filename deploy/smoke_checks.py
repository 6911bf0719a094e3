"""The HTTP checks of ``make deploy-smoke`` (deploy/smoke), against nginx as a client sees it.

Each check prints one line; the first failure stops the run with a message that says what was
expected and what came. Only the standard library and ``requests`` (a dependency of the project).
"""

from __future__ import annotations

import argparse
import html
import re
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
TIMEOUT = 30


class CheckFailed(Exception):
    pass


@dataclass(frozen=True)
class Target:
    site: str
    plain: str
    idp: str
    ca: str


def check(description: str) -> Callable[[Callable[..., str]], Callable[..., None]]:
    def wrap(function: Callable[..., str]) -> Callable[..., None]:
        def run(*args: object) -> None:
            started = time.monotonic()
            detail = function(*args)
            print(f"  ok  {description} ({time.monotonic() - started:.1f} s){': ' + detail if detail else ''}")

        return run

    return wrap


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def found(pattern: str, text: str, what: str) -> re.Match[str]:
    match = re.search(pattern, text)
    if match is None:
        raise CheckFailed(f"no {what} in the page")
    return match


def hidden_field(page: str, name: str) -> str:
    return html.unescape(found(rf'name="{re.escape(name)}" value="([^"]*)"', page, f"hidden field {name!r}")[1])


@check("TLS 1.2+ with HTTP/2 offered (ALPN h2)")
def tls_and_http2(target: Target) -> str:
    parts = urlsplit(target.site)
    context = ssl.create_default_context(cafile=target.ca)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection((parts.hostname, parts.port or 443), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=parts.hostname) as tls,
    ):
        expect(tls.selected_alpn_protocol() == "h2", f"ALPN chose {tls.selected_alpn_protocol()!r}, not h2")
        version = tls.version() or ""
        expect(version in ("TLSv1.2", "TLSv1.3"), f"negotiated {version}")
        cipher = tls.cipher()
        return f"{version}, {cipher[0] if cipher else '?'}"


@check("plain HTTP is redirected to HTTPS")
def http_redirects(target: Target) -> str:
    response = new_session(target).get(f"{target.plain}/healthz?x=1", allow_redirects=False, timeout=TIMEOUT)
    location = response.headers.get("Location", "")
    expect(response.status_code == 301, f"HTTP answered {response.status_code}")
    expect(location.startswith("https://") and location.endswith("/healthz?x=1"), f"redirected to {location!r}")
    return location


@check("the start page over HTTPS, rendered by Django behind nginx")
def start_page(target: Target, session: requests.Session) -> str:
    response = session.get(f"{target.site}/", timeout=TIMEOUT)
    expect(response.status_code == 200, f"/ answered {response.status_code}")
    expect("X-Request-ID" in response.headers, "no X-Request-ID: the answer did not come from Django")
    hsts = response.headers.get("Strict-Transport-Security", "")
    expect("max-age=" in hsts, "no HSTS header: Django does not see the request as secure")
    expect("Content-Security-Policy" in response.headers, "no Content-Security-Policy header")
    server = response.headers.get("Server", "")
    expect(not re.search(r"\d", server), f"the server header tells its version: {server!r}")
    return f"{len(response.content)} bytes"


@check("a static file from nginx: content-hashed, cached a year, pre-compressed")
def static_file(target: Target, session: requests.Session) -> str:
    page = session.get(f"{target.site}/", timeout=TIMEOUT).text
    url = urljoin(f"{target.site}/", str(found(r'<link rel="stylesheet" href="([^"]+)"', page, "stylesheet link")[1]))
    expect(re.search(r"\.[0-9a-f]{12}\.css$", url) is not None, f"the stylesheet's name has no content hash: {url}")
    response = session.get(url, headers={"Accept-Encoding": "gzip"}, timeout=TIMEOUT)
    expect(response.status_code == 200, f"{url} answered {response.status_code}")
    expect("X-Request-ID" not in response.headers, "the static file came from Django, not from nginx")
    expect("immutable" in response.headers.get("Cache-Control", ""), "a hashed file is not cached as immutable")
    expect(response.headers.get("Content-Encoding") == "gzip", "the .gz copy was not served (gzip_static)")
    return urlsplit(url).path


@check("a request body over the limit is refused by nginx (413)")
def body_limit(target: Target, session: requests.Session) -> str:
    response = session.post(f"{target.site}/", data=b"x" * (4 * 1024 * 1024), timeout=TIMEOUT)
    expect(response.status_code == 413, f"a 4 MB POST answered {response.status_code}")
    expect("X-Request-ID" not in response.headers, "the body reached Django")
    return "4 MB to /"


@check("/healthz: database, migrations and the worker's heartbeat")
def healthz(target: Target, session: requests.Session, wait_seconds: float) -> str:
    deadline = time.monotonic() + wait_seconds
    while True:
        response = session.get(f"{target.site}/healthz", timeout=TIMEOUT)
        body = response.json()
        if response.status_code == 200:
            checks = body["checks"]
            expect(checks["worker"] == "ok" and checks["migrations"] == "ok", f"healthz said {body}")
            return f"worker heartbeat {checks['worker_heartbeat_age_seconds']!s} s old"
        if time.monotonic() > deadline:
            raise CheckFailed(f"/healthz still {response.status_code} after {wait_seconds:.0f} s: {body}")
        time.sleep(1)


@check("a video room's WebSocket through nginx: upgraded, and a socket without a ticket closed with 1008")
def video_socket(target: Target) -> str:
    """nginx passes the upgrade on /video/ws/ to uvicorn; Channels' consumer refuses a socket that
    brings no ticket with the policy-violation code (and nothing else)."""
    parts = urlsplit(target.site)
    host, port = parts.hostname or "", parts.port or 443
    context = ssl.create_default_context(cafile=target.ca)
    context.set_alpn_protocols(["http/1.1"])
    path = "/video/ws/00000000-0000-4000-8000-000000000000/"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: dmFyZGtvbnRha3Qtc21vaw==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {target.site}\r\n\r\n"
    )
    with (
        socket.create_connection((host, port), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(request.encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = tls.recv(4096)
            expect(bool(chunk), f"the connection closed during the handshake: {received!r}")
            received += chunk
        head, _, frames = received.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode()
        expect(" 101 " in f"{status} ", f"the upgrade was answered {status!r}")
        while len(frames) < 4:
            chunk = tls.recv(4096)
            expect(bool(chunk), "the socket closed without a close frame")
            frames += chunk
    expect(frames[0] == 0x88, f"the first frame is not a close frame: {frames[:4]!r}")
    code = int.from_bytes(frames[2:4], "big")
    expect(code == 1008, f"closed with {code}, not 1008")
    return f"{status}, closed with {code}"


def new_session(target: Target) -> requests.Session:
    session = requests.Session()
    session.verify = target.ca
    # Otherwise REQUESTS_CA_BUNDLE (or a proxy) from the caller's environment overrides the above.
    session.trust_env = False
    return session


def login(target: Target, side: str, identity: str) -> tuple[requests.Session, requests.Response]:
    """Through the external provider, hop by hop, as a browser would."""
    session = new_session(target)
    start = session.get(f"{target.site}/login/{side}/", allow_redirects=False, timeout=TIMEOUT)
    authorize = start.headers.get("Location", "")
    tenant = "siths" if side == "staff" else "eid"
    expect(start.status_code == 302, f"/login/{side}/ answered {start.status_code}")
    expect(
        authorize.startswith(f"{target.idp}/demo-idp/{tenant}/authorize?"),
        f"the login went to {authorize!r}, not to the external provider at {target.idp}",
    )
    chooser = session.get(authorize, timeout=TIMEOUT)
    expect(chooser.status_code == 200, f"the provider's chooser answered {chooser.status_code}")
    answer = session.post(
        chooser.url,
        data={
            "csrfmiddlewaretoken": hidden_field(chooser.text, "csrfmiddlewaretoken"),
            "request": hidden_field(chooser.text, "request"),
            "identity_number": identity,
            "acr": LOA3,
            "login": "1",
        },
        headers={"Referer": chooser.url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    callback = answer.headers.get("Location", "")
    expect(answer.status_code == 302, f"the provider answered the login with {answer.status_code}")
    expect(callback.startswith(f"{target.site}/login/{side}/callback/?"), f"the provider sent us to {callback!r}")
    # The platform now calls the provider's token endpoint and JWKS over HTTPS itself.
    landing = session.get(callback, timeout=TIMEOUT)
    return session, landing


@check("a staff login through the external OIDC provider (SITHS tenant)")
def staff_login(target: Target, hsa_id: str, name: str) -> str:
    session, landing = login(target, "staff", hsa_id)
    expect(landing.status_code == 200, f"after the callback: {landing.status_code} at {landing.url}")
    expect(name in landing.text, f"{name} is not on the page after the login ({landing.url})")
    logout = session.post(
        f"{target.site}/logout/",
        data={"csrfmiddlewaretoken": hidden_field(landing.text, "csrfmiddlewaretoken")},
        headers={"Referer": landing.url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    expect(logout.status_code == 302, f"logging out (a CSRF-checked POST over HTTPS) answered {logout.status_code}")
    after = session.get(f"{target.site}/staff/", allow_redirects=False, timeout=TIMEOUT)
    expect(after.status_code == 302, f"the staff home after logout answered {after.status_code}, not a redirect")
    return f"{name} ({hsa_id}) in, then out"


@check("a resident login through the external OIDC provider (e-ID tenant)")
def resident_login(target: Target, personnummer: str, name: str) -> str:
    _, landing = login(target, "resident", personnummer)
    expect(landing.status_code == 200, f"after the callback: {landing.status_code} at {landing.url}")
    expect(name in landing.text, f"{name} is not on the page after the login ({landing.url})")
    return f"{name} at {urlsplit(landing.url).path}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site", required=True, help="https://host:port of the platform")
    parser.add_argument("--plain", required=True, help="http://host:port of nginx's plain-HTTP server")
    parser.add_argument("--idp", required=True, help="https://host:port of the demo provider")
    parser.add_argument("--ca", required=True, help="the certificate to trust")
    parser.add_argument("--staff", nargs=2, metavar=("HSA_ID", "NAME"), required=True)
    parser.add_argument("--resident", nargs=2, metavar=("PERSONNUMMER", "NAME"), required=True)
    parser.add_argument("--healthz-wait", type=float, default=90)
    args = parser.parse_args()
    target = Target(site=args.site, plain=args.plain, idp=args.idp, ca=args.ca)
    session = new_session(target)
    try:
        tls_and_http2(target)
        http_redirects(target)
        start_page(target, session)
        static_file(target, session)
        body_limit(target, session)
        healthz(target, session, args.healthz_wait)
        video_socket(target)
        staff_login(target, *args.staff)
        resident_login(target, *args.resident)
    except (CheckFailed, requests.RequestException, OSError, ValueError) as exc:
        print(f"FAIL  {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
