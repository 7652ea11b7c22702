"""Creating slots: a room is never held by two slots at the same time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.clock import local
from booking.errors import BookingError
from booking.models import Room, Slot, SlotState, Venue
from booking.rules import capacity


@dataclass
class SlotFacts:
    """What a slot shows and enforces on behalf of the programme scheduled into it."""

    title: str
    title_en: str = ""
    programme: str | None = None
    kind: str | None = None
    party_size_min: int = 1
    party_size_max: int = 50
    requires_approval: bool = False
    requires_letter: bool = False
    min_working_days_ahead: int | None = None
    max_days_ahead: int | None = None
    lecturer_name: str = ""
    guide_user_id: int | None = None
    modules_text: str = ""
    modules_text_en: str = ""
    equipment: str = ""
    equipment_en: str = ""
    training_hours: Decimal | None = None


def room_clash(session: Session, room: Room, starts_at: datetime, ends_at: datetime,
               ignore_slot_id: int | None = None) -> Slot | None:
    """The live slot that already holds ``room`` in that time, if any."""
    query = (select(Slot).where(Slot.room_id == room.id, Slot.state != SlotState.CANCELLED,
                                Slot.starts_at < ends_at, Slot.ends_at > starts_at))
    if ignore_slot_id is not None:
        query = query.where(Slot.id != ignore_slot_id)
    return session.scalars(query.limit(1)).first()


def room_clash_error(room: Room, other: Slot) -> BookingError:
    """The refusal that names the session already holding the room."""
    tz = room.venue.tz
    return BookingError("room_clash", _l(
        "%(room)s 在 %(start)s–%(end)s 已安排《%(title)s》，时间冲突。",
        room=room.name, title=other.title,
        start=local(other.starts_at, tz).strftime("%Y-%m-%d %H:%M"),
        end=local(other.ends_at, tz).strftime("%H:%M")), field="room")


def create_slot(session: Session, venue: Venue, starts_at: datetime, ends_at: datetime,
                capacity_seats: int, facts: SlotFacts, room: Room | None = None) -> Slot:
    """Open a new slot. Refuses a room clash with a message that names the other slot."""
    if ends_at <= starts_at:
        raise BookingError("slot_times", _l("结束时间必须晚于开始时间。"), status=422,
                           field="ends_at")
    if capacity_seats <= 0:
        raise BookingError("slot_capacity", _l("容量必须大于 0。"), status=422, field="capacity")
    if room is not None:
        # Lock the room row (PostgreSQL) so two schedulers cannot both pass the clash check;
        # SQLite's BEGIN IMMEDIATE already serialises writers.
        session.scalars(select(Room).where(Room.id == room.id).with_for_update()).one()
        if room.venue_id != venue.id:
            raise BookingError("room_venue", _l("该场地不属于此场馆。"), status=422, field="room")
        other = room_clash(session, room, starts_at, ends_at)
        if other is not None:
            raise room_clash_error(room, other)
        if capacity_seats > room.capacity:
            raise BookingError("slot_capacity", _l("容量不能超过场地容量（%(n)s 人）。",
                                                   n=room.capacity), status=422, field="capacity")
    day = local(starts_at, venue.tz).date()
    capacity.ensure_venue_day(session, venue, day)
    slot = Slot(venue=venue, room=room, day=day, starts_at=starts_at, ends_at=ends_at,
                capacity=capacity_seats, taken=0, state=SlotState.OPEN,
                title=facts.title, title_en=facts.title_en, programme=facts.programme,
                kind=facts.kind, party_size_min=facts.party_size_min,
                party_size_max=facts.party_size_max, requires_approval=facts.requires_approval,
                requires_letter=facts.requires_letter,
                min_working_days_ahead=facts.min_working_days_ahead,
                max_days_ahead=facts.max_days_ahead, lecturer_name=facts.lecturer_name,
                guide_user_id=facts.guide_user_id, modules_text=facts.modules_text,
                modules_text_en=facts.modules_text_en, equipment=facts.equipment,
                equipment_en=facts.equipment_en, training_hours=facts.training_hours)
    session.add(slot)
    session.flush()
    return slot


def change_slot_room(session: Session, slot: Slot, room: Room) -> None:
    """Move a slot to another room of its venue at the same time, refusing a room clash."""
    if room.venue_id != slot.venue_id:
        raise BookingError("room_venue", _l("该场地不属于此场馆。"), status=422, field="room")
    if room.id == slot.room_id:
        return
    session.scalars(select(Room).where(Room.id == room.id).with_for_update()).one()
    other = room_clash(session, room, slot.starts_at, slot.ends_at, ignore_slot_id=slot.id)
    if other is not None:
        raise room_clash_error(room, other)
    if slot.capacity > room.capacity:
        raise BookingError("slot_capacity", _l(
            "%(room)s 只能容纳 %(n)s 人，请先把场次容量降到不超过 %(n)s。",
            room=room.name, n=room.capacity), status=422, field="room")
    slot.room = room
    session.flush()
