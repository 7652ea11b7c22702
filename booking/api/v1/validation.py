"""Shape checks for the JSON API: what the request must look like before a rule sees it.

The API validates JSON by hand rather than through WTForms: types, required fields, lengths
and identifier formats. Policy (party size bounds of the programme, opening days, capacity)
is left to the rule functions. Errors are collected per field, keyed by a dotted path
(``organisation.credit_code``, ``attendees[2]``), so a client can show each beside its input.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l

from booking.clock import local_today
from booking.models import OrganisationKind
from booking.rules.channels import NotifyBy, needs_email
from booking.rules.identifiers import is_mainland_mobile, is_valid_credit_code
from booking.rules.vocabulary import PROGRAMME_KIND_NAMES
from booking.rules.workflow import MAX_ATTENDEE_NAME, BookingRequest, OrganisationDetails

MAX_ORGANISATION_NAME = 120
MAX_CONTACT_NAME = 60
MAX_EMAIL = 254
MAX_NOTES = 2000
MAX_PARTY_SIZE = 1000
MAX_ATTENDEES = 1000
LANGUAGES = ("zh", "en")
ORGANISATION_KINDS = tuple(kind.value for kind in OrganisationKind)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 92
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 200
CURSOR_PATTERN = re.compile(r"^(\d{1,20})-(\d{1,12})$")

TOP_LEVEL_FIELDS = {"slot_id", "organisation", "contact", "party_size", "adults", "minors",
                    "attendees", "notes", "language", "notify_by"}
NOTIFY_BY = tuple(choice.value for choice in NotifyBy)
ORGANISATION_FIELDS = {"name", "kind", "credit_code"}
CONTACT_FIELDS = {"name", "phone", "email"}


class InvalidRequest(Exception):
    """The request's shape is wrong; ``fields`` maps each faulty field to its message."""

    def __init__(self, fields: dict[str, object]):
        super().__init__(", ".join(fields))
        self.fields = fields


class _Checker:
    """Collects one message per field path while reading a JSON object."""

    def __init__(self):
        self.errors: dict[str, object] = {}

    def fail(self, path: str, message) -> None:
        self.errors.setdefault(path, message)

    def object(self, data, path: str, allowed: set[str]) -> dict | None:
        if not isinstance(data, dict):
            self.fail(path, _l("应为 JSON 对象。"))
            return None
        for name in sorted(set(data) - allowed):
            self.fail(f"{path}.{name}" if path else name, _l("不支持的字段。"))
        return data

    def text(self, data: dict, name: str, path: str, max_length: int, *,
             required: bool = True) -> str | None:
        value = data.get(name)
        if value is None or (not required and value == ""):
            if required:
                self.fail(path, _l("此项必填。"))
            return None
        if not isinstance(value, str):
            self.fail(path, _l("应为文本。"))
            return None
        value = " ".join(value.split())
        if required and not value:
            self.fail(path, _l("不能为空。"))
            return None
        if len(value) > max_length:
            self.fail(path, _l("不能超过 %(n)s 个字符。", n=max_length))
            return None
        return value

    def integer(self, data: dict, name: str, minimum: int, maximum: int, *,
                required: bool = True) -> int | None:
        value = data.get(name)
        if value is None:
            if required:
                self.fail(name, _l("此项必填。"))
            return None
        # bool is an int in Python, but true is not a number of people.
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, _l("应为整数。"))
            return None
        if not minimum <= value <= maximum:
            self.fail(name, _l("应在 %(min)s 至 %(max)s 之间。", min=minimum, max=maximum))
            return None
        return value


def _organisation(check: _Checker, data) -> OrganisationDetails | None:
    if data is None:
        check.fail("organisation", _l("此项必填。"))
        return None
    data = check.object(data, "organisation", ORGANISATION_FIELDS)
    if data is None:
        return None
    name = check.text(data, "name", "organisation.name", MAX_ORGANISATION_NAME)
    kind = None
    raw_kind = data.get("kind")
    if raw_kind is None:
        check.fail("organisation.kind", _l("此项必填。"))
    elif raw_kind not in ORGANISATION_KINDS:
        check.fail("organisation.kind", _l("单位类型无效，可选：%(kinds)s。",
                                           kinds=", ".join(ORGANISATION_KINDS)))
    else:
        kind = OrganisationKind(raw_kind)
    code = check.text(data, "credit_code", "organisation.credit_code", 18, required=False)
    raw_code = data.get("credit_code")
    if isinstance(raw_code, str) and raw_code.strip() and not is_valid_credit_code(raw_code):
        check.fail("organisation.credit_code",
                   _l("统一社会信用代码无效：应为 18 位，且最后一位校验码正确。"))
        code = None
    if name is None or kind is None:
        return None
    return OrganisationDetails(name=name, kind=kind, credit_code=(code or "").upper() or None)


