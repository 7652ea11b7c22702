"""Error answers for the whole app: the error page for people, the API's one JSON error shape
under /api/ (``{"error": {"code", "message"}}``). Registered once by :func:`register`."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from booking.web.responses import error_page_or_json

#: (code, message) of HTTP errors without a handler of their own below.
HTTP_ERRORS = {
    400: ("bad_request", _l("请求无效。")),
    405: ("method_not_allowed", _l("该地址不支持此请求方法。")),
    415: ("unsupported_media_type", _l("请以 application/json 格式发送请求内容。")),
}


def _csrf_error(error):
    # JSON under /api/ too: the staff API is cookie-authenticated.
    return error_page_or_json(400, "csrf_failed", _("页面已过期或请求无效，请刷新后重试。"))


def _not_found(error):
    return error_page_or_json(404, "not_found", _("未找到。"), page_message=_("页面不存在。"))


def _forbidden(error):
    return error_page_or_json(403, "forbidden", _("您没有访问此页面的权限。"))


def _too_many(error):
    return error_page_or_json(429, "rate_limited", _("请求过于频繁，请稍后再试。"))


def _upload_too_large(error):
    """Bodies over MAX_CONTENT_LENGTH (large attendee files or letters) get a page, not a
    bare 413."""
    limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    return error_page_or_json(413, "payload_too_large", _("请求内容过大。"), page_message=_(
        "上传的内容过大（上限 %(mb)s MB）。名单文件请只保留姓名一列，介绍信请压缩或降低扫描分辨率后再上传。",
        mb=limit))


def _server_error(error):
    return error_page_or_json(500, "server_error", _("服务器出错，您的操作未保存，请稍后重试。"))


def _other_http_error(error: HTTPException):
    """JSON for the remaining HTTP errors under /api/; Werkzeug's own page elsewhere."""
    if not request.path.startswith("/api/"):
        return error
    code, message = HTTP_ERRORS.get(error.code, HTTP_ERRORS[400])
    status = error.code if error.code and 400 <= error.code < 500 else 400
    response = error_page_or_json(status, code, str(message))
    if error.code == 405 and isinstance(error.valid_methods, (list, tuple, set)):
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(403, _forbidden)
    app.register_error_handler(429, _too_many)
    app.register_error_handler(413, _upload_too_large)
    app.register_error_handler(500, _server_error)
    app.register_error_handler(HTTPException, _other_http_error)
