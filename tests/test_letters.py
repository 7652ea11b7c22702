"""Introduction letters (介绍信): uploaded on the booking form and the manage page, checked by
their magic bytes and size, kept outside static/, shown only to staff, removed by the purge."""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from booking.clock import utcnow
from booking.models import Booking, Role
from booking.models.db import db
from booking.rules.letters import check_letter
from booking.rules.retention import RetentionPolicy
from booking.rules.workflow import create_booking
from booking.usecases import bookings as booking_usecases
from booking.usecases.letters import store_letter
from booking.usecases.transaction import unit_of_work
from courses.usecases import purge_personal_data
from tests.fixtures.factories import booking_request, past_open_day
from tests.test_booking_form import field_errors, form_data, manage_path_from, text_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
SMALL_CAP = {"LETTER_MAX_BYTES": 1024}


def letter_files(app) -> list[Path]:
    folder = Path(app.config["LETTER_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


def post_booking(client, slot, data: bytes | None, filename: str = "letter.pdf",
                 **overrides):
    fields = form_data(**overrides)
    if data is not None:
        fields["letter"] = (io.BytesIO(data), filename)
    return client.post(f"/slots/{slot.id}/book", data=fields, content_type="multipart/form-data")


def only_booking() -> Booking:
    db.session.expire_all()
    return db.session.scalars(select(Booking)).one()


@pytest.fixture
def letter_slot(create_slot):
    return create_slot(requires_letter=True, requires_approval=True)


# --- the booking form -----------------------------------------------------------------------

@pytest.mark.parametrize("data, filename, kind", [
    (PDF, "介绍信.pdf", "pdf"),
    (JPG, "scan.JPG", "jpeg"),
    # Named .pdf but a PNG inside: the bytes decide, and the name never reaches the disk.
    (PNG, "../../etc/passwd.pdf", "png"),
])
def test_form_accepts_pdf_jpg_png_by_their_magic_bytes(app, client, letter_slot, data,
                                                       filename, kind):
    response = post_booking(client, letter_slot, data, filename)
    assert response.status_code == 302, text_of(response)
    booking = only_booking()
    assert (booking.letter_type, booking.letter_size) == (kind, len(data))
    assert booking.letter_uploaded_at is not None
    [stored] = letter_files(app)
    assert stored.name == booking.letter_file and stored.read_bytes() == data
    assert "passwd" not in stored.name and "介绍信" not in stored.name
    assert "static" not in stored.parts


@pytest.mark.parametrize("app_config", [SMALL_CAP])
@pytest.mark.parametrize("data, message", [
    (b"GIF89a" + b"\x00" * 20, "只接受 PDF、JPG 或 PNG"),
    (b"<html><script>alert(1)</script>", "只接受 PDF、JPG 或 PNG"),
    (b"%PDF-" + b"x" * 1100, "文件过大"),
    (b"", "是空的"),
])
def test_form_refuses_a_bad_letter_beside_the_field_and_writes_nothing(app, client,
                                                                       letter_slot, data,
                                                                       message):
    response = post_booking(client, letter_slot, data, "letter.pdf")
    assert response.status_code == 422
    assert message in field_errors(response, "letter")
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
    assert letter_files(app) == []


def test_a_bad_letter_is_refused_in_english_too(client, letter_slot):
    client.set_cookie("lang", "en")
    response = post_booking(client, letter_slot, b"GIF89a......", "letter.png")
    assert response.status_code == 422
    assert "PDF, JPG or PNG" in field_errors(response, "letter")


def test_check_letter_reads_the_magic_not_the_name():
    assert check_letter(PDF, 10_000).media_type == "application/pdf"
    assert check_letter(JPG, 10_000).media_type == "image/jpeg"
    assert check_letter(PNG, 10_000).media_type == "image/png"


def test_without_a_letter_the_booking_is_taken_and_shows_the_letter_is_missing(
        client, login, create_user, letter_slot):
    response = post_booking(client, letter_slot, None)
    assert response.status_code == 302
    booking = only_booking()
    assert booking.is_pending and booking.is_missing_letter
    confirmation = client.get(response.headers["Location"])
    manage = client.get(manage_path_from(confirmation.get_data(as_text=True)),
                        follow_redirects=True)
    assert "介绍信待上传" in text_of(manage)
    login(create_user())
    assert "介绍信待上传" in text_of(client.get("/staff/approvals"))
    assert "介绍信待上传" in text_of(client.get(f"/staff/bookings/{booking.reference}"))


def test_the_form_asks_for_a_letter_only_when_the_programme_does(client, create_slot,
                                                                 letter_slot):
    assert 'name="letter"' in client.get(f"/slots/{letter_slot.id}/book").get_data(as_text=True)
    plain = create_slot(start=letter_slot.starts_at.time().replace(hour=14))
    assert 'name="letter"' not in client.get(f"/slots/{plain.id}/book").get_data(as_text=True)


def test_a_letter_written_for_a_refused_booking_is_removed(app, client, letter_slot):
    # The letter is fine, the booking is not (too many people): nothing may stay on disk.
    response = post_booking(client, letter_slot, PDF, party_size="49", attendees="")
    assert response.status_code == 302
    response = post_booking(client, letter_slot, PDF, party_size="40", attendees="",
                            contact_phone="13912345678", organisation_name="另一单位")
    assert response.status_code == 422
    assert len(letter_files(app)) == 1


def test_a_file_written_for_a_rolled_back_booking_is_cleaned_up(app, letter_slot):
    booking_usecases.book(db.session, booking_request(letter_slot), letter=PDF)
    assert len(letter_files(app)) == 1
    db.session.rollback()
    assert letter_files(app) == []


# --- the manage page ------------------------------------------------------------------------

def _manage_path(client, letter_slot, data=None) -> str:
    """The token-free manage page, after the mailed link has set this client's cookie."""
    response = post_booking(client, letter_slot, data)
    link = manage_path_from(client.get(response.headers["Location"]).get_data(as_text=True))
    opened = client.get(link)
    assert opened.status_code == 303
    return opened.headers["Location"]


def test_manage_page_uploads_and_replacing_removes_the_old_file(app, client, letter_slot):
    manage = _manage_path(client, letter_slot)
    response = client.post(f"{manage}/letter", data={"letter": (io.BytesIO(JPG), "a.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    [first] = letter_files(app)
    page = text_of(client.get(manage))
    assert "已上传：JPG" in page and "介绍信待上传" not in page
    response = client.post(f"{manage}/letter", data={"letter": (io.BytesIO(PDF), "b.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    [second] = letter_files(app)
    assert second != first and not first.exists()
    assert only_booking().letter_type == "pdf"


def test_manage_page_refuses_a_bad_file_and_keeps_the_old_letter(app, client, letter_slot):
    manage = _manage_path(client, letter_slot, PDF)
    [kept] = letter_files(app)
    response = client.post(f"{manage}/letter",
                           data={"letter": (io.BytesIO(b"MZ\x90\x00 not a letter"), "x.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "PDF、JPG 或 PNG" in field_errors(response, "letter")
    assert letter_files(app) == [kept] and only_booking().letter_file == kept.name


# --- who may read it ------------------------------------------------------------------------

def test_staff_open_the_letter_with_private_headers(app, client, login, create_user,
                                                    letter_slot):
    post_booking(client, letter_slot, PNG, "x.pdf")
    booking = only_booking()
    url = f"/staff/bookings/{booking.reference}/letter"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    login(create_user())
    assert url in client.get("/staff/approvals").get_data(as_text=True)
    assert url in client.get(f"/staff/bookings/{booking.reference}").get_data(as_text=True)
    response = client.get(url)
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert ".png" in response.headers["Content-Disposition"]


def test_guides_open_letters_only_of_their_own_sessions(app, client, login, create_user,
                                                        create_slot):
    guide = create_user("guide", Role.GUIDE)
    other_guide = create_user("other", Role.GUIDE)
    mine = create_slot(requires_letter=True, guide_user_id=guide.id)
    theirs = create_slot(requires_letter=True, guide_user_id=other_guide.id,
                         start=mine.starts_at.time().replace(hour=14))
    for slot, phone in ((mine, "13812341234"), (theirs, "13912341234")):
        booking_usecases.book(db.session, booking_request(slot, contact_phone=phone,
                                                          organisation_name=phone), letter=PDF)
        db.session.commit()
    by_slot = {b.slot_id: b.reference for b in db.session.scalars(select(Booking))}
    login(guide)
    assert client.get(f"/staff/bookings/{by_slot[mine.id]}/letter").status_code == 200
    assert client.get(f"/staff/bookings/{by_slot[theirs.id]}/letter").status_code == 403


def test_no_letter_no_file_404(client, login, create_user, create_booking):
    booking, _ = create_booking()
    login(create_user())
    assert client.get(f"/staff/bookings/{booking.reference}/letter").status_code == 404


# --- the retention purge --------------------------------------------------------------------

def _old_booking_with_letter(app, create_slot):
    """A letter for a session 60 days ago (booked 70 days ago) and one for next week."""
    old_slot = create_slot(day=past_open_day(60), requires_letter=True)
    recent_slot = create_slot(requires_letter=True)
    made = []
    for slot, phone, now in ((old_slot, "13812341234", utcnow() - timedelta(days=70)),
                             (recent_slot, "13912341234", None)):
        booking, _ = create_booking(db.session, booking_request(
            slot, contact_phone=phone, organisation_name=phone), now=now)
        store_letter(db.session, booking, PDF)
        db.session.commit()
        made.append(booking.id)
    return made


RETENTION = RetentionPolicy(contacts=30, attendees=30, notes=30, mail=7)


def test_purge_removes_old_letters_only_after_it_commits(app, create_slot):
    old_id, recent_id = _old_booking_with_letter(app, create_slot)
    old_file = Path(app.config["LETTER_DIR"]) / db.session.get(Booking, old_id).letter_file
    assert len(letter_files(app)) == 2
    # A purge that rolls back deletes nothing.
    purge_personal_data(db.session, RETENTION)
    db.session.rollback()
    assert old_file.exists() and len(letter_files(app)) == 2
    with unit_of_work():
        result = purge_personal_data(db.session, RETENTION)
    assert result.letters == 1
    assert not old_file.exists() and len(letter_files(app)) == 1
    db.session.expire_all()
    old, recent = db.session.get(Booking, old_id), db.session.get(Booking, recent_id)
    assert (old.letter_file, old.letter_type, old.letter_size, old.letter_uploaded_at) == (
        None, None, None, None)
    assert recent.letter_file is not None


@pytest.mark.parametrize("app_config", [{"RETENTION_DAYS": {"contacts": 30, "attendees": 30,
                                                            "notes": 30, "mail": 7}}])
def test_purge_command_reports_letters(app, runner, create_slot):
    _old_booking_with_letter(app, create_slot)
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "1 introduction letters" in result.output
    assert len(letter_files(app)) == 1


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 64 * 1024}])
def test_a_body_over_the_request_limit_gets_a_page_not_a_500(app, client, letter_slot):
    response = post_booking(client, letter_slot, b"%PDF-" + b"x" * (80 * 1024))
    assert response.status_code == 413
    assert "介绍信请压缩" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
    assert letter_files(app) == []


def test_the_demo_party_programmes_ask_for_a_letter():
    from courses.demo import COURSES
    assert {course.code for course in COURSES if course.letter} == {"liushuai-spirit",
                                                                     "party-day"}


def test_a_guide_finds_the_letter_on_the_roster_of_their_session(app, client, login,
                                                                 create_user, create_slot):
    guide = create_user("guide", Role.GUIDE)
    slot = create_slot(requires_letter=True, guide_user_id=guide.id)
    booking, _ = booking_usecases.book(db.session, booking_request(slot), letter=PDF)
    db.session.commit()
    login(guide)
    roster = client.get(f"/staff/roster/{slot.venue.code}/{slot.day.isoformat()}")
    assert f"/staff/bookings/{booking.reference}/letter" in roster.get_data(as_text=True)
