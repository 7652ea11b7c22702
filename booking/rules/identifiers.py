"""Checks and masks for the identifiers people type: credit codes and mobile numbers."""
from __future__ import annotations

import re

# GB 32100-2015: 18 characters from 31 symbols (no I, O, Z, S, V); the last is a check digit.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
#: What people put between the digits of a phone number, dropped before checking it.
PHONE_SEPARATOR = r"[\s\-()]"


def credit_code_check_digit(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    code = code.strip().upper()
    if len(code) != 18 or any(ch not in CREDIT_CODE_ALPHABET for ch in code):
        return False
    return credit_code_check_digit(code[:17]) == code[17]


def normalise_phone(phone: str) -> str:
    """Strip spaces, dashes and a +86 / 86 prefix."""
    digits = re.sub(PHONE_SEPARATOR, "", phone or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def is_mainland_mobile(phone: str) -> bool:
    return bool(MOBILE_PATTERN.match(normalise_phone(phone)))


def mask_phone(phone: str) -> str:
    """138****1234: how a phone number is shown to anyone but staff."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    """张*伟 / 李* / A*** M*****: enough to recognise, not enough to identify."""
    name = name.strip()
    if not name:
        return name
    if " " in name:
        return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())
    chars = list(name)
    if len(chars) == 1:
        return chars[0]
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]
