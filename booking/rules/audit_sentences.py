"""The audit log read aloud: one sentence per entry, in the reader's language.

Staff read a booking's history and the audit page as sentences ("王敏 为团体签到：实到 25 人
（预约 27 人）" / "王敏 checked the group in: 25 of 27 present"); the action codes and the raw
before/after JSON appear only in the admin's CSV export. Every action code passed to
:func:`booking.rules.audit.record_change` has a renderer in :data:`SENTENCES`
(``tests/test_audit_sentences.py`` finds the codes in the source and fails on a missing one).
An entry whose stored facts do not fit its renderer (an older shape) still gets a sentence.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from booking.i18n import current_language
from booking.models import AuditEntry, BookingState, Role
from booking.rules.vocabulary import role_label, state_label


@dataclass(frozen=True)
class Facts:
    """One entry's stored before/after states, with safe lookups."""

    before: dict[str, Any]
    after: dict[str, Any]

    def old(self, key: str, default: Any = "") -> Any:
        value = self.before.get(key)
        return default if value is None else value

    def new(self, key: str, default: Any = "") -> Any:
        value = self.after.get(key)
        return default if value is None else value

    def changed(self, key: str) -> bool:
        return key in self.after and self.before.get(key) != self.after.get(key)


def _load(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def actor_name(entry: AuditEntry) -> str:
    user = entry.user
    if user is None:
        return _("系统")
    return user.display_name or user.username


def _state(value: str) -> str:
    try:
        return state_label(BookingState(value))
    except ValueError:
        return value


def _role(value: str) -> str:
    try:
        return role_label(Role(value))
    except ValueError:
        return value


def _with_reason(sentence: str, reason: str) -> str:
    return _("%(sentence)s（原因：%(reason)s）", sentence=sentence, reason=reason) if reason \
        else sentence


def _limit(value: Any) -> str:
    """An organisation's own limit: None follows the venue's, 0 is none."""
    if value is None:
        return _("按场馆设置")
    return _("不限") if int(value) == 0 else str(value)


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list | tuple) else int(value or 0)


def _title(facts: Facts) -> str:
    side = facts.after or facts.before
    english = side.get("title_en") if current_language() == "en" else None
    return english or side.get("title") or side.get("code") or ""


# --- bookings -------------------------------------------------------------------------------

def _edit_by_staff(f: Facts) -> str:
    parts = []
    if f.changed("party_size"):
        parts.append(_("将预约人数由 %(old)s 改为 %(new)s", old=f.old("party_size"),
                       new=f.new("party_size")))
    if any(f.changed(key) for key in ("contact_name", "contact_phone", "contact_email")):
        parts.append(_("修改了联系人信息"))
    if f.changed("notes"):
        parts.append(_("修改了备注"))
    if f.changed("attendees"):
        parts.append(_("将名单由 %(old)s 人改为 %(new)s 人", old=f.old("attendees", 0),
                       new=f.new("attendees", 0)))
    if not parts:
        parts.append(_("保存了预约（内容未变）"))
    return _overridden(_("；").join(parts), f)


def _overridden(sentence: str, f: Facts) -> str:
    overrides = f.after.get("overrides") or {}
    if not isinstance(overrides, dict) or not overrides:
        return sentence
    return _("%(sentence)s（放宽限制，理由：%(reason)s）", sentence=sentence,
             reason=overrides.get("reason") or "—")


def _check_in(f: Facts) -> str:
    return _("为团体签到：实到 %(arrived)s 人（预约 %(size)s 人）",
             arrived=f.new("arrived_count", 0), size=f.new("party_size", 0))


def _headcount(f: Facts) -> str:
    return _("更正到场人数：由 %(old)s 人改为 %(new)s 人", old=f.old("arrived_count", 0),
             new=f.new("arrived_count", 0))


def _attendance(f: Facts) -> str:
    return _("记录到场名单：%(n)s 人到场（此前 %(old)s 人）", n=_count(f.new("attended", [])),
             old=_count(f.old("attended", [])))


