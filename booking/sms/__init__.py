"""SMS gateways: send one templated text message through a provider, say how it went.

The sending use case (:mod:`booking.usecases.sms_sender`) owns the outbox, the lease, the
retries and the caps; a gateway only talks to its provider and sorts the answer into an
:class:`Outcome`: sent, retry later (throttled, provider down, timeout), or give up (invalid
number, template or signature: retrying cannot help). Like the renderers, this package knows
nothing of Flask, models or rules: plain data in, an outcome out.

Providers (``SMS_PROVIDER``): ``log`` (development: writes the message to the log),
``aliyun`` (Alibaba Cloud SMS, dysmsapi 2017-05-25) and ``tencent`` (Tencent Cloud SMS,
2021-01-11), each through the provider's own SDK.
"""
from __future__ import annotations

from booking.sms.gateway import (
    GIVE_UP,
    RETRY,
    SENT,
    Outcome,
    SmsGateway,
    SmsRequest,
    SmsSettings,
)
from booking.sms.providers import gateway_for

__all__ = ["GIVE_UP", "RETRY", "SENT", "Outcome", "SmsGateway", "SmsRequest", "SmsSettings",
           "gateway_for"]
