"""One commit point per request: faces never commit, roll back, build the waiting-list hook or
queue mail themselves (use cases do); a refused write leaves nothing behind; a read writes
nothing. The source checks read the code with :mod:`ast`, so text in docstrings never counts."""
from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import event, func, select

from booking.models import Booking, Organisation, OutboxMessage, Role, WaitlistEntry
from booking.models.db import db
from tests.fixtures.manage_links import open_manage_link

ROOT = Path(__file__).resolve().parent.parent
FACES = ("booking/web", "booking/api", "courses/web")
MAIL_QUEUERS = {"queue_booking_mail", "queue_booking_mails", "queue_new_booking_mail",
                "queue_certificates_ready", "queue_waitlist_offer", "queue_reminders"}
USE_CASES = ("booking/usecases/", "courses/usecases.py")
SKIPPED_DIRS = {"tests", "node_modules", "site-packages", "__pycache__"}


def project_modules(*under: str) -> list[Path]:
    """The project's non-test .py files (under the given folders, else all of them)."""
    roots = [ROOT / folder for folder in under] if under else [ROOT]
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if any(p in SKIPPED_DIRS or p.startswith(".") or p.startswith("venv") for p in parts):
                continue
            found.append(path)
    return found


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def called_name(call: ast.Call) -> str | None:
    target = call.func
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Name):
        return target.id
    return None


def session_commits(source: str, name: str = "<source>") -> list[str]:
    """``<…session>.commit(`` / ``.rollback(`` calls in ``source``, as "name:line: code"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("commit", "rollback")
                and ast.unparse(node.func.value).split(".")[-1].endswith("session")):
            found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    return found


def calls_and_defs(path: Path, names: set[str]) -> tuple[list[str], list[str]]:
    """(calls, definitions) of ``names`` in one module, as "path:line: name"."""
    calls, defs = [], []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and called_name(node) in names:
            calls.append(f"{rel(path)}:{node.lineno}: {called_name(node)}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            defs.append(f"{rel(path)}:{node.lineno}: {node.name}")
    return calls, defs


def module_of(finding: str) -> str:
    return finding.split(":", 1)[0]


# --- (1) faces never commit or roll back ------------------------------------------------------

def test_the_scanner_sees_a_commit_and_a_rollback():
    sample = "db.session.commit()\nself.session.rollback()\nsession.flush()\nconn.commit()\n"
    assert [f.split(": ", 1)[1] for f in session_commits(sample)] == [
        "db.session.commit()", "self.session.rollback()"]


def test_no_face_commits_or_rolls_back():
    modules = project_modules(*FACES)
    assert len(modules) > 10, f"only {len(modules)} face modules found under {FACES}"
    offenders = [hit for path in modules
                 for hit in session_commits(path.read_text(encoding="utf-8"), rel(path))]
    assert offenders == [], (f"{len(offenders)} commit/rollback calls in faces "
                             f"({len(modules)} modules read):\n" + "\n".join(offenders))


# --- (2) the waiting-list hook is built in one place ----------------------------------------

def test_the_seats_freed_hook_is_built_only_in_the_waitlist_use_cases():
    calls, defs = [], []
    for path in project_modules():
        found_calls, found_defs = calls_and_defs(path, {"offer_to_queue", "seats_freed_hook"})
        calls += found_calls
        defs += found_defs
    queue_calls = {module_of(c) for c in calls if c.endswith("offer_to_queue")}
    assert queue_calls == {"booking/usecases/waitlist.py"}, \
        f"offer_to_queue( called in {len(queue_calls)} modules:\n" + "\n".join(calls)
    assert sorted(module_of(d) + ":" + d.rsplit(" ", 1)[1] for d in defs) == [
        "booking/rules/waitlist.py:offer_to_queue",
        "booking/usecases/waitlist.py:seats_freed_hook"], "\n".join(defs)
    hook_users = {module_of(c) for c in calls if c.endswith("seats_freed_hook")}
    assert hook_users and all(m.startswith(USE_CASES) for m in hook_users), \
        f"seats_freed_hook() called outside the use cases: {sorted(hook_users)}"


def test_every_rule_given_on_seats_freed_by_a_use_case_gets_the_one_hook():
    """A use case passing its own callable as ``on_seats_freed=`` would skip the queue."""
    passed = []
    for path in project_modules("booking/usecases", "courses"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                passed += [(rel(path), node.lineno, ast.unparse(k.value))
                           for k in node.keywords if k.arg == "on_seats_freed"]
    in_use_cases = [p for p in passed if p[0].startswith(USE_CASES)]
    assert len(in_use_cases) >= 4, f"only {len(in_use_cases)} use cases pass the hook"
    wrong = [p for p in in_use_cases if p[2] != "seats_freed_hook()"]
    assert wrong == [], f"{len(wrong)} of {len(in_use_cases)} pass another hook: {wrong}"


# --- (3) mail is queued only by use cases ---------------------------------------------------

def mail_calls_outside_use_cases() -> tuple[list[str], int]:
    modules = project_modules()
    outside = []
    for path in modules:
        calls, _ = calls_and_defs(path, MAIL_QUEUERS)
        outside += [c for c in calls if not module_of(c).startswith(USE_CASES)]
    return outside, len(modules)


def test_mail_is_queued_only_by_use_cases():
    outside, read = mail_calls_outside_use_cases()
    assert outside == [], (f"{len(outside)} mail-queueing calls outside the use cases "
                           f"({read} modules read):\n" + "\n".join(outside))


# --- (4) a refused write leaves nothing written ----------------------------------------------

def counts() -> dict[str, int]:
    db.session.expire_all()
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Booking, Organisation, OutboxMessage, WaitlistEntry)}


def test_a_booking_refused_for_its_party_size_writes_nothing(client, create_slot):
    slot = create_slot(party_size_max=50)
    before = counts()
    response = client.post("/api/v1/bookings", json={
        "slot_id": slot.id, "organisation": {"name": "开州区新单位", "kind": "school"},
        "contact": {"name": "王建国", "phone": "138 1234 1234", "email": "wang@example.org"},
        "party_size": 51, "attendees": []})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "party_size"
    assert counts() == before, f"before {before}, after {counts()}"


def test_a_booking_refused_after_its_organisation_was_written_leaves_nothing(
        client, create_venue, create_slot, create_booking):
    """Full day: the refusal comes after the new organisation's row was inserted in the
    transaction, so the use case's roll-back is what keeps it out."""
    venue = create_venue(daily_cap=20)
    slot = create_slot(venue, capacity=40)
    create_booking(slot, party_size=15)
    before = counts()
    response = client.post(f"/slots/{slot.id}/book", data={
        "organisation_name": "开州区从未预约过的单位", "organisation_kind": "party_organisation",
        "contact_name": "王建国", "contact_phone": "138 1234 1234",
        "contact_email": "wang@example.org", "party_size": "10", "consent": "y"})
    assert response.status_code == 422
    assert "当天接待人数已达上限" in response.get_data(as_text=True)
    assert counts() == before, f"before {before}, after {counts()}"
    assert db.session.scalar(select(Organisation.id).filter_by(name="开州区从未预约过的单位")) is None


