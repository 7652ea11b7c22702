"""What a text message says: the variables of each kind's pre-approved template.

SMS providers in mainland China send only templates approved in advance under a registered
signature; a message is a template code plus its variables. This module is the contract
with those templates (the README lists it for whoever registers them):

* each kind has a fixed, ordered set of variables (:data:`TEMPLATE_VARIABLES`): Alibaba Cloud
  fills ``${ref}``-style names, Tencent Cloud fills ``{1}``, ``{2}`` … in this order;
* a variable is plain text of at most :data:`MAX_VARIABLE_LENGTH` characters (providers
  reject longer values, links and most symbols in variables), so free text is cut;
* no secret ever goes in a variable: no manage or offer token, no link. Templates carry the
  museum's recovery page (``/find``) as fixed text instead, and the museum's phone.
"""
from __future__ import annotations

import json
import re

#: Variables per message kind, in the order Tencent Cloud templates number them.
TEMPLATE_VARIABLES: dict[str, tuple[str, ...]] = {
    "received": ("ref", "date", "time", "venue"),
    "confirmed": ("ref", "date", "time", "venue"),
    "declined": ("ref", "date", "reason"),
    "cancelled": ("ref", "date", "time"),
    "changed": ("ref", "date", "time"),
    "moved": ("ref", "date", "time", "venue"),
    "cancelled_by_museum": ("ref", "date", "time", "reason"),
    "reminder": ("ref", "date", "time", "venue"),
    "certificates_ready": ("ref", "date"),
    "waitlist_offer": ("date", "time", "deadline"),
    "waitlist_closed": ("date", "time", "reason"),
}
SMS_KINDS = tuple(TEMPLATE_VARIABLES)
#: The tightest limit the providers put on one variable of a notification template.
MAX_VARIABLE_LENGTH = 15
#: Characters providers refuse in variables (links would need approval as fixed text).
_UNSAFE = re.compile(r"[\s【】\[\]{}<>$\\]+")


def clean_variable(value: object, limit: int = MAX_VARIABLE_LENGTH) -> str:
    """``value`` as one template variable: one line, no brackets or URL-ish symbols, cut to
    ``limit`` characters (a cut reason reads "…原因的开头" rather than failing the send)."""
    text = _UNSAFE.sub(" ", str(value or "")).strip()
    text = re.sub(r"https?:/*\S*", "", text).strip() or "-"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def template_params(kind: str, values: dict[str, object]) -> dict[str, str]:
    """The ordered variables of ``kind``'s template, taken from ``values`` and cleaned."""
    if kind not in TEMPLATE_VARIABLES:
        raise ValueError(f"no SMS template for message kind {kind!r}")
    return {name: clean_variable(values.get(name)) for name in TEMPLATE_VARIABLES[kind]}


def encode_params(params: dict[str, str]) -> str:
    return json.dumps(params, ensure_ascii=False)


def decode_params(text: str) -> dict[str, str]:
    return json.loads(text or "{}")


def is_mainland_mobile(phone: str | None) -> bool:
    return bool(re.fullmatch(r"1[3-9]\d{9}", (phone or "").strip()))
