"""The production recipe's parts that run without a server: trusting exactly the configured
number of proxies, Secure cookies over https, secrets kept out of logs, and the deploy/ files
naming commands and settings that exist."""
from __future__ import annotations

import configparser
import getpass
import logging
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from booking.web.log_redaction import REDACTED, redact, secret_path_patterns
from tests.fixtures.app import make_app

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "booking.example.org", "X-Forwarded-Port": "443"}


def seen_by_the_app(app, headers: dict, base_url: str = "http://127.0.0.1:8000"):
    """What the app makes of a request: (client address, its own root URL)."""
    from flask import request

    @app.get("/_whoami")
    def whoami():
        return {"remote_addr": request.remote_addr, "url_root": request.url_root}

    return app.test_client().get("/_whoami", headers=headers, base_url=base_url).get_json()


# --- proxies ----------------------------------------------------------------------------------

def test_behind_one_trusted_proxy_the_app_sees_the_client_and_the_public_address(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}", TRUSTED_PROXIES="1")
    seen = seen_by_the_app(app, {**FORWARDED, "X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    # The last address is the one our proxy saw; the first could be anything a client wrote.
    assert seen == {"remote_addr": "203.0.113.7", "url_root": "https://booking.example.org/"}


def test_by_default_no_proxy_header_is_believed(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}")
    assert app.config["TRUSTED_PROXIES"] == 0
    seen = seen_by_the_app(app, FORWARDED)
    assert seen == {"remote_addr": "127.0.0.1", "url_root": "http://127.0.0.1:8000/"}


def test_a_proxy_count_that_is_not_a_number_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="TRUSTED_PROXIES must be a whole number"):
        make_app(f"sqlite:///{tmp_path / 'x.db'}", TRUSTED_PROXIES="nginx")


@pytest.mark.parametrize("headers, base_url, secure", [
    (FORWARDED, "http://127.0.0.1:8000", True),       # https at the proxy
    ({}, "https://booking.example.org", True),          # https straight to the app
    ({}, "http://127.0.0.1:8000", False),               # plain http
])
def test_cookies_set_over_https_are_secure(tmp_path, headers, base_url, secure):
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}", TRUSTED_PROXIES=1, PUBLIC_BASE_URL="")
    client = app.test_client()
    response = client.get("/language/en", headers=headers, base_url=base_url)
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert cookie.startswith("lang=en")
    assert ("; Secure" in cookie) is secure
    assert cookie.count("Secure") <= 1


class TestBehindHttps:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True, "TRUSTED_PROXIES": 1}

    def test_forms_on_pages_that_send_no_referrer_still_post(self, client, create_slot):
        """Manage and confirmation pages send Referrer-Policy: no-referrer, so their forms
        post without a Referer; over https that must not fail the CSRF check."""
        slot = create_slot()
        form = client.get(f"/slots/{slot.id}/book", headers=FORWARDED).get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form).group(1)
        posted = client.post(f"/slots/{slot.id}/book", headers=FORWARDED, data={
            "csrf_token": token, "organisation_name": "开州区汉丰街道党工委",
            "organisation_kind": "party_organisation", "contact_name": "王建国",
            "contact_phone": "138 1234 1234", "party_size": "12", "consent": "y"})
        assert posted.status_code == 302, posted.get_data(as_text=True)[:300]


# --- secrets stay out of logs -----------------------------------------------------------------

def sample_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>",
                  lambda m: "Sup3r-s3cret_T0ken" if m.group(1) == "token" else "ABCD2345",
                  rule.rule).replace("ABCD2345", "7", 1 if "int:" in rule.rule else 0)


def test_every_route_with_a_secret_token_is_redacted(app):
    secret_routes = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert {"booking.manage", "waitlist.entry", "feeds.lecturer_sessions"} <= {
        rule.endpoint for rule in secret_routes}
    assert len(secret_path_patterns(app.url_map)) == len({r.rule for r in secret_routes})
    for rule in secret_routes:
        line = f'127.0.0.1 - "GET {sample_path(rule)}?language=en HTTP/1.1" 200'
        cleaned = redact(line)
        assert "Sup3r-s3cret_T0ken" not in cleaned and REDACTED in cleaned, rule.rule
        assert cleaned.endswith('?language=en HTTP/1.1" 200')


def test_paths_without_a_secret_are_logged_as_they_are(app):
    for path in ("/staff/waitlist", "/venues/LBC/sessions.ics", "/slots/3/waitlist",
                 "/manage", "/verify/ABCDEF123456"):
        assert redact(f"GET {path} HTTP/1.1") == f"GET {path} HTTP/1.1"


def test_the_apps_own_error_log_names_no_token(app, caplog):
    with caplog.at_level(logging.ERROR):
        app.logger.error("Exception on /manage/ABCD2345/Sup3r-s3cret/cancel [POST]")
    assert "Sup3r-s3cret" not in caplog.text and "/manage/ABCD2345/[redacted]/cancel" in caplog.text