# --- (5) a read writes nothing ----------------------------------------------------------------

def test_get_requests_never_commit_nor_leave_changes_pending(client, login, create_user,
                                                             create_slot, create_booking):
    slot = create_slot(capacity=20)
    booking, token = create_booking(slot, party_size=20)
    login(create_user("desk", Role.STAFF))
    before = counts()
    commits = []
    session = db.session()
    listener = lambda _session: commits.append(1)  # noqa: E731
    event.listen(session, "after_commit", listener)
    try:
        manage = open_manage_link(client, booking.reference, token)  # a GET too: no commit
        pages = ["/", f"/venues/{slot.venue.code}/calendar", f"/slots/{slot.id}/book",
                 f"/slots/{slot.id}/waitlist", manage, f"{manage}/cancel", "/api/v1/slots",
                 "/staff/", "/staff/approvals", f"/staff/bookings/{booking.reference}",
                 "/staff/waitlist", "/staff/courses/sessions", "/staff/courses/closures"]
        statuses = {page: client.get(page).status_code for page in pages}
        statuses["api lookup"] = client.get(
            f"/api/v1/bookings/{booking.reference}",
            headers={"Authorization": f"Bearer {token}"}).status_code
        pending = (len(session.new), len(session.dirty), len(session.deleted))
    finally:
        event.remove(session, "after_commit", listener)
    not_ok = {page: code for page, code in statuses.items() if code != 200}
    assert not_ok == {}, f"{len(not_ok)} of {len(statuses)} pages failed: {not_ok}"
    assert len(commits) == 0, f"{len(commits)} commits during {len(statuses)} GET requests"
    assert pending == (0, 0, 0), f"new/dirty/deleted after the GETs: {pending}"
    assert counts() == before, f"before {before}, after {counts()}"
