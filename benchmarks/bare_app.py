"""The baselines for benchmarks/booking.py: bare Flask endpoints that insert one row.

Same server (gunicorn, sync workers), same SQLite settings as the app (WAL, busy timeout,
``PRAGMA synchronous`` from SQLITE_SYNCHRONOUS as the app reads it, BEGIN IMMEDIATE for the
write), same JSON body in, a JSON answer out —
and nothing else: no validation, no rules. Two flavours:

- ``POST /insert``: the raw ``sqlite3`` module, the floor of what Python can do;
- ``POST /insert-orm``: the project's fixed stack (Flask-SQLAlchemy session, an ORM model, the
  engine set up by ``booking.models.db.configure_engine``), i.e. the app minus its booking logic.

Served as ``gunicorn --pythonpath benchmarks 'bare_app:create_app()'`` with BARE_DATABASE set
to a file.
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
from pathlib import Path

from flask import Flask, Response, render_template_string, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from booking.models.db import configure_engine, sqlite_synchronous  # noqa: E402


class _Base(DeclarativeBase):
    pass


orm = SQLAlchemy(model_class=_Base)


class Visit(orm.Model):
    __tablename__ = "orm_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(Integer)
    organisation: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    party_size: Mapped[int] = mapped_column(Integer)

BUSY_TIMEOUT_MS = 30_000
SYNCHRONOUS = sqlite_synchronous(os.environ.get("SQLITE_SYNCHRONOUS") or "FULL")
SCHEMA = ("CREATE TABLE IF NOT EXISTS visit (id INTEGER PRIMARY KEY, slot_id INTEGER, "
          "organisation TEXT, phone TEXT, party_size INTEGER)")

_local = threading.local()


def _connection(path: str) -> sqlite3.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        _local.connection = connection
    return connection


def create_app() -> Flask:
    app = Flask(__name__)
    path = os.environ["BARE_DATABASE"]
    _connection(path).execute(SCHEMA)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    orm.init_app(app)
    with app.app_context():
        configure_engine(orm.engine, synchronous=SYNCHRONOUS)
        orm.create_all()

    @app.get("/")
    def ready():
        return "ok"

    @app.post("/insert")
    def insert():
        body = request.get_json()
        connection = _connection(path)
        connection.execute("BEGIN IMMEDIATE")
        cursor = connection.execute(
            "INSERT INTO visit (slot_id, organisation, phone, party_size) VALUES (?, ?, ?, ?)",
            (body["slot_id"], body["organisation"]["name"], body["contact"]["phone"],
             body["party_size"]))
        connection.execute("COMMIT")
        return Response(json.dumps({"id": cursor.lastrowid}), status=201,
                        mimetype="application/json")

    @app.post("/insert-orm")
    def insert_orm():
        body = request.get_json()
        visit = Visit(slot_id=body["slot_id"], organisation=body["organisation"]["name"],
                      phone=body["contact"]["phone"], party_size=body["party_size"])
        orm.session.add(visit)
        orm.session.commit()
        return Response(json.dumps({"id": visit.id}), status=201, mimetype="application/json")

    @app.get("/page")
    def page():
        """A bare HTML page: one Flask-SQLAlchemy query, a Jinja month grid of 35 cells."""
        visits = orm.session.scalars(orm.select(Visit).order_by(Visit.id.desc()).limit(35)).all()
        return render_template_string(PAGE, cells=range(35), visits=visits)

    return app


PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>日历</title></head>
<body><h1>预约日历</h1><ol>{% for n in cells %}<li class="day"><a href="/days/{{ n }}">{{ n + 1 }}日
{% if visits|length > n %}{{ visits[n].organisation }}{% endif %} 余位 {{ 100 - n }}</a></li>
{% endfor %}</ol></body></html>"""
