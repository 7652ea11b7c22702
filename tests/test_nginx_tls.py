"""The production recipe for real: deploy/nginx/museum.conf with a throwaway self-signed
certificate in front of gunicorn run with deploy/gunicorn.conf.py, on loopback high ports.

nginx runs unprivileged-style: its own prefix, temp directories, logs and pid file under the
test's temporary directory, in one foreground process. The site config is the repository's
file, with only its deployment-specific values (ports, paths, certificate) substituted; every
substitution must find its text, so the test notices when the file changes shape.

The client connects from 127.0.0.2, so the address nginx sees differs from the one gunicorn
sees (127.0.0.1): the app must report the first.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.fixtures.app import make_app
from tests.fixtures.browser import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ADDRESS = "127.0.0.2"
STARTUP_TIMEOUT = 30
MIB = 1024 * 1024


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(path, os.X_OK)), None)


class FromAddress(HTTPAdapter):
    """Connect from a given local address (any 127.x.y.z works on loopback)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def substitute(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        assert old in text, f"deploy/nginx/museum.conf no longer contains {old!r}"
        text = text.replace(old, new)
    return text


def https_client(certificate: str, source_address: str | None = None):
    """A requests session trusting ``certificate`` and nothing from the environment (a CA
    bundle or proxy set there would override both)."""
    client = requests.Session()
    client.trust_env = False
    client.verify = certificate
    if source_address:
        client.mount("https://", FromAddress(source_address))
        client.mount("http://", FromAddress(source_address))
    return client


def wait_for(url: str, verify: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    client = https_client(verify)
    while True:
        assert process.poll() is None, f"exited early:\n{log.read_text()[-3000:]}"
        try:
            if client.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"no answer from {url}:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def prepare_database(url: str) -> int:
    """`init-db`, one venue open every day and one roomy slot in the booking window."""
    from booking.clock import at_local, local_today
    from booking.models import Venue
    from booking.models.db import db
    from booking.rules.opening import booking_window
    from booking.rules.slots import SlotFacts, create_slot

    app = make_app(url)
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
        venue = Venue(code="LBC", name="刘伯承同志纪念馆", weekly_closed_day=None,
                      groups_on_holidays=True, daily_cap=500)
        db.session.add(venue)
        db.session.flush()
        day = booking_window(venue, local_today()).first_day + timedelta(days=1)
        starts_at = at_local(day, clock(10, 30))
        slot = create_slot(db.session, venue, starts_at, starts_at + timedelta(minutes=90), 60,
                           SlotFacts(title="学习百年党史 感悟刘帅精神", party_size_min=10,
                                     party_size_max=50))
        db.session.commit()
        slot_id = slot.id
        db.session.remove()
        db.engine.dispose()
    return slot_id


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """gunicorn + nginx with TLS; yields a namespace with the URLs, the client and the logs."""
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("nginx not installed (Debian package nginx)")
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    tmp = tmp_path_factory.mktemp("nginx-tls")
    logs = tmp / "logs"
    logs.mkdir()
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / name).mkdir()

    certificate, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True, timeout=60)

    database_url = f"sqlite:///{tmp / 'museum.db'}"
    slot_id = prepare_database(database_url)
    app_port, https_port, http_port = free_port(), free_port(), free_port()

    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="nginx-test",
               TRUSTED_PROXIES="1", GUNICORN_BIND=f"127.0.0.1:{app_port}",
               GUNICORN_WORKERS="2", GUNICORN_ACCESS_LOG=str(logs / "gunicorn-access.log"))
    env.pop("PUBLIC_BASE_URL", None)  # links must come from what nginx forwards
    env.pop("FLASK_APP", None)
    gunicorn_log = logs / "gunicorn.log"
    with open(gunicorn_log, "wb") as output:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
             "run:create_app()"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True)

    site_conf = substitute((ROOT / "deploy" / "nginx" / "museum.conf").read_text(), [
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;\n", ""),
        ("/etc/letsencrypt/live/booking.example.org/fullchain.pem", str(certificate)),
        ("/etc/letsencrypt/live/booking.example.org/privkey.pem", str(key)),
        ("/srv/museum", str(ROOT)),
        ("127.0.0.1:8000", f"127.0.0.1:{app_port}"),
        ("/var/log/nginx/", f"{logs}/"),
    ])
    (tmp / "museum.conf").write_text(site_conf)
    mime_types = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    (tmp / "nginx.conf").write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {logs}/error.log info;
