"""What happens with feedback: an organisation gives it, staff hide or show a comment."""
from __future__ import annotations

from sqlalchemy.orm import Session

from booking.models import Booking, Feedback, StaffUser
from booking.rules import feedback
from booking.usecases.transaction import use_case


@use_case
def give_feedback(session: Session, booking: Booking, overall: int, lecturer_rating: int | None,
                  comment: str) -> Feedback:
    return feedback.give_feedback(session, booking, overall, lecturer_rating, comment)


@use_case
def hide_comment(session: Session, user: StaffUser, item: Feedback, hidden: bool) -> None:
    feedback.set_hidden(session, user, item, hidden)
