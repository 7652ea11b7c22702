"""Booking references and secret tokens.

A reference is short enough to read over the phone, random (not sequential, not
enumerable), and drawn from an alphabet without look-alike characters. A secret token
carries at least 128 bits and is stored only as its SHA-256 hash.
"""
from __future__ import annotations

import hashlib
import secrets

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
REFERENCE_LENGTH = 8


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def normalise_reference(text: str) -> str:
    """Accept what people type: lower case, spaces and dashes."""
    return "".join(ch for ch in text.upper() if ch.isalnum())[:REFERENCE_LENGTH * 2]


PASS_CODE_LENGTH = 26  # 26 symbols of 31: about 128 bits


def new_pass_code() -> str:
    """The opaque code in a booking's QR pass: random, unguessable, meaningless alone."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(PASS_CODE_LENGTH))


def normalise_pass_code(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())[:PASS_CODE_LENGTH * 2]


def new_secret() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
