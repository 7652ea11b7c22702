"""How booking states and organisation kinds read to people, in one place: the staff pages,
the roster (which words one state its own way, see :data:`booking.rules.roster.STATE_TEXT`) and
the booking form's choices all use these."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from booking.models import BookingState, OrganisationKind, Role, SlotState

#: A booking's state as staff read it.
STATE_LABELS = {
    BookingState.PENDING: _l("待审批"), BookingState.CONFIRMED: _l("已确认"),
    BookingState.CHECKED_IN: _l("已签到"), BookingState.COMPLETED: _l("已完成"),
    BookingState.DECLINED: _l("已拒绝"), BookingState.CANCELLED: _l("已取消"),
    BookingState.NO_SHOW: _l("未到"),
}
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


def role_label(role: Role) -> str:
    return str(ROLE_LABELS.get(role, role.value))


def state_label(state: BookingState) -> str:
    return str(STATE_LABELS.get(state, state.value))


def organisation_kind_label(kind: OrganisationKind | str) -> str:
    """The kind's label; ``kind`` may also be its stored value."""
    kind = OrganisationKind(kind)
    return str(ORGANISATION_KIND_LABELS.get(kind, kind.value))