events {{ worker_connections 256; }}
http {{
    {mime_types}
    default_type application/octet-stream;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    access_log {logs}/access.log;
    include {tmp}/museum.conf;
}}
""")
    command = [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(logs / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr

    nginx_log = logs / "nginx.out"
    with open(nginx_log, "wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        base = f"https://127.0.0.1:{https_port}"
        wait_for(f"{base}/healthz", str(certificate), server, logs / "error.log")
        wait_for(f"{base}/readyz", str(certificate), gunicorn, gunicorn_log)
        client = https_client(str(certificate), CLIENT_ADDRESS)
        yield type("Site", (), dict(
            base=base, http_base=f"http://127.0.0.1:{http_port}", client=client,
            certificate=str(certificate), slot_id=slot_id, logs=logs))
    finally:
        stop(server)
        stop(gunicorn)


#: XML namespace names look like addresses but are never fetched (the pass QR is inline SVG).
NAMESPACES = ("http://www.w3.org/",)


def absolute_links(html: str) -> list[str]:
    return [link for link in re.findall(r"(?:https?|webcal)://[^\s\"'<>]+", html)
            if not link.startswith(NAMESPACES)]


def gunicorn_access(site) -> str:
    return (site.logs / "gunicorn-access.log").read_text()


def nginx_access(site) -> str:
    return (site.logs / "museum.access.log").read_text()


@pytest.fixture(scope="module")
def booked(site):
    """A group booked through the public form over https: (form page, confirmation page)."""
    form = site.client.get(f"{site.base}/slots/{site.slot_id}/book",
                           headers={"X-Forwarded-For": "6.6.6.6"})  # a forged address
    assert form.status_code == 200
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form.text).group(1)
    posted = site.client.post(f"{site.base}/slots/{site.slot_id}/book", files={
        "csrf_token": (None, csrf), "organisation_name": (None, "开州区汉丰街道党工委"),
        "organisation_kind": (None, "party_organisation"), "contact_name": (None, "王建国"),
        "contact_phone": (None, "138 1234 1234"), "party_size": (None, "12"),
        "consent": (None, "y")}, allow_redirects=False)
    assert posted.status_code == 302, posted.text[:2000]
    confirmation = site.client.get(site.base + posted.headers["Location"]
                                   if posted.headers["Location"].startswith("/")
                                   else posted.headers["Location"])
    assert confirmation.status_code == 200
    return form, confirmation


# --- the tests ---------------------------------------------------------------------------------

def test_a_group_books_through_https_and_every_link_is_https_on_the_public_port(site, booked):
    _, confirmation = booked
    manage_link = re.search(r"data-manage-link>([^<]+)<", confirmation.text).group(1)
    assert manage_link.startswith(f"{site.base}/manage/")
    calendar = site.client.get(f"{site.base}/venues/LBC/calendar")
    head = calendar.text.split("</head>", 1)[0]
    assert f'href="{site.base}/venues/LBC/sessions.ics"' in head
    for page in (confirmation.text, calendar.text):
        links = [link for link in absolute_links(page) if not link.startswith("webcal://")]
        assert links and all(link.startswith(site.base + "/") for link in links), links
    assert site.client.get(manage_link).status_code == 200


def test_cookies_are_secure(site, booked):
    form, _ = booked
    cookies = form.raw.headers.getlist("Set-Cookie")
    assert cookies and all("; Secure" in cookie for cookie in cookies), cookies
    language = site.client.get(f"{site.base}/language/en", allow_redirects=False)
    assert "; Secure" in language.headers["Set-Cookie"]


def test_the_app_sees_the_clients_address_not_nginxs_nor_a_forged_one(site, booked):
    lines = [line for line in gunicorn_access(site).splitlines() if "/book " in line]
    assert lines and all(line.startswith(f"{CLIENT_ADDRESS} ") for line in lines), lines
    assert "6.6.6.6" not in gunicorn_access(site)


def test_secret_tokens_reach_neither_access_log(site, booked):
    _, confirmation = booked
    manage_link = re.search(r"data-manage-link>([^<]+)<", confirmation.text).group(1)
    site.client.get(f"{manage_link}/booking.ics")
    token = manage_link.rstrip("/").rsplit("/", 1)[1]
    time.sleep(0.2)  # let the loggers write
    for log in (gunicorn_access(site), nginx_access(site)):
        assert "/manage/" in log and "[redacted]" in log
        assert token not in log


def test_static_files_come_from_nginx(site):
    response = site.client.get(f"{site.base}/static/css/site.css")
    assert response.status_code == 200 and "text/css" in response.headers["Content-Type"]
    assert "max-age=604800" in response.headers["Cache-Control"]  # nginx's `expires 7d`
    assert "/static/" not in gunicorn_access(site)


def test_plain_http_is_sent_to_https(site):
    response = site.client.get(f"{site.http_base}/venues/LBC/calendar", allow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://127.0.0.1")
    assert response.headers["Location"].endswith("/venues/LBC/calendar")


def test_hsts_is_sent(site):
    assert "max-age=" in site.client.get(f"{site.base}/").headers["Strict-Transport-Security"]


def test_a_body_over_the_limit_gets_a_clear_answer(site):
    too_big = b"x" * (8 * MIB)
    page = site.client.post(f"{site.base}/slots/{site.slot_id}/book", data=too_big,
                            headers={"Content-Type": "application/octet-stream"})
    assert page.status_code == 413
    assert "上传内容过大" in page.text and "Request too large" in page.text
    api = site.client.post(f"{site.base}/api/v1/bookings", data=too_big,
                           headers={"Content-Type": "application/json"})
    assert api.status_code == 413 and api.json()["error"]["code"] == "payload_too_large"
    # Under nginx's limit but over the app's (6 MB): the app's own page, in the language chosen.
    app_sized = site.client.post(f"{site.base}/slots/{site.slot_id}/book",
                                 data=b"x" * (6 * MIB + 1024),
                                 headers={"Content-Type": "application/octet-stream"})
    assert app_sized.status_code == 413 and "6 MB" in app_sized.text


def test_readiness_is_for_local_monitors_only(site):
    assert site.client.get(f"{site.base}/readyz").status_code == 403  # from 127.0.0.2
    local = https_client(site.certificate).get(f"{site.base}/readyz", timeout=10)
    assert local.status_code == 200 and local.json()["status"] == "ok"
    assert site.client.get(f"{site.base}/healthz").json() == {"status": "ok"}
