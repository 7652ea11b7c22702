"""The choice of provider (``SMS_PROVIDER``)."""
from __future__ import annotations

from booking.sms.gateway import LogGateway, SmsGateway, SmsSettings


def gateway_for(settings: SmsSettings) -> SmsGateway:
    """The configured provider's gateway (its SDK is imported only when chosen)."""
    if settings.provider == "aliyun":
        from booking.sms.aliyun import AliyunGateway
        return AliyunGateway(settings)
    if settings.provider == "tencent":
        from booking.sms.tencent import TencentGateway
        return TencentGateway(settings)
    return LogGateway(settings)
