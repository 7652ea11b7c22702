"""Staff pages for the course scheduler under /staff/courses/."""
from flask import Blueprint

bp = Blueprint("course_staff", __name__, url_prefix="/staff/courses")
