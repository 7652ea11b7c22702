"""Flask extensions, created unbound here and bound to the app in ``run.create_app``."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# Limits are declared per route; storage comes from RATELIMIT_STORAGE_URI (memory by default,
# Redis when several app servers share the load).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
