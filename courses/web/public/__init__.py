"""Public course pages: the home page and programme pages (blueprint ``courses``), certificate
downloads and public verification (``certificates``), and calendar feeds (``feeds``).

The route modules attach their views to these blueprints; :func:`courses.web.register`
imports them and registers the blueprints.
"""
from flask import Blueprint

bp = Blueprint("courses", __name__)
certificates_bp = Blueprint("certificates", __name__)
feeds_bp = Blueprint("feeds", __name__)
