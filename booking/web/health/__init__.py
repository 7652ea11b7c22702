"""Health probes for load balancers and monitors: ``/healthz`` (the process answers) and
``/readyz`` (the installation can serve: database, migrations, outbox). JSON, no cookies, no
caching. The routes are in :mod:`.probes`; :func:`booking.web.register` registers ``bp``."""
from flask import Blueprint

bp = Blueprint("health", __name__)
