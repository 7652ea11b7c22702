"""The gateway contract, the settings every provider reads, and the choice of provider."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

SENT, RETRY, GIVE_UP = "sent", "retry", "give_up"
PROVIDERS = ("log", "aliyun", "tencent")
DEFAULT_TIMEOUT = 10.0  # seconds, connect and read
DEFAULT_DAILY_CAP = 10  # messages per phone number per day

log = logging.getLogger("booking.sms")


@dataclass(frozen=True)
class SmsRequest:
    """One message: the phone (11-digit mainland mobile), the template and its variables."""

    phone: str
    kind: str
    template_code: str
    params: dict[str, str]
    out_id: str = ""  # our id for the message, echoed by the provider


@dataclass(frozen=True)
class Outcome:
    status: Literal["sent", "retry", "give_up"]
    detail: str = ""
    message_id: str = ""


class SmsGateway(Protocol):
    name: str

    def send(self, request: SmsRequest) -> Outcome: ...


@dataclass(frozen=True)
class SmsSettings:
    """The ``SMS_*`` settings (config file or environment; see the README)."""

    provider: str = "log"
    sign_name: str = ""
    templates: dict[str, str] = field(default_factory=dict)
    access_key_id: str = ""       # Alibaba AccessKey ID / Tencent SecretId
    access_key_secret: str = ""   # Alibaba AccessKey secret / Tencent SecretKey
    sdk_app_id: str = ""          # Tencent SmsSdkAppId
    region: str = ""              # Tencent region (ap-guangzhou) / Alibaba region (cn-hangzhou)
    endpoint: str = ""            # host[:port] override (tests, private endpoints)
    protocol: str = "https"
    timeout: float = DEFAULT_TIMEOUT
    daily_cap: int = DEFAULT_DAILY_CAP

    @classmethod
    def from_config(cls, config: Mapping) -> SmsSettings:
        """From the app's config: ``SMS_TEMPLATES`` (a dict kind → code) and/or one
        ``SMS_TEMPLATE_<KIND>`` per kind (how the environment can set them)."""
        templates = dict(config.get("SMS_TEMPLATES") or {})
        for key, value in config.items():
            if key.startswith("SMS_TEMPLATE_") and value:
                templates[key.removeprefix("SMS_TEMPLATE_").lower()] = str(value)
        provider = str(config.get("SMS_PROVIDER") or "log").strip().lower()
        if provider not in PROVIDERS:
            raise ValueError(f"SMS_PROVIDER must be one of {', '.join(PROVIDERS)}, "
                             f"not {provider!r}")
        settings = cls(provider=provider, sign_name=str(config.get("SMS_SIGN_NAME") or ""),
                       templates=templates,
                       access_key_id=str(config.get("SMS_ACCESS_KEY_ID") or ""),
                       access_key_secret=str(config.get("SMS_ACCESS_KEY_SECRET") or ""),
                       sdk_app_id=str(config.get("SMS_SDK_APP_ID") or ""),
                       region=str(config.get("SMS_REGION") or ""),
                       endpoint=str(config.get("SMS_ENDPOINT") or ""),
                       protocol=str(config.get("SMS_PROTOCOL") or "https").lower(),
                       timeout=float(config.get("SMS_TIMEOUT") or DEFAULT_TIMEOUT),
                       daily_cap=int(config.get("SMS_DAILY_CAP") or DEFAULT_DAILY_CAP))
        if settings.missing():
            raise ValueError(f"SMS_PROVIDER={provider} needs {', '.join(settings.missing())}")
        return settings

    def missing(self) -> list[str]:
        """The settings a real provider needs that are not set."""
        if self.provider == "log":
            return []
        needed = {"SMS_SIGN_NAME": self.sign_name, "SMS_ACCESS_KEY_ID": self.access_key_id,
                  "SMS_ACCESS_KEY_SECRET": self.access_key_secret}
        if self.provider == "tencent":
            needed["SMS_SDK_APP_ID"] = self.sdk_app_id
        return [name for name, value in needed.items() if not value]

    def template_for(self, kind: str) -> str:
        """The provider's template code for ``kind`` ("" when none is configured)."""
        return self.templates.get(kind, "")


class LogGateway:
    """Development: every message "sent" is written to the log (and kept, for tests)."""

    name = "log"

    def __init__(self, settings: SmsSettings | None = None):
        self.sent: list[SmsRequest] = []

    def send(self, request: SmsRequest) -> Outcome:
        log.info("SMS to %s, template %s (%s): %s", request.phone,
                 request.template_code or "-", request.kind, request.params)
        self.sent.append(request)
        return Outcome(SENT, message_id=f"log-{len(self.sent)}")
