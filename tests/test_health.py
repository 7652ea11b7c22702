"""Health probes and job lines: /healthz says the process answers, /readyz says whether the
installation can serve (database, migrations, outbox), and every scheduled command prints one
line a monitor can read."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking.clock import utcnow
from booking.models import OutboxMessage
from booking.models.db import db
from booking.usecases.mailer import MAX_ATTEMPTS
from tests.fixtures.app import make_app
from tests.fixtures.browser import free_port


@pytest.fixture
def migrated(empty_database_url):
    """The app on a database built by `init-db`, as in production (at the newest migration)."""
    app = make_app(empty_database_url)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        yield app
        db.session.remove()
        db.engine.dispose()


def queue_message(age: timedelta = timedelta(0), attempts: int = 0) -> None:
    created = utcnow() - age
    db.session.add(OutboxMessage(recipient="wang@example.org", subject="预约已确认",
                                 body_text="…", created_at=created, next_attempt_at=created,
                                 attempts=attempts))
    db.session.commit()


def readyz(app, query: str = ""):
    response = app.test_client().get("/readyz" + query)
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_json()


def unreachable_database_url(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-directory' / 'museum.db'}"
    return f"postgresql://postgres@127.0.0.1:{free_port()}/museum"


# --- /healthz ------------------------------------------------------------------------------

def test_healthz_answers_while_the_process_runs_even_without_a_database(backend, tmp_path):
    app = make_app(unreachable_database_url(backend, tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


# --- /readyz -------------------------------------------------------------------------------

def test_a_migrated_database_with_a_moving_outbox_is_ready(migrated):
    queue_message(age=timedelta(minutes=2))
    status, body = readyz(migrated)
    assert status == 200 and body["status"] == "ok", body
    checks = body["checks"]
    assert checks["database"]["ok"] and checks["migrations"]["ok"]
    assert checks["migrations"]["current"] == checks["migrations"]["head"] != []
    mail = dict(checks["mail"])
    assert 120 <= mail.pop("oldest_unsent_age_seconds") < 180
    assert mail == {"ok": True, "unsent": 1, "given_up_last_24h": 0, "given_up_total": 0,
                    "max_age_seconds": 1800, "max_given_up_per_24h": 3}


def test_an_unreachable_database_is_not_ready(backend, tmp_path):
    app = make_app(unreachable_database_url(backend, tmp_path))
    with app.app_context():
        status, body = readyz(app)
        assert status == 503 and body["status"] == "unhealthy"
        assert body["checks"]["database"]["ok"] is False
        assert body["checks"]["mail"] == {"ok": False, "error": "database unreachable"}
        assert readyz(app, "?check=database")[0] == 503
        db.engine.dispose()


def test_mail_waiting_too_long_is_stuck(migrated):
    queue_message(age=timedelta(minutes=31))
    status, body = readyz(migrated)
    assert status == 503 and body["checks"]["mail"]["ok"] is False
    assert body["checks"]["mail"]["oldest_unsent_age_seconds"] >= 31 * 60
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]


def test_a_load_balancer_asking_for_the_database_alone_is_not_misled_by_stuck_mail(migrated):
    queue_message(age=timedelta(hours=3))
    status, body = readyz(migrated, "?check=database,migrations")
    assert status == 200 and set(body["checks"]) == {"database", "migrations"}


def test_more_messages_given_up_in_a_day_than_allowed_is_stuck(migrated):
    for _ in range(3):
        queue_message(age=timedelta(hours=1), attempts=MAX_ATTEMPTS)
    queue_message(age=timedelta(days=3), attempts=MAX_ATTEMPTS)  # old news: not counted
    status, body = readyz(migrated)
    assert status == 200 and body["checks"]["mail"]["given_up_last_24h"] == 3
    assert body["checks"]["mail"]["given_up_total"] == 4

    queue_message(age=timedelta(minutes=5), attempts=MAX_ATTEMPTS)
    status, body = readyz(migrated)
    assert status == 503 and body["checks"]["mail"]["given_up_last_24h"] == 4


def test_the_limits_are_settings(migrated):
    migrated.config.update(HEALTH_MAIL_MAX_AGE_MINUTES=5, HEALTH_MAIL_MAX_GIVEN_UP=0)
    queue_message(age=timedelta(minutes=6))
    assert readyz(migrated)[0] == 503


def test_a_database_never_migrated_is_not_ready(app):
    # The `app` fixture builds tables without Alembic: no recorded revision.
    status, body = readyz(app)
    assert status == 503
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["migrations"]["current"] == []


def test_an_empty_database_is_not_ready(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        status, body = readyz(app)
        assert status == 503 and body["checks"]["database"]["ok"]
        assert not body["checks"]["migrations"]["ok"] and not body["checks"]["mail"]["ok"]
        db.session.remove()
        db.engine.dispose()


def test_an_unknown_check_is_a_clear_400(app):
    response = app.test_client().get("/readyz?check=disk")
    assert response.status_code == 400
    assert "disk" in response.get_json()["error"]["message"]


# --- one line per job run ------------------------------------------------------------------

def job_line(output: str, job: str) -> dict:
    lines = [line for line in output.splitlines() if f" job={job} " in line]
    assert len(lines) == 1, output
    fields = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', lines[0]))
    return {key: value.strip('"') for key, value in fields.items()}


def test_send_mail_prints_one_line_with_its_figures(runner, app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nobody listens
    queue_message(age=timedelta(minutes=3))
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 1
    line = job_line(result.output, "send-mail")
    assert line["status"] == "failed" and line["sent"] == "0" and line["failed"] == "1"
    assert line["unsent"] == "1" and int(line["oldest_unsent_age_seconds"]) >= 180
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", line["ts"])
    assert "0 sent, 1 failed" in line["msg"]


@pytest.mark.parametrize("command, figures", [
    ("queue-reminders", {"queued": "0"}),
    ("expire-waitlist-offers", {"expired": "0", "offered": "0"}),
    ("check-integrity", {"drift": "0"}),
])
def test_every_job_prints_one_ok_line(runner, command, figures):
    result = runner.invoke(args=[command])
    assert result.exit_code == 0, result.output
    line = job_line(result.output, command)
    assert line["status"] == "ok" and float(line["seconds"]) >= 0
    assert {key: line[key] for key in figures} == figures


def test_a_refused_job_still_prints_its_line(runner, app):
    app.config["PUBLIC_BASE_URL"] = ""
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code != 0
    line = job_line(result.output, "send-mail")
    assert line["status"] == "refused" and "PUBLIC_BASE_URL" in line["msg"]
