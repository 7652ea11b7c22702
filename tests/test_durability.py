"""SQLite durability: SQLITE_SYNCHRONOUS chooses what a commit promises (FULL by default: a
committed booking survives a power cut; NORMAL: it survives a crash of the process)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from booking.models.db import db
from tests.fixtures.app import make_app

# PRAGMA synchronous reads back as a number.
LEVELS = {"NORMAL": 1, "FULL": 2}


def synchronous_level(app) -> int:
    with app.app_context():
        with db.engine.connect() as connection:
            level = connection.execute(text("PRAGMA synchronous")).scalar()
            journal = connection.execute(text("PRAGMA journal_mode")).scalar()
        db.engine.dispose()
    assert journal == "wal"
    return level


def test_commits_are_synced_to_disk_by_default(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'museum.db'}")
    assert app.config["SQLITE_SYNCHRONOUS"] == "FULL"
    assert synchronous_level(app) == LEVELS["FULL"]


@pytest.mark.parametrize("setting, level", [("normal", LEVELS["NORMAL"]), ("FULL", LEVELS["FULL"])])
def test_the_setting_chooses_the_sync_level(tmp_path, setting, level):
    app = make_app(f"sqlite:///{tmp_path / 'museum.db'}", SQLITE_SYNCHRONOUS=setting)
    assert synchronous_level(app) == level


def test_the_environment_sets_it_too(tmp_path, monkeypatch):
    from run import create_app
    monkeypatch.setenv("SQLITE_SYNCHRONOUS", "NORMAL")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'museum.db'}", "SECRET_KEY": "x"})
    assert synchronous_level(app) == LEVELS["NORMAL"]


def test_an_unknown_level_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS must be FULL or NORMAL"):
        make_app(f"sqlite:///{tmp_path / 'museum.db'}", SQLITE_SYNCHRONOUS="OFF")
