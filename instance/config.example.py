# Copy to instance/config.py and adjust. Environment variables override these values.

# A long random string; keep it secret. `python -c "import secrets; print(secrets.token_hex(32))"`
# When unset, the app creates instance/secret_key on first start.
# SECRET_KEY = "change-me"

# SQLite in instance/ is the default. For PostgreSQL (psycopg 3):
# DATABASE_URL = "postgresql+psycopg://museum@127.0.0.1:5432/museum"

# The public address, used in e-mails, calendar files and certificate QR codes. Unset, pages
# link to the address each request came in on, and send-mail, queue-reminders,
# expire-waitlist-offers and certificate-preview refuse to run. Set it in production.
# PUBLIC_BASE_URL = "https://booking.example.org"

# Rate-limit storage; use Redis when several app servers run.
# RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"

# Past this many booking attempts per address or phone, each one needs a solved proof-of-work
# challenge (ALTCHA; README "Security"). "" switches it off. Challenges are signed with
# ALTCHA_HMAC_KEY (default: derived from SECRET_KEY); give every app server the same one.
# CHALLENGE_AFTER = "5 per hour"
# ALTCHA_HMAC_KEY = "another long random string"

# Outgoing mail (sent by `flask --app run send-mail`, e.g. from cron every minute).
# MAIL_SERVER = "smtp.example.org"
# MAIL_PORT = 587
# MAIL_USE_TLS = True
# MAIL_USERNAME = "booking@example.org"
# MAIL_PASSWORD = "..."
# MAIL_SENDER = "刘伯承同志纪念馆 <booking@example.org>"

# Text messages (sent by `flask --app run send-sms`, from cron every minute). See README "SMS".
# SMS_PROVIDER = "aliyun"            # log (default: only logged) | aliyun | tencent
# SMS_SIGN_NAME = "刘伯承同志纪念馆"     # the approved signature (签名)
# SMS_ACCESS_KEY_ID = "..."          # Alibaba AccessKey ID / Tencent SecretId
# SMS_ACCESS_KEY_SECRET = "..."      # Alibaba AccessKey secret / Tencent SecretKey
# SMS_SDK_APP_ID = "1400000000"      # Tencent only: the SMS application's SdkAppId
# SMS_REGION = "ap-guangzhou"        # Tencent region; Alibaba: cn-hangzhou (default)
# SMS_TEMPLATES = {"received": "SMS_000001", "confirmed": "SMS_000002", ...}
# SMS_DAILY_CAP = 10                 # messages per phone number per day

# Waiting-list offers hold seats this long before moving on to the next entry.
# WAITLIST_OFFER_HOURS = 24

# Per contact (organisation or phone) at one venue: open bookings and seats a day (0: off);
# overridden per venue code, and per programme code over the venue's (README, "Booking abuse
# controls").
# BOOKING_LIMITS = {"upcoming": 6, "seats_per_day": 150}
# BOOKING_LIMITS_BY_VENUE = {"KZM": {"upcoming": 3}}
# BOOKING_LIMITS_BY_PROGRAMME = {"youth-study-tour": {"seats_per_day": 300}}

# Study tours: one accompanying adult per this many minors (0: not enforced).
# STUDY_TOUR_MINORS_PER_ADULT = 10

# No-show policy: this many no-shows within the window suspend an organisation.
# NO_SHOW_LIMIT = 3
# NO_SHOW_WINDOW_DAYS = 90
# NO_SHOW_SUSPENSION_DAYS = 90

# Certificate seals: a PNG per venue code (transparent background, square). Without one,
# the certificate draws a red seal with the venue's issuing unit around a star.
# SEAL_IMAGES = {"LBC": "/srv/museum/seals/lbc.png", "KZM": "/srv/museum/seals/kzm.png"}
