"""The booking core's models. Import them from here."""
from booking.models.bookings import (
                                     CHANGEABLE_STATES,
                                     HOLDING_STATES,
                                     Attendee,
                                     Booking,
                                     BookingState,
                                     IdempotencyRecord,
                                     Organisation,
                                     OrganisationKind,
                                     WaitlistEntry,
                                     WaitlistState,
)
from booking.models.feedback import Feedback
from booking.models.offline import OfflineVisit
from booking.models.outbox import OutboxMessage
from booking.models.sms import SmsMessage
from booking.models.staff import AuditEntry, Role, StaffUser
from booking.models.venues import (
    CalendarCorrection,
    Room,
    Slot,
    SlotState,
    Venue,
    VenueDay,
    enum_column,
)

__all__ = [
    "Attendee", "AuditEntry", "Booking", "BookingState", "CalendarCorrection", "CHANGEABLE_STATES",
    "Feedback", "HOLDING_STATES", "IdempotencyRecord", "OfflineVisit", "Organisation",
    "OrganisationKind", "OutboxMessage", "Role", "Room", "Slot", "SlotState", "SmsMessage",
    "StaffUser", "Venue", "VenueDay", "WaitlistEntry", "WaitlistState",
    "HOLDING_STATES", "IdempotencyRecord", "OfflineVisit", "Organisation", "OrganisationKind",
    "OutboxMessage", "Role", "Room", "Slot", "SlotState", "SmsMessage", "StaffUser", "Venue",
    "VenueDay", "WaitlistEntry", "WaitlistState",
    "enum_column",
]
