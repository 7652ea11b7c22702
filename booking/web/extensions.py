"""Flask extensions, created unbound here and bound to the app in ``run.create_app``."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

import booking.web.ratelimit_storage  # noqa: F401  (registers museum+sqlite:// with limits)

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# Limits are declared per route; storage comes from RATELIMIT_STORAGE_URI: a SQLite file in
# instance/ shared by the workers of one machine by default, Redis across machines.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