def _contact(check: _Checker, data) -> tuple[str, str, str] | None:
    if data is None:
        check.fail("contact", _l("此项必填。"))
        return None
    data = check.object(data, "contact", CONTACT_FIELDS)
    if data is None:
        return None
    name = check.text(data, "name", "contact.name", MAX_CONTACT_NAME)
    phone = check.text(data, "phone", "contact.phone", 20)
    if phone is not None and not is_mainland_mobile(phone):
        check.fail("contact.phone", _l("请填写有效的中国大陆手机号码（11 位）。"))
        phone = None
    email = check.text(data, "email", "contact.email", MAX_EMAIL, required=False) or ""
    if email and not EMAIL_PATTERN.match(email):
        check.fail("contact.email", _l("邮箱地址格式不正确。"))
    if name is None or phone is None:
        return None
    return name, phone, email


def _attendees(check: _Checker, data) -> list[str]:
    if data is None:
        check.fail("attendees", _l("此项必填（可为空列表，稍后通过管理链接补充）。"))
        return []
    if not isinstance(data, list):
        check.fail("attendees", _l("应为姓名列表。"))
        return []
    if len(data) > MAX_ATTENDEES:
        check.fail("attendees", _l("名单不能超过 %(n)s 人。", n=MAX_ATTENDEES))
        return []
    names = []
    for index, name in enumerate(data):
        if not isinstance(name, str):
            check.fail(f"attendees[{index}]", _l("应为文本。"))
        elif len(" ".join(name.split())) > MAX_ATTENDEE_NAME:
            check.fail(f"attendees[{index}]", _l("姓名不能超过 %(n)s 个字符。",
                                                  n=MAX_ATTENDEE_NAME))
        else:
            names.append(name)
    return names


def booking_request_from_json(data) -> BookingRequest:
    """Turn a decoded ``POST /bookings`` body into a BookingRequest, or raise InvalidRequest."""
    check = _Checker()
    data = check.object(data, "", TOP_LEVEL_FIELDS)
    if data is None:
        raise InvalidRequest({"body": _l("请求内容应为 JSON 对象。")})
    slot_id = check.integer(data, "slot_id", 1, 2**31 - 1)
    organisation = _organisation(check, data.get("organisation"))
    contact = _contact(check, data.get("contact"))
    party_size = check.integer(data, "party_size", 1, MAX_PARTY_SIZE)
    # A study tour's adults and minors (their sum is party_size); the rule wants them there.
    adults = check.integer(data, "adults", 0, MAX_PARTY_SIZE, required=False)
    minors = check.integer(data, "minors", 0, MAX_PARTY_SIZE, required=False)
    attendees = _attendees(check, data.get("attendees"))
    notes = check.text(data, "notes", "notes", MAX_NOTES, required=False) or ""
    language = data.get("language", "zh")
    if language not in LANGUAGES:
        check.fail("language", _l("只能是 zh 或 en。"))
    notify_by = data.get("notify_by") or ""
    if notify_by and (not isinstance(notify_by, str) or notify_by not in NOTIFY_BY):
        check.fail("notify_by", _l("只能是 sms、email 或 both。"))
    elif needs_email(notify_by, contact[2] if contact else ""):
        check.fail("notify_by", _l("选择“电子邮件”时请填写电子邮箱，或改选短信。"))
    if check.errors:
        raise InvalidRequest(check.errors)
    contact_name, contact_phone, contact_email = contact
    return BookingRequest(slot_id=slot_id, organisation=organisation, contact_name=contact_name,
                          contact_phone=contact_phone, contact_email=contact_email,
                          party_size=party_size, attendee_names=attendees, notes=notes,
                          language=language, notify_by=notify_by, adults=adults, minors=minors)


