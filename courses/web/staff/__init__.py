"""Staff pages of the course scheduler: the catalogue, lecturers and guides, sessions and closed
days under /staff/courses/ (blueprint ``course_staff``) and certificates under
/staff/certificates/ (``certificate_staff``).

The route modules attach their views to these blueprints; :func:`courses.web.register`
imports them and registers the blueprints.
"""
from flask import Blueprint

bp = Blueprint("course_staff", __name__, url_prefix="/staff/courses")
certificates_bp = Blueprint("certificate_staff", __name__, url_prefix="/staff/certificates")