def gunicorn_settings() -> dict:
    """deploy/gunicorn.conf.py, read as gunicorn reads it (a Python file of settings)."""
    namespace: dict = {"__file__": str(DEPLOY / "gunicorn.conf.py")}
    exec(compile((DEPLOY / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)
    return namespace


def test_gunicorns_access_log_redacts_secrets_and_shows_the_client(app):
    from gunicorn.config import Config

    settings = gunicorn_settings()
    config = Config()
    for name in ("access_log_format", "accesslog"):
        config.set(name, settings[name])
    logger = settings["logger_class"](config)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/manage/ABCD2345/Sup3r-s3cret/booking.ics",
               "PATH_INFO": "/manage/ABCD2345/Sup3r-s3cret/booking.ics", "QUERY_STRING": "",
               "SERVER_PROTOCOL": "HTTP/1.0", "REMOTE_ADDR": "203.0.113.7",
               "HTTP_REFERER": "https://booking.example.org/manage/ABCD2345/Sup3r-s3cret",
               "HTTP_USER_AGENT": "curl"}
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="200 OK", sent=120, headers=[])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=12))
    line = settings["access_log_format"] % atoms
    assert "Sup3r-s3cret" not in line and "/manage/ABCD2345/[redacted]/booking.ics" in line
    assert line.startswith("203.0.113.7 ")
    assert "Sup3r-s3cret" not in " ".join(str(v) for v in atoms.values())


# --- the deploy/ files --------------------------------------------------------------------------

def test_gunicorn_accepts_the_configuration():
    checked = subprocess.run([sys.executable, "-m", "gunicorn", "--check-config", "-c",
                              "deploy/gunicorn.conf.py", "run:create_app()"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


PENDING_COMMANDS = {"purge"}  # another change adds it; its timer is written already


def test_every_scheduled_command_exists(app):
    commands = set(app.cli.commands)
    scheduled = set()
    for timer in (DEPLOY / "systemd").glob("*.timer"):
        target = unit(timer)["Timer"]["Unit"]
        match = re.fullmatch(r"museum-job@(.+)\.service", target)
        if match:
            scheduled.add(match.group(1))
        else:
            assert (DEPLOY / "systemd" / target).exists(), target
    for service in (DEPLOY / "systemd").glob("*.service"):
        start = unit(service)["Service"]["ExecStart"]
        if "flask --app run" in start and "%i" not in start:
            scheduled.add(start.split("flask --app run ", 1)[1].split()[0])
    assert {"send-mail", "queue-reminders", "expire-waitlist-offers", "backup",
            "purge"} <= scheduled
    assert scheduled - commands <= PENDING_COMMANDS


def test_every_command_the_readme_names_exists(app):
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"(?:museum-flask|flask --app run) ([a-z][a-z-]+)", readme))
    assert {"init-db", "send-mail", "backup", "restore", "check-integrity"} <= named
    assert named - set(app.cli.commands) - {"run"} <= PENDING_COMMANDS


def test_museum_flask_runs_a_command_with_the_services_settings(tmp_path):
    settings = tmp_path / "museum.env"
    settings.write_text(f"# as in /etc/museum/museum.env\nDATABASE_URL=sqlite:///{tmp_path}/m.db\n"
                        'MAIL_SENDER="刘伯承同志纪念馆 <booking@example.org>"\n'
                        "PUBLIC_BASE_URL=https://booking.example.org\nSECRET_KEY='a$b'\n")
    env = {"PATH": "/usr/bin:/bin", "MUSEUM_HOME": str(ROOT), "MUSEUM_ENV": str(settings),
           "MUSEUM_USER": getpass.getuser(),  # as root, "root": no switch of user
           "MUSEUM_FLASK": str(Path(sys.executable).parent / "flask")}
    for args in (["init-db"], ["check-integrity"]):
        ran = subprocess.run([str(DEPLOY / "museum-flask"), *args], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120, check=False)
        assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "job=check-integrity status=ok" in ran.stdout
    assert (tmp_path / "m.db").exists()


def test_the_example_environment_names_only_settings_the_app_reads():
    import run
    names = {line.split("=", 1)[0].lstrip("# ").strip()
             for line in (DEPLOY / "systemd" / "museum.env.example").read_text().splitlines()
             if re.match(r"#? ?[A-Z_]+=", line)}
    gunicorn_own = {"GUNICORN_BIND", "GUNICORN_WORKERS"}
    assert names - gunicorn_own <= set(run.ENV_SETTINGS) | set(run.ENV_FLAGS)
    assert {"PUBLIC_BASE_URL", "TRUSTED_PROXIES"} <= names


def test_systemd_accepts_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed (package systemd)")
    # The units name /srv/museum/.venv/bin/…; point them at this interpreter's tools.
    bin_dir = str(Path(sys.executable).parent)
    for source in (DEPLOY / "systemd").iterdir():
        if source.suffix in (".service", ".timer"):
            (tmp_path / source.name).write_text(
                source.read_text().replace("/srv/museum/.venv/bin", bin_dir))
    units = sorted(str(p) for p in tmp_path.iterdir()
                   if p.suffix == ".timer" or p.name == "museum.service"
                   or p.name == "museum-backup.service")
    units.append(str(tmp_path / "museum-job@send-mail.service"))
    shutil.copy(tmp_path / "museum-job@.service", tmp_path / "museum-job@send-mail.service")
    checked = subprocess.run([analyze, "verify", *units], capture_output=True, text=True,
                             timeout=60, check=False, cwd=tmp_path)
    complaints = [line for line in (checked.stdout + checked.stderr).splitlines()
                  if line.strip() and "Failed to connect" not in line]
    assert checked.returncode == 0 and not complaints, complaints