@dataclass(frozen=True)
class SlotQuery:
    """The filters of ``GET /slots``: dates are local days at the venue, both inclusive."""

    venue: str | None
    programme: str | None
    first_day: date
    last_day: date
    kind: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    after: tuple[datetime, int] | None = None  # the last slot of the previous page


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_cursor(starts_at: datetime, slot_id: int) -> str:
    """The opaque ``after`` of the page following the slot (start in UTC microseconds, id)."""
    micros = (starts_at.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{slot_id}"


def _parse_cursor(value: str | None, check: _Checker) -> tuple[datetime, int] | None:
    if value is None or value == "":
        return None
    match = CURSOR_PATTERN.match(value)
    try:
        if match:
            return _EPOCH + timedelta(microseconds=int(match.group(1))), int(match.group(2))
    except OverflowError:
        pass
    check.fail("after", _l("翻页参数无效，请使用上一页返回的 next。"))
    return None


def _parse_limit(value: str | None, check: _Checker) -> int:
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        check.fail("limit", _l("每页条数应为 1 至 %(n)s 的整数。", n=MAX_PAGE_SIZE))
        return DEFAULT_PAGE_SIZE
    return int(value)


def _parse_code(value: str | None, name: str, check: _Checker, choices=None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > 60 or (choices is not None and value not in choices):
        check.fail(name, _l("取值无效。"))
        return None
    return value


def _parse_day(value: str | None, name: str, check: _Checker) -> date | None:
    if value is None or value == "":
        return None
    if not DATE_PATTERN.match(value):
        check.fail(name, _l("日期格式应为 YYYY-MM-DD。"))
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        check.fail(name, _l("日期不存在。"))
        return None


def slot_query_from_args(args, today: date | None = None) -> SlotQuery:
    """Read the query string of ``GET /slots``; default to today … today + 30 days."""
    today = today or local_today()
    check = _Checker()
    first = _parse_day(args.get("from"), "from", check)
    last = _parse_day(args.get("to"), "to", check)
    limit = _parse_limit(args.get("limit"), check)
    after = _parse_cursor(args.get("after"), check)
    venue = _parse_code(args.get("venue"), "venue", check)
    programme = _parse_code(args.get("programme"), "programme", check)
    kind = _parse_code(args.get("kind"), "kind", check, PROGRAMME_KIND_NAMES)
    if check.errors:
        raise InvalidRequest(check.errors)
    first = first or today
    last = last or first + timedelta(days=DEFAULT_RANGE_DAYS)
    if last < first:
        raise InvalidRequest({"to": _l("结束日期不能早于开始日期。")})
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidRequest({"to": _l("查询范围不能超过 %(n)s 天。", n=MAX_RANGE_DAYS)})
    return SlotQuery(venue=venue, programme=programme, first_day=first, last_day=last, kind=kind,
                     limit=limit, after=after)


# -- the staff API's bodies --------------------------------------------------------------------

HEADCOUNT_FIELDS = {"headcount"}
DECLINE_FIELDS = {"reason"}


def headcount_from_json(data) -> int:
    """The body of ``POST /staff/bookings/{reference}/check-in``: ``{"headcount": int}``.

    Its bounds (at least 1, at most the party) are the check-in rule's.
    """
    check = _Checker()
    data = check.object(data, "", HEADCOUNT_FIELDS)
    if data is None:
        raise InvalidRequest({"body": _l("请求内容应为 JSON 对象。")})
    headcount = check.integer(data, "headcount", -(2**31), 2**31 - 1)
    if check.errors:
        raise InvalidRequest(check.errors)
    return headcount


def decline_reason_from_json(data) -> str:
    """The body of ``POST /staff/bookings/{reference}/decline``: ``{"reason": str}``.

    Whether the reason says enough (not blank, not too long) is the approval rule's.
    """
    check = _Checker()
    data = check.object(data, "", DECLINE_FIELDS)
    if data is None:
        raise InvalidRequest({"body": _l("请求内容应为 JSON 对象。")})
    reason = data.get("reason")
    if not isinstance(reason, str):
        check.fail("reason", _l("应为文本。") if reason is not None else _l("此项必填。"))
    if check.errors:
        raise InvalidRequest(check.errors)
    return reason
