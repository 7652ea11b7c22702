"""Public booking pages: capacity calendar, booking form, manage link."""
from flask import Blueprint

bp = Blueprint("booking", __name__)
