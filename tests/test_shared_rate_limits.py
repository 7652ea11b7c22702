"""Rate limits shared by all workers (a SQLite file on one machine, Redis across machines),
and the client address read behind a configured number of trusted proxies."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from booking.models import Role
from booking.web.ratelimit_storage import SQLiteFileStorage
from tests.fixtures.app import make_app

ROOT = Path(__file__).resolve().parent.parent


WORKER = r"""
import sys, json
sys.path.insert(0, %(root)r)
from tests.fixtures.app import make_app
from booking.models.db import db
app = make_app(%(database)r, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=%(storage)r,
               RATELIMIT_KEY_PREFIX=%(prefix)r)
with app.app_context():
    db.create_all()
client = app.test_client()
print(json.dumps([client.post("/staff/login", data={"username": f"u{n}", "password": "x"})
                  .status_code for n in range(int(sys.argv[1]))]))
"""


def _worker(tmp_path, storage, prefix, count) -> list[int]:
    """One worker process posting ``count`` wrong logins; its answers."""
    code = WORKER % {"root": str(ROOT), "database": f"sqlite:///{tmp_path / 'w.db'}",
                     "storage": storage, "prefix": prefix}
    out = subprocess.run([sys.executable, "-c", code, str(count)], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_default_storage_is_a_file_every_worker_shares(tmp_path):
    from run import create_app
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"})
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("museum+sqlite:///")


@pytest.mark.slow
@pytest.mark.parametrize(("storage", "shared"), [("file", True), ("memory://", False)])
def test_two_worker_processes_count_together_on_the_file_storage(tmp_path, storage, shared):
    uri = f"museum+sqlite:///{tmp_path / 'limits.db'}" if storage == "file" else storage
    first = _worker(tmp_path, uri, "p", 6)
    second = _worker(tmp_path, uri, "p", 5)
    assert 429 not in first
    # 10 a minute per address: the 11th, in the second worker, is refused only when shared.
    assert (second[-1] == 429) is shared


@pytest.mark.slow
def test_two_worker_processes_count_together_on_redis(tmp_path):
    redis = pytest.importorskip("redis", reason="redis (Python package) not installed")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
    except redis.exceptions.RedisError:
        pytest.skip("redis server unavailable at 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}"
    first = _worker(tmp_path, "redis://127.0.0.1:6379", prefix, 6)
    second = _worker(tmp_path, "redis://127.0.0.1:6379", prefix, 5)
    assert 429 not in first and second[-1] == 429


def test_file_storage_counts_expires_and_clears(tmp_path):
    storage = SQLiteFileStorage(f"museum+sqlite:///{tmp_path / 's.db'}")
    assert storage.incr("k", 60) == 1 and storage.incr("k", 60) == 2
    assert storage.get("k") == 2 and storage.get_expiry("k") > 0
    storage.clear("k")
    assert storage.get("k") == 0
    assert storage.incr("gone", -1) == 1 and storage.get("gone") == 0


def _throttled_after_failures(app, forwarded_for_attacker, forwarded_for_admin):
    client = app.test_client()
    for n in range(8):
        client.post("/staff/login", data={"username": "admin", "password": f"g{n}"},
                    headers={"X-Forwarded-For": forwarded_for_attacker},
                    environ_base={"REMOTE_ADDR": "127.0.0.1"})
    return client.post("/staff/login", data={"username": "admin",
                                             "password": "correct horse battery"},
                       headers={"X-Forwarded-For": forwarded_for_admin},
                       environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code


@pytest.mark.parametrize(("proxies", "expected"), [(1, 302), (0, 429)])
def test_the_client_address_behind_trusted_proxies(tmp_path, create_user, proxies, expected):
    app = make_app(f"sqlite:///{tmp_path / 'p.db'}", TRUSTED_PROXIES=proxies)
    from booking.models.db import db
    with app.app_context():
        db.create_all()
        create_user("admin", Role.ADMIN)
        # Behind one trusted proxy, attacker and admin are two addresses; with none trusted,
        # the header is ignored and both are the proxy's address.
        assert _throttled_after_failures(app, "203.0.113.9", "198.51.100.7") == expected
