"""Certificate pages: verification, the visitors' download, the manage-link downloads, the
staff pages (issue, print, revoke, reissue, preview) and the preview command."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from booking.models import AuditEntry, BookingState, Role
from booking.models.db import db
from courses.models import Certificate, CertificateState
from courses.rules import issuing


def issue(course_session) -> list[Certificate]:
    issued = issuing.issue_certificates(db.session, course_session, None,
                                        now=course_session.slot.ends_at + timedelta(hours=1))
    db.session.commit()
    return issued


def text_of(response) -> str:
    return response.get_data(as_text=True)


def pdf_pages(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    return [re.sub(r"\s+", "", p.extract_text())
            for p in PdfReader(io.BytesIO(response.data)).pages]


@pytest.fixture
def issued(create_attended_group):
    """An ended session with two certificates: 王晓红 and Anna Müller of one group."""
    course_session, booking, token = create_attended_group(["王晓红", "Anna Müller"],
                                                           contact_phone="13812345678")
    return course_session, booking, token, issue(course_session)


@pytest.fixture
def staff(create_user, login):
    user = create_user("desk", Role.STAFF)
    login(user)
    return user


# --- public verification -----------------------------------------------------------------------

def test_verification_shows_the_facts_with_the_name_masked(client, issued):
    _, booking, _, (cert, _) = issued
    response = client.get(f"/verify/{cert.verification_code}")
    body = text_of(response)
    assert response.status_code == 200
    for shown in ("有效", cert.serial, "王*红", "学习百年党史 感悟刘帅精神", "刘伯承同志纪念馆", "1.5"):
        assert shown in body
    for private in ("王晓红", "13812345678", "138****5678", booking.contact_name,
                    booking.reference, booking.organisation.name):
        assert private not in body
    assert 'name="robots" content="noindex"' in body


def test_a_latin_name_is_masked_too(client, issued):
    _, _, _, (_, anna) = issued
    body = text_of(client.get(f"/verify/{anna.verification_code}"))
    assert "A*** M*****" in body and "Anna" not in body and "Müller" not in body


def test_a_revoked_certificate_says_so_without_the_reason(client, issued):
    _, _, _, (cert, _) = issued
    issuing.revoke_certificate(db.session, cert, "经核实本人未参加", None)
    db.session.commit()
    body = text_of(client.get(f"/verify/{cert.verification_code}"))
    assert "已撤销" in body and "不再有效" in body
    assert "经核实本人未参加" not in body
    assert 'class="verify-state state-revoked"' in body
    assert 'class="verify-state state-valid"' not in body


def test_a_replaced_certificate_names_its_successor(client, issued):
    _, _, _, (cert, _) = issued
    new = issuing.reissue_certificate(db.session, cert, None, new_name="王小红")
    db.session.commit()
    body = text_of(client.get(f"/verify/{cert.verification_code}"))
    assert "已被新证书替代" in body and new.serial in body
    assert f"/verify/{new.verification_code}" in body
    new_body = text_of(client.get(f"/verify/{new.verification_code}"))
    assert "有效" in new_body and "王*红" in new_body and new.serial in new_body


def test_an_unknown_code_is_a_clear_not_found_page(client, issued):
    response = client.get("/verify/ABCDEFGHJKMN")
    assert response.status_code == 404
    assert "未找到该证书" in text_of(response)


def test_a_code_typed_with_dashes_or_in_lower_case_finds_the_certificate(client, issued):
    _, _, _, (cert, _) = issued
    typed = issuing.display_code(cert.verification_code).lower()
    response = client.get(f"/verify/{typed}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{cert.verification_code}")
    form = client.get("/verify", query_string={"code": f" {typed} "})
    assert form.headers["Location"].endswith(f"/verify/{cert.verification_code}")
    assert client.get("/verify").status_code == 200
    assert client.get("/verify", query_string={"lang": "en"}).status_code == 200
    assert client.get("/verify", query_string={"code": ""}).status_code == 422


def test_the_verification_page_speaks_english(client, issued):
    _, _, _, (cert, _) = issued
    client.set_cookie("lang", "en")
    body = text_of(client.get(f"/verify/{cert.verification_code}"))
    assert "王*红" in body and cert.serial in body


# --- visitors download their own certificate --------------------------------------------------

def ask(client, reference, name):
    return client.post("/certificates", data={"reference": reference, "name": name})


def test_a_visitor_gets_their_certificate_with_reference_and_name(client, issued):
    _, booking, _, (cert, _) = issued
    assert client.get("/certificates").status_code == 200
    response = ask(client, booking.display_reference.lower(), " 王晓红 ")
    (page,) = pdf_pages(response)
    assert "王晓红" in page and cert.serial in page
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_wrong_name_and_a_wrong_reference_get_the_same_answer(client, issued):
    _, booking, _, _ = issued
    wrong_name = ask(client, booking.reference, "王小红")
    wrong_reference = ask(client, "ZZZZ-ZZZZ", "王晓红")
    assert wrong_name.status_code == wrong_reference.status_code == 422
    # The form echoes what was typed; apart from that, the pages are identical.
    first = text_of(wrong_name).replace(booking.reference, "⟨ref⟩").replace("王小红", "⟨name⟩")
    second = text_of(wrong_reference).replace("ZZZZ-ZZZZ", "⟨ref⟩").replace("王晓红", "⟨name⟩")
    assert first == second
    assert "没有找到与预约编号和姓名相符的证书" in first


def test_two_attendees_of_one_name_get_one_pdf_with_both(client, create_attended_group):
    course_session, booking, _ = create_attended_group(["张伟", "李建国", "张伟"])
    issue(course_session)
    pages = pdf_pages(ask(client, booking.reference, "张伟"))
    assert len(pages) == 2 and all("张伟同志" in page for page in pages)


def test_a_revoked_certificate_cannot_be_downloaded(client, issued):
    _, booking, _, (cert, _) = issued
    issuing.revoke_certificate(db.session, cert, "未参加", None)
    db.session.commit()
    assert ask(client, booking.reference, "王晓红").status_code == 422


def test_empty_fields_are_explained(client, issued):
    response = ask(client, "", "")
    assert response.status_code == 422
    body = text_of(response)
    assert "请填写预约编号" in body and "请填写您的姓名" in body


class TestWithRateLimitOn:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_visitor_lookups_are_rate_limited(self, client, issued):
        _, booking, _, _ = issued
        statuses = [ask(client, booking.reference, "猜一个名字").status_code for _ in range(11)]
        assert statuses[:10] == [422] * 10
        assert statuses[10] == 429
        assert client.get("/certificates").status_code == 200  # reading the page is not limited


# --- organisations, from the manage link ----------------------------------------------------------

def _open(client, booking, token) -> str:
    """Open the manage link as from the mail; the token-free page path (cookie in client)."""
    response = client.get(f"/manage/{booking.reference}/{token}")
    assert response.status_code == 303
    return response.headers["Location"]


def test_the_manage_page_lists_each_certificate_with_download_links(client, issued):
    _, booking, token, (first, second) = issued
    page = _open(client, booking, token)
    html = client.get(page).get_data(as_text=True)
    assert "证书（2 张）" in text_of(client.get(page))
    assert f'"/manage/{booking.reference}/certificates.pdf"' in html
    for cert in (first, second):
        assert f'"/manage/{booking.reference}/certificates/{cert.id}.pdf"' in html
    assert token not in html


def test_the_manage_link_downloads_all_or_one_certificate(client, issued):
    _, booking, token, (first, second) = issued
    page = _open(client, booking, token)
    both = pdf_pages(client.get(f"{page}/certificates.pdf"))
    assert [first.serial in both[0], second.serial in both[1]] == [True, True]
    (one,) = pdf_pages(client.get(f"{page}/certificates/{second.id}.pdf"))
    assert "AnnaMüller" in one
    # An old bookmark with the token before the file still gets there, token-free.
    old = client.get(f"/manage/{booking.reference}/{token}/certificates/{second.id}.pdf")
    assert old.status_code == 303 and old.headers["Location"] == (
        f"/manage/{booking.reference}/certificates/{second.id}.pdf")


def test_the_manage_downloads_need_the_token(app, client, issued, create_attended_group):
    course_session, booking, token, (first, _) = issued
    _, other, other_token = create_attended_group(["李建国"], course_session=course_session,
                                                  organisation_name="开州中学")
    (foreign,) = issue(course_session)
    base = f"/manage/{booking.reference}"
    assert client.get(f"{base}/wrong-token/certificates.pdf").status_code == 404
    assert client.get(f"{base}/wrong-token/certificates/{first.id}.pdf").status_code == 404
    assert client.get(f"{base}/{other_token}/certificates.pdf").status_code == 404
    # Without the cookie the token-free downloads say to use the link.
    assert client.get(f"{base}/certificates.pdf").status_code == 403
    assert client.get(f"{base}/certificates/{first.id}.pdf").status_code == 403
    # With it, another booking's certificate is still not reachable through this booking.
    _open(client, booking, token)
    assert client.get(f"{base}/certificates/{foreign.id}.pdf").status_code == 404
    # The other booking's cookie does not open this one's downloads.
    stranger = app.test_client()
    _open(stranger, other, other_token)
    assert stranger.get(f"{base}/certificates.pdf").status_code == 403


def test_a_booking_without_certificates_has_nothing_to_download(client, create_booking):
    booking, token = create_booking()
    page = _open(client, booking, token)
    body = text_of(client.get(page))
    assert "certificates.pdf" not in body
    response = client.get(f"{page}/certificates.pdf")
    assert response.status_code == 302


# --- staff --------------------------------------------------------------------------------------

def test_completing_a_session_issues_its_certificates_once(client, staff, create_attended_group):
    course_session, booking, _ = create_attended_group(["王晓红", "李建国"])
    page = text_of(client.get(f"/staff/certificates/sessions/{course_session.id}"))
    assert "完成场次并签发证书" in page
    url = f"/staff/certificates/sessions/{course_session.id}/complete"
    response = client.post(url, follow_redirects=True)
    assert "新签发 2 张证书" in text_of(response)
    assert db.session.get(type(booking), booking.id).state is BookingState.COMPLETED
    assert "新签发 0 张证书" in text_of(client.post(url, follow_redirects=True))
    assert len(db.session.scalars(select(Certificate)).all()) == 2


def test_the_roster_links_an_ended_course_session_to_its_certificates(client, staff,
                                                                     create_attended_group):
    course_session, _, _ = create_attended_group(["王晓红"])
    slot = course_session.slot
    body = text_of(client.get(f"/staff/roster/{slot.venue.code}/{slot.day.isoformat()}"))
    assert f"/staff/certificates/slots/{slot.id}" in body
    response = client.get(f"/staff/certificates/slots/{slot.id}")
    assert response.headers["Location"].endswith(
        f"/staff/certificates/sessions/{course_session.id}")


def test_staff_issue_for_one_group(client, staff, create_attended_group):
    course_session, first, _ = create_attended_group(["王晓红"])
    _, second, _ = create_attended_group(["李建国"], course_session=course_session,
                                         organisation_name="开州中学")
    response = client.post(f"/staff/certificates/sessions/{course_session.id}/bookings/"
                           f"{second.reference}/issue", follow_redirects=True)
    assert "已为 开州中学 新签发 1 张证书" in text_of(response)
    assert [c.name for c in db.session.scalars(select(Certificate))] == ["李建国"]


def test_the_session_pdf_prints_every_valid_certificate(client, staff, issued):
    course_session, _, _, (first, second) = issued
    issuing.revoke_certificate(db.session, first, "未参加", None)
    db.session.commit()
    response = client.get(f"/staff/certificates/sessions/{course_session.id}.pdf")
    pages = pdf_pages(response)
    assert len(pages) == 1 and second.serial in pages[0]
    assert response.headers["Content-Disposition"].startswith("inline")


def test_revoking_needs_a_reason_and_is_audited(client, staff, issued):
    _, _, _, (cert, _) = issued
    refused = client.post(f"/staff/certificates/{cert.id}/revoke",
                          data={f"c{cert.id}-reason": "  "})
    assert refused.status_code == 422 and "请填写撤销原因" in text_of(refused)
    assert db.session.get(Certificate, cert.id).state is CertificateState.VALID
    client.post(f"/staff/certificates/{cert.id}/revoke",
                data={f"c{cert.id}-reason": "经核实未参加"})
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).state is CertificateState.REVOKED
    entry = db.session.scalar(select(AuditEntry).filter_by(action="certificate.revoke"))
    assert entry.user_id == staff.id and "经核实未参加" in entry.after


def test_reissuing_with_a_corrected_name(client, staff, issued):
    _, _, _, (cert, _) = issued
    response = client.post(f"/staff/certificates/{cert.id}/reissue",
                           data={f"c{cert.id}-name": "王小红"}, follow_redirects=True)
    db.session.expire_all()
    old = db.session.get(Certificate, cert.id)
    assert old.state is CertificateState.REPLACED and old.replaced_by.name == "王小红"
    assert f"已补发新证书 {old.replaced_by.serial}" in text_of(response)
    assert db.session.scalar(select(AuditEntry).filter_by(action="certificate.reissue"))


def test_guides_may_print_their_sessions_but_not_revoke(client, create_user, login, issued):
    course_session, _, _, (cert, _) = issued
    guide = create_user("guide", Role.GUIDE)
    login(guide)
    assert client.get(f"/staff/certificates/sessions/{course_session.id}").status_code == 403
    course_session.slot.guide_user_id = guide.id
    db.session.commit()
    assert client.get(f"/staff/certificates/sessions/{course_session.id}").status_code == 200
    assert client.get(f"/staff/certificates/sessions/{course_session.id}.pdf").status_code == 200
    assert client.post(f"/staff/certificates/{cert.id}/revoke",
                       data={f"c{cert.id}-reason": "x"}).status_code == 403
    assert client.post(f"/staff/certificates/{cert.id}/reissue").status_code == 403


def test_staff_are_warned_before_printing_names_no_font_can_draw(client, staff,
                                                                create_attended_group):
    course_session, _, _ = create_attended_group(["王𰀀", "𠮷田䶮"])
    issue(course_session)
    body = text_of(client.get(f"/staff/certificates/sessions/{course_session.id}"))
    assert "打印前请注意" in body
    assert "U+30000" in body
    assert "U+20BB7" not in body  # 𠮷 prints: the shipped HanaMin font has it


def test_the_design_preview_renders_any_name_in_the_browser(client, staff, issued):
    response = client.get("/staff/certificates/preview", query_string={"name": "𠮷田䶮"})
    (page,) = pdf_pages(response)
    assert "𠮷田䶮同志" in page and "样张" in page
    assert response.headers["Content-Disposition"].startswith("inline")
    assert "张三" in pdf_pages(client.get("/staff/certificates/preview"))[0]


def test_the_certificate_preview_command_writes_a_pdf(runner, tmp_path):
    out = tmp_path / "preview.pdf"
    result = runner.invoke(args=["certificate-preview", "--name", "𠮷田", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (page,) = [p.extract_text() for p in PdfReader(out).pages]
    assert "𠮷田同志" in re.sub(r"\s+", "", page)


def test_the_preview_command_warns_about_characters_no_font_has(runner, tmp_path):
    result = runner.invoke(args=["certificate-preview", "--name", "王𰀀",
                                 "--out", str(tmp_path / "p.pdf")])
    assert result.exit_code == 0
    assert "U+30000" in result.output
