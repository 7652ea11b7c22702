"""Staff JSON API under /api/v1/staff/."""
from flask import Blueprint

bp = Blueprint("staff_api", __name__, url_prefix="/api/v1/staff")
