"""Building blocks of the OpenAPI document, shared by its public and staff halves.

Patterns and bounds come from the code that enforces them (:mod:`booking.rules.identifiers`,
:mod:`.validation`), so the document is exactly as strict as the real checks.
"""
from __future__ import annotations

import re

from booking.api.v1.validation import EMAIL_PATTERN
from booking.rules.identifiers import CREDIT_CODE_ALPHABET, MOBILE_PATTERN, PHONE_SEPARATOR


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema_name: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": ref(schema_name)}}}


def error_content(description: str) -> dict:
    return json_content("Error", description)


def _mobile_input_pattern() -> str:
    """The mobile rule after :func:`~booking.rules.identifiers.normalise_phone`: separators
    anywhere, an optional +86 or 86 prefix, then ``1[3-9]`` and nine more digits."""
    sep = f"{PHONE_SEPARATOR}*"
    body = MOBILE_PATTERN.pattern.removeprefix("^").removesuffix("$")
    assert body == r"1[3-9]\d{9}", "the mobile rule changed: rebuild its JSON pattern"
    digits = f"1{sep}[3-9](?:{sep}[0-9]){{9}}"
    return f"^{sep}(?:\\+{sep}8{sep}6{sep}|8{sep}6{sep})?{digits}{sep}$"


def _credit_code_input_pattern() -> str:
    """18 symbols of the GB 32100 alphabet in either case, blanks around; or only blanks."""
    symbols = "".join(sorted(set(CREDIT_CODE_ALPHABET + CREDIT_CODE_ALPHABET.lower())))
    return f"^\\s*(?:[{re.escape(symbols)}]{{18}})?\\s*$"


MOBILE_INPUT = _mobile_input_pattern()
CREDIT_CODE_INPUT = _credit_code_input_pattern()
EMAIL_INPUT = "^\\s*(?:" + EMAIL_PATTERN.pattern.removeprefix("^").removesuffix("$") + ")?\\s*$"
#: A required text: the API trims and refuses what is blank.
NOT_BLANK = "\\S"

OFFSET = "+08:00"
DATE_TIME = {"type": "string", "format": "date-time",
             "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$",
             "description": "ISO 8601 to the second at the venue's offset (Asia/Shanghai, "
             "+08:00)."}
DATE_TIME_OR_NULL = {**DATE_TIME, "type": ["string", "null"]}
REFERENCE = {"type": "string", "pattern": "^[A-HJ-NP-Z2-9]{8}$",
             "description": "Booking reference: 8 characters without look-alikes."}