BOOKING_SENTENCES: dict[str, Callable[[Facts], str]] = {
    "booking.approve": lambda f: _("批准了预约"),
    "booking.decline": lambda f: _with_reason(_("拒绝了预约"), f.new("reason")),
    "booking.attendance": _attendance,
    "booking.cancel_by_museum": lambda f: _with_reason(_("因场次取消而取消了预约"),
                                                       f.new("reason")),
    "booking.cancel_by_staff": lambda f: _with_reason(_("代预约单位取消了预约"), f.new("reason")),
    "booking.check_in": _check_in,
    "booking.headcount": _headcount,
    "booking.complete": lambda f: _("将预约标记为“%(state)s”", state=_state("completed")),
    "booking.create_by_staff": lambda f: _overridden(
        _("代为预约 %(n)s 人（%(state)s）", n=f.new("party_size", 0),
          state=_state(f.new("state"))), f),
    "booking.edit_by_staff": _edit_by_staff,
    "booking.move": lambda f: _overridden(
        _("将预约改到另一场次（场次 %(old)s → %(new)s）", old=f.old("slot"), new=f.new("slot")), f),
    "booking.no_show": lambda f: _("将团体记为未到（%(state)s）", state=_state(f.new("state"))),
    "booking.walk_in": lambda f: _("现场补录参加人员 %(name)s", name=f.new("attendee")),
    "organisation.suspend": lambda f: _with_reason(
        _("暂停该单位预约至 %(until)s", until=str(f.new("suspended_until"))[:10]),
        f.new("suspension_reason")),
    "organisation.extend_suspension": lambda f: _with_reason(
        _("将该单位的预约暂停延长至 %(until)s", until=str(f.new("suspended_until"))[:10]),
        f.new("suspension_reason")),
    "organisation.lift_suspension": lambda f: _("解除了该单位的预约暂停"),
    "organisation.limits": lambda f: _(
        "将该单位的预约上限改为：待参观预约 %(upcoming)s，每日座位 %(seats)s",
        upcoming=_limit(f.new("limit_upcoming")), seats=_limit(f.new("limit_seats_per_day"))),
    "organisation.notes": lambda f: _("修改了该单位的备注"),
    "waitlist.offer": lambda f: _("向候补名单释放座位：%(n)s 个候补团体获得名额",
                                  n=_count(f.new("offered", []))),
    "waitlist.withdraw": lambda f: _("撤下了一条候补登记"),
    "feedback.hide": lambda f: _("隐藏了一条评价"),
    "feedback.show": lambda f: _("恢复显示一条评价"),
}


# --- calendar, closures, offline visits -------------------------------------------------------

def _correct(f: Facts) -> str:
    if f.new("working_day") is True:
        return _("将 %(day)s 设为工作日（%(name)s）", day=f.new("day"), name=f.new("name"))
    return _("将 %(day)s 设为休息日（%(name)s）", day=f.new("day"), name=f.new("name"))


CALENDAR_SENTENCES: dict[str, Callable[[Facts], str]] = {
    "calendar.correct": _correct,
    "calendar.uncorrect": lambda f: _("撤销了 %(day)s 的调休设置", day=f.old("day")),
    "slot.cancel": lambda f: _with_reason(
        _("取消了场次，%(n)s 个预约随之取消", n=_count(f.new("bookings_cancelled", []))),
        f.new("reason")),
    "venue_day.close": lambda f: _with_reason(
        _("将 %(day)s 设为临时闭馆，取消 %(n)s 个场次", day=f.new("day"),
          n=_count(f.new("slots_cancelled", []))), f.new("reason")),
    "venue_day.force_open": lambda f: _("将 %(day)s 设为照常开放", day=f.new("day")),
    "venue_day.clear_override": lambda f: _("恢复 %(day)s 的常规开放安排", day=f.new("day")),
    "offline_visit.create": lambda f: _("录入线下接待：%(org)s，%(people)s 人（%(day)s）",
                                        org=f.new("organisation"), people=f.new("people", 0),
                                        day=f.new("day")),
    "offline_visit.delete": lambda f: _("删除线下接待记录：%(org)s，%(people)s 人（%(day)s）",
                                        org=f.old("organisation"), people=f.old("people", 0),
                                        day=f.old("day")),
    "offline_visit.import": lambda f: _("从文件 %(file)s 导入 %(n)s 条线下接待记录，共 %(people)s 人",
                                        file=f.new("file"), n=f.new("visits", 0),
                                        people=f.new("people", 0)),
}


