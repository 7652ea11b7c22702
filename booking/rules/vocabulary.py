"""How states and kinds read to people, in one place: public and staff pages, the roster,
exports, forms' choices and certificates all take their words from here (templates through the
globals :mod:`booking.web.template_helpers` registers)."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from booking.i18n import N_
from booking.models import BookingState, OrganisationKind, Role, SlotState
from booking.rules.availability import Availability
from booking.rules.channels import NotifyBy

#: A booking's state, in the same words for the group that booked and for staff (who answer
#: the group's calls): the words of the e-mails ("等待审核", "未通过审核").
STATE_LABELS = {
    BookingState.PENDING: _l("待审核"), BookingState.CONFIRMED: _l("已确认"),
    BookingState.CHECKED_IN: _l("已签到"), BookingState.COMPLETED: _l("已完成"),
    BookingState.DECLINED: _l("未通过审核"), BookingState.CANCELLED: _l("已取消"),
    BookingState.NO_SHOW: _l("未到场"),
}
#: A booking's state on the day's roster (page, PDF, spreadsheet, JSON): there a confirmed
#: group is one the desk still waits for, so it reads "待签到"; every other state as above.
ROSTER_STATE_LABELS = {**STATE_LABELS, BookingState.CONFIRMED: _l("待签到")}
ORGANISATION_KIND_LABELS = {
    OrganisationKind.PARTY_ORGANISATION: _l("党组织"),
    OrganisationKind.SCHOOL: _l("学校"),
    OrganisationKind.ENTERPRISE: _l("企业"),
    OrganisationKind.INSTITUTION: _l("事业单位"),
    OrganisationKind.GOVERNMENT: _l("机关"),
    OrganisationKind.COMMUNITY: _l("社区"),
    OrganisationKind.OTHER: _l("其他"),
}

ROLE_LABELS = {Role.ADMIN: _l("管理员"), Role.STAFF: _l("工作人员"), Role.GUIDE: _l("讲解员")}

#: A slot's state as staff read it.
SLOT_STATE_LABELS = {SlotState.OPEN: _l("开放"), SlotState.CLOSED: _l("停止预约"),
                     SlotState.CANCELLED: _l("已取消")}

#: What a calendar day or a slot offers a visitor, in words (never by colour alone).
AVAILABILITY_LABELS = {
    Availability.AVAILABLE: _l("可预约"), Availability.FEW_LEFT: _l("余位紧张"),
    Availability.FULL: _l("已约满"), Availability.CLOSED: _l("不接待"),
    Availability.PAST: _l("已过"), Availability.TOO_SOON: _l("预约已截止"),
    Availability.NOT_YET_OPEN: _l("尚未开放预约"), Availability.STOPPED: _l("停止预约"),
    Availability.NO_SESSIONS: _l("无场次"),
}

#: How an organisation chose to hear from the museum (booking form, staff booking page).
NOTIFY_BY_LABELS = {NotifyBy.SMS: _l("短信"), NotifyBy.EMAIL: _l("电子邮件"),
                    NotifyBy.BOTH: _l("短信和电子邮件")}
#: The channel a message went by, on the staff booking page.
CHANNEL_LABELS = {"sms": _l("短信"), "email": _l("电子邮件")}
#: What a message to an organisation was about (e-mail and SMS kinds alike).
MESSAGE_KIND_LABELS = {
    "received": _l("已收到预约"), "confirmed": _l("预约已确认"), "declined": _l("未通过审核"),
    "cancelled": _l("预约已取消"), "cancelled_by_museum": _l("场馆取消"),
    "reminder": _l("参观提醒"), "certificates_ready": _l("证明可下载"),
    "waitlist_offer": _l("候补名额保留"), "waitlist_closed": _l("候补场次取消"),
}

#: How a message to an organisation is doing (booking.rules.message_log).
MESSAGE_STATUS_LABELS = {"sent": _l("已发送"), "waiting": _l("待发送"), "retrying": _l("重试中"),
                         "given_up": _l("发送失败")}

#: Short weekday names, Monday first (``date.weekday()`` numbers them 0–6).
WEEKDAY_LABELS = (_l("周一"), _l("周二"), _l("周三"), _l("周四"), _l("周五"), _l("周六"),
                  _l("周日"))

#: Each kind of programme in the museum's own words, by the value ``Course.kind`` stores (and
#: the scheduler copies onto ``Slot.kind``). Keyed by string because ``booking`` cannot import
#: ``courses.models.CourseKind``. Plain Chinese, only marked for the catalogs: certificates
#: print it as it stands (:func:`programme_kind_name`), pages translate it
#: (:func:`programme_kind_label`).
PROGRAMME_KIND_NAMES = {
    "themed_course": N_("专题党课"),
    "party_day": N_("红色主题党日"),
    "study_tour": N_("青少年研学"),
    "exhibition": N_("展览参观"),
}
#: A slot with no course behind it (staff scheduled a one-off visit).
OTHER_PROGRAMME_KIND = N_("团体参观")


def role_label(role: Role) -> str:
    return str(ROLE_LABELS.get(role, role.value))


def state_label(state: BookingState) -> str:
    return str(STATE_LABELS.get(state, state.value))


def roster_state_label(state: BookingState) -> str:
    return str(ROSTER_STATE_LABELS.get(state, state.value))


def notify_by_label(value: str) -> str:
    """The stored choice ("sms", "email", "both") in words."""
    try:
        return str(NOTIFY_BY_LABELS[NotifyBy(value)])
    except ValueError:
        return value


def message_kind_label(kind: str) -> str:
    return str(MESSAGE_KIND_LABELS.get(kind, kind))


def message_status_label(status: str) -> str:
    return str(MESSAGE_STATUS_LABELS.get(status, status))


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


def weekday_label(number: int) -> str:
    return str(WEEKDAY_LABELS[number])


def availability_label(state: Availability) -> str:
    return str(AVAILABILITY_LABELS[state])


def organisation_kind_label(kind: OrganisationKind | str) -> str:
    """The kind's label; ``kind`` may also be its stored value."""
    kind = OrganisationKind(kind)
    return str(ORGANISATION_KIND_LABELS.get(kind, kind.value))


def programme_kind_name(kind) -> str:
    """The kind's name in Chinese; ``kind`` is a ``CourseKind``, its stored value, or None."""
    return PROGRAMME_KIND_NAMES.get(getattr(kind, "value", kind), OTHER_PROGRAMME_KIND)


def programme_kind_label(kind) -> str:
    """The kind's name in the reader's language (pages, exports)."""
    return gettext(programme_kind_name(kind))
