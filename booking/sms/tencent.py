"""Tencent Cloud SMS (腾讯云短信), API 2021-01-11 ``SendSms``, through its SDK.

The SDK signs with TC3-HMAC-SHA256; ``SMS_ENDPOINT``/``SMS_PROTOCOL`` point it elsewhere (the
tests' local server). A call that reaches the API answers per number in ``SendStatusSet``
(``Code`` "Ok" or an error code); a call refused as a whole (signature, throttled request,
internal error) raises. Templates number their variables, so they are sent in the order of
:data:`booking.rules.sms_content.TEMPLATE_VARIABLES`.
"""
from __future__ import annotations

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from booking.sms.gateway import GIVE_UP, RETRY, SENT, Outcome, SmsRequest, SmsSettings

DEFAULT_ENDPOINT = "sms.tencentcloudapi.com"
GIVE_UP_CODES = frozenset({
    "InvalidParameterValue.IncorrectPhoneNumber", "InvalidParameterValue.TemplateParameterFormatError",
    "InvalidParameterValue.TemplateParameterLengthLimit", "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
    "InvalidParameterValue.ContentLengthLimit", "InvalidParameterValue.MissingSignatureList",
    "FailedOperation.TemplateIncorrectOrUnapproved", "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.PhoneNumberInBlacklist", "FailedOperation.ContainSensitiveWord",
    "FailedOperation.MissingTemplateToModify", "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    "UnsupportedOperation.UnsupportedRegion", "LimitExceeded.PhoneNumberCountLimit",
})
THROTTLED_PREFIXES = ("LimitExceeded.", "RequestLimitExceeded")


class TencentGateway:
    name = "tencent"

    def __init__(self, settings: SmsSettings):
        self.settings = settings
        http = HttpProfile(endpoint=settings.endpoint or DEFAULT_ENDPOINT,
                           protocol=settings.protocol, reqTimeout=int(settings.timeout) or 1)
        profile = ClientProfile(httpProfile=http)
        self.client = sms_client.SmsClient(
            credential.Credential(settings.access_key_id, settings.access_key_secret),
            settings.region or "ap-guangzhou", profile)

    def send(self, request: SmsRequest) -> Outcome:
        call = models.SendSmsRequest()
        call.PhoneNumberSet = [_e164(request.phone)]
        call.SmsSdkAppId = self.settings.sdk_app_id
        call.SignName = self.settings.sign_name
        call.TemplateId = request.template_code
        call.TemplateParamSet = list(request.params.values())
        call.SessionContext = request.out_id
        try:
            response = self.client.SendSms(call)
        except TencentCloudSDKException as error:
            code = error.get_code() or "Error"
            status = GIVE_UP if code in GIVE_UP_CODES else RETRY
            return Outcome(status, f"tencent {code}: {error.get_message()}"[:500])
        statuses = response.SendStatusSet or []
        if not statuses:
            return Outcome(RETRY, f"tencent: no send status (request {response.RequestId})")
        answer = statuses[0]
        if answer.Code == "Ok":
            return Outcome(SENT, message_id=answer.SerialNo or "")
        detail = f"tencent {answer.Code}: {answer.Message} (request {response.RequestId})"
        return Outcome(GIVE_UP if answer.Code in GIVE_UP_CODES else RETRY, detail)


def _e164(phone: str) -> str:
    """Tencent wants +86 numbers; the booking stores 11 mainland digits."""
    phone = phone.strip()
    return phone if phone.startswith("+") else f"+86{phone}"