# --- programmes, sessions, lecturers, certificates ---------------------------------------------

COURSE_SENTENCES: dict[str, Callable[[Facts], str]] = {
    "course.create": lambda f: _("新建了项目《%(title)s》", title=_title(f)),
    "course.update": lambda f: _("修改了项目《%(title)s》", title=_title(f)),
    "course.activate": lambda f: _("重新开放了该项目的预约"),
    "course.deactivate": lambda f: _("停用了该项目"),
    "session.create": lambda f: _("排定场次：%(when)s，容量 %(n)s 人",
                                  when=str(f.new("starts_at"))[:16].replace("T", " "),
                                  n=f.new("capacity", 0)),
    "session.update": lambda f: _("修改了场次安排（%(when)s，讲解员 %(lecturer)s，容量 %(n)s 人）",
                                  when=str(f.new("starts_at"))[:16].replace("T", " "),
                                  lecturer=f.new("lecturer") or "—", n=f.new("capacity", 0)),
    "lecturer.create": lambda f: _("新增讲解员 %(name)s", name=f.new("name")),
    "lecturer.update": lambda f: _("修改了讲解员 %(name)s 的资料", name=f.new("name")),
    "lecturer.absence_add": lambda f: _("登记讲解员 %(day)s 不能到岗", day=f.new("day")),
    "lecturer.absence_remove": lambda f: _("取消了讲解员 %(day)s 的不能到岗登记", day=f.old("day")),
    "lecturer.feed_token_reset": lambda f: _("重置了讲解员的日程订阅链接"),
    "certificate.issue": lambda f: _("颁发了 %(n)s 份学习证明", n=_count(f.new("serials", []))),
    "certificate.revoke": lambda f: _with_reason(
        _("撤销了学习证明 %(serial)s", serial=f.new("serial")), f.new("revoked_reason")),
    "certificate.reissue": lambda f: _("重新颁发学习证明 %(old)s，新编号 %(new)s",
                                       old=f.old("serial"), new=f.new("replaced_by")),
}


# --- staff accounts -------------------------------------------------------------------------

USER_SENTENCES: dict[str, Callable[[Facts], str]] = {
    "user.create": lambda f: _("新建了账号 %(username)s（%(role)s）", username=f.new("username"),
                               role=_role(f.new("role"))),
    "user.role": lambda f: _("将 %(username)s 的角色由“%(old)s”改为“%(new)s”",
                             username=f.new("username"), old=_role(f.old("role")),
                             new=_role(f.new("role"))),
    "user.deactivate": lambda f: _("停用了账号 %(username)s", username=f.new("username")),
    "user.reactivate": lambda f: _("重新启用了账号 %(username)s", username=f.new("username")),
    "user.password_reset": lambda f: _("重置了 %(username)s 的密码", username=f.new("username")),
    "user.sign_out_everywhere": lambda f: _("让 %(username)s 在所有设备上退出登录",
                                            username=f.new("username")),
    "user.totp_enable": lambda f: _("%(username)s 启用了两步验证", username=f.new("username")),
    "user.totp_disable": lambda f: _("%(username)s 关闭了两步验证", username=f.new("username")),
    "user.totp_reset": lambda f: _("重置了 %(username)s 的两步验证", username=f.new("username")),
}

SENTENCES: dict[str, Callable[[Facts], str]] = {
    **BOOKING_SENTENCES, **CALENDAR_SENTENCES, **COURSE_SENTENCES, **USER_SENTENCES}


def audit_sentence(entry: AuditEntry) -> str:
    """``entry`` as one sentence in the reader's language, starting with who did it."""
    facts = Facts(_load(entry.before), _load(entry.after))
    render = SENTENCES.get(entry.action)
    try:
        what = render(facts) if render is not None else None
    except (TypeError, ValueError, AttributeError):
        what = None  # an entry written in an older shape: still say something true
    if what is None:
        what = _("修改了记录（%(object)s）", object=entry.object_type)
    return _("%(actor)s %(what)s", actor=actor_name(entry), what=what)
