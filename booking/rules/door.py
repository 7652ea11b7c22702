"""The door: a group shows its pass (the QR on its confirmation) or says its reference, and
staff see at once whether it may come in now, with what warning.

The pass code is opaque: only this module, behind a staff login, turns it into a booking.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from booking import dates
from booking.clock import local
from booking.errors import NotFound
from booking.i18n import current_language, localized
from booking.models import Booking, BookingState, Slot, SlotState, StaffUser, Venue
from booking.render.booking_pass import ConfirmationSheet
from booking.rules import opening
from booking.rules.checkin import can_run_session
from booking.rules.tokens import normalise_pass_code, normalise_reference


@dataclass(frozen=True)
class DoorWarning:
    code: str        # wrong_day, wrong_venue, cancelled, not_approved, checked_in, ...
    message: str
    blocking: bool = True  # True: check-in is refused; False: staff may go ahead


def find_for_door(session: Session, text: str) -> Booking:
    """The booking behind a scanned pass code or a typed reference (with or without dash)."""
    code, reference = normalise_pass_code(text), normalise_reference(text)
    if not code:
        raise NotFound(_l("未找到该预约，请核对二维码或预约编号。"))
    booking = session.scalar(
        select(Booking).options(joinedload(Booking.slot).joinedload(Slot.venue),
                                joinedload(Booking.organisation))
        .where(or_(Booking.pass_code == code, Booking.reference == reference)))
    if booking is None:
        raise NotFound(_l("未找到该预约，请核对二维码或预约编号。"))
    return booking


def door_warnings(booking: Booking, today: date, venue: Venue | None,
                  user: StaffUser) -> list[DoorWarning]:
    """Why this group should not (or not simply) be checked in here, now."""
    slot, warnings = booking.slot, []
    if not can_run_session(user, slot):
        warnings.append(DoorWarning("not_your_session", _("这不是您负责的场次。")))
    if slot.day != today:
        warnings.append(DoorWarning("wrong_day", _("预约日期不是今天，而是 %(day)s。",
                                                   day=dates.long_date(slot.day, current_language()))))
    if venue is not None and slot.venue_id != venue.id:
        warnings.append(DoorWarning("wrong_venue", _("该预约在另一场馆：%(venue)s。",
                                                     venue=localized(slot.venue, "name"))))
    if booking.state is BookingState.CANCELLED or slot.state is SlotState.CANCELLED:
        warnings.append(DoorWarning("cancelled", _("该预约已取消。")))
    elif booking.state is BookingState.DECLINED:
        warnings.append(DoorWarning("declined", _("该预约未获批准（已拒绝）。")))
    elif booking.state is BookingState.PENDING:
        warnings.append(DoorWarning("not_approved", _("该预约尚未审核通过。")))
    elif booking.state in (BookingState.CHECKED_IN, BookingState.COMPLETED):
        warnings.append(DoorWarning(
            "checked_in", _("该团体已于 %(time)s 签到，到场 %(n)s 人。",
                            time=local(booking.checked_in_at, slot.venue.tz).strftime("%H:%M")
                            if booking.checked_in_at else "—",
                            n=booking.arrived_count or 0), blocking=False))
    elif booking.state is BookingState.NO_SHOW:
        warnings.append(DoorWarning("no_show", _("该团体已被标记为未到。")))
    return warnings


def confirmation_sheet(booking: Booking, minors_per_adult: int = 10) -> ConfirmationSheet:
    """The 预约确认单 as plain data, in the current locale."""
    slot, venue = booking.slot, booking.slot.venue
    starts, ends = local(slot.starts_at, venue.tz), local(slot.ends_at, venue.tz)
    rows = [(_("单位"), booking.organisation.name), (_("项目"), localized(slot, "title")),
            (_("日期"), dates.long_date(slot.day, current_language())),
            (_("时间"), f"{starts:%H:%M}–{ends:%H:%M}"),
            (_("场馆"), localized(venue, "name"))]
    if slot.room:
        rows.append((_("场地"), localized(slot.room, "name")))
    rows += [(_("团体人数"), _("%(n)s 人", n=booking.party_size)),
             (_("联系人"), booking.contact_name)]
    if localized(venue, "address"):
        rows.append((_("地址"), localized(venue, "address")))
    deadline = opening.cancellation_deadline(venue, slot.day)
    return ConfirmationSheet(
        title=_("预约确认单"), venue=localized(venue, "name"), reference_label=_("预约编号"),
        reference=booking.display_reference, pass_code=booking.pass_code or "",
        qr_caption=_("入馆签到时请出示此二维码（仅供工作人员扫码核验）"), rows=rows,
        rules_title=_("参观须知"),
        rules=[_("请按预约时间提前 15 分钟到达，凭预约编号签到。"),
               _("如需取消或调整人数，最晚请于 %(deadline)s 办理。",
                 deadline=dates.long_date(deadline, current_language())),
               _("90 天内 3 次预约未到的单位，将暂停预约资格 90 天。"),
               *([_("未成年人团体须每 %(per)s 人配 1 名成年带队人员。", per=minors_per_adult)]
                 if minors_per_adult else [])],
        footer=(_("%(venue)s · 电话 %(phone)s", venue=localized(venue, "name"), phone=venue.phone)
                if venue.phone else localized(venue, "name")))
