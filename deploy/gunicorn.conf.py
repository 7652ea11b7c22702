"""gunicorn settings for the booking site behind nginx (deploy/nginx/museum.conf).

    gunicorn -c deploy/gunicorn.conf.py 'run:create_app()'

from the repository root (deploy/systemd/museum.service does this). The environment may
override the address (GUNICORN_BIND), the number of workers (GUNICORN_WORKERS) and where the
access log goes (GUNICORN_ACCESS_LOG; "-" is standard output, i.e. the journal).

Sync workers: nginx buffers slow clients, so a worker is busy only while the app works.
Each worker is a process with its own database connections; on SQLite, writes queue on the
database's lock (BEGIN IMMEDIATE, 30 s busy timeout), on PostgreSQL they run side by side.
"""
import multiprocessing
import os

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "sync"
# A request that takes longer than this has its worker killed and restarted (and nginx answers
# 502). Nothing in the app needs more than a few seconds; nginx waits 60 s for us.
timeout = 30
graceful_timeout = 30  # on stop or reload, requests in flight get this long to finish
keepalive = 2
# Recycle workers now and then, so a slow leak never grows for weeks.
max_requests = 2000
max_requests_jitter = 200
# Request line and headers limits (gunicorn's defaults, stated); nginx limits bodies.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# The app decides which proxy headers to believe (TRUSTED_PROXIES, via Werkzeug's ProxyFix):
# gunicorn must not read X-Forwarded-Proto on its own as well.
forwarded_allow_ips = ""
# No control socket in a home directory the service may not write to.
control_socket_disable = True
proc_name = "museum"

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# Client address (the real one: ProxyFix rewrote it), time, request line with secrets
# redacted, status, bytes, milliseconds, user agent. No referrer: it may carry a secret URL.
access_log_format = '%(h)s - %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


class RedactingLogger(Logger):
    """gunicorn's logger with the secret tokens of manage, waiting-list and feed URLs blanked
    (booking.web.log_redaction: the app's own rule, learned from its routes)."""

    def atoms(self, resp, req, environ, request_time):
        from booking.web.log_redaction import redact

        # Every atom, not only the request line: environ and header atoms ({raw_uri}e,
        # {referer}i …) repeat the path, and a format may name any of them.
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in super().atoms(resp, req, environ, request_time).items()}


logger_class = RedactingLogger
