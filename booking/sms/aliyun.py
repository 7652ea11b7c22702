"""Alibaba Cloud SMS (阿里云短信服务), dysmsapi 2017-05-25 ``SendSms``, through its SDK.

The SDK signs with the RPC signature (HMAC-SHA1 over the canonicalised query,
``SignatureVersion=1.0``); ``SMS_ENDPOINT``/``SMS_PROTOCOL`` point it elsewhere (the tests'
local server). Answers come as ``{"Code": "OK", "BizId": …}`` or another ``Code``: the ones
in :data:`GIVE_UP_CODES` are about this number or template and cannot get better by trying
again; everything else (flow control, a system error, an empty balance, a network fault)
is retried by the outbox.
"""
from __future__ import annotations

import json

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models as openapi_models

from booking.sms.gateway import GIVE_UP, RETRY, SENT, Outcome, SmsRequest, SmsSettings

DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"
GIVE_UP_CODES = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_SIGN_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.TEMPLATE_PARAMS_ILLEGAL", "isv.INVALID_PARAMETERS", "isv.INVALID_JSON_PARAM",
    "isv.PARAM_LENGTH_LIMIT", "isv.PARAM_NOT_SUPPORT_URL", "isv.SMS_CONTENT_ILLEGAL",
    "isv.BLACK_KEY_CONTROL_LIMIT", "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
    "isv.SMS_TEMPLATE_PARAMS_ERROR",
})
THROTTLED_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL",
                             "Throttling.User", "Throttling"})


class AliyunGateway:
    name = "aliyun"

    def __init__(self, settings: SmsSettings):
        self.settings = settings
        timeout_ms = int(settings.timeout * 1000)
        config = openapi_models.Config(
            access_key_id=settings.access_key_id, access_key_secret=settings.access_key_secret,
            endpoint=settings.endpoint or DEFAULT_ENDPOINT, protocol=settings.protocol,
            region_id=settings.region or "cn-hangzhou", signature_algorithm="v2",
            connect_timeout=timeout_ms, read_timeout=timeout_ms)
        self.client = Client(config)

    def send(self, request: SmsRequest) -> Outcome:
        try:
            response = self.client.send_sms(sms_models.SendSmsRequest(
                phone_numbers=request.phone, sign_name=self.settings.sign_name,
                template_code=request.template_code,
                template_param=json.dumps(request.params, ensure_ascii=False),
                out_id=request.out_id or None))
        except Exception as error:  # the SDK raises its own and the network's errors
            code = getattr(error, "code", None) or type(error).__name__
            status = GIVE_UP if code in GIVE_UP_CODES else RETRY
            return Outcome(status, f"aliyun {code}: {error}"[:500])
        body = response.body
        if body.code == "OK":
            return Outcome(SENT, message_id=body.biz_id or "")
        detail = f"aliyun {body.code}: {body.message} (request {body.request_id})"
        if body.code in GIVE_UP_CODES:
            return Outcome(GIVE_UP, detail)
        return Outcome(RETRY, detail)
