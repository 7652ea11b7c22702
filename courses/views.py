"""Public course pages: home, programme pages."""
from flask import Blueprint

bp = Blueprint("courses", __name__)
