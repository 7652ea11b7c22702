"""Language choice and bilingual data. Simplified Chinese is the default; English is second."""
from __future__ import annotations

from flask import has_request_context, request
from flask_babel import get_locale

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the choice is remembered for a year


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs without translating it (gettext's ``N_``): for source
    text that is also used as it stands, such as words printed in Chinese on certificates."""
    return message


def select_locale() -> str:
    """The visitor's chosen language (remembered in a cookie), else Chinese."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def localized(obj, attr: str, language: str | None = None) -> str:
    """``obj.attr_en`` in English (the reader's language, or ``language`` when given) when it
    is filled in, else the Chinese ``obj.attr``."""
    if (language or current_language()) == "en":
        english = getattr(obj, f"{attr}_en", "")
        if english:
            return english
    return getattr(obj, attr)


def localized_lines(obj, attr: str, language: str | None = None) -> list[str]:
    """The non-blank lines of a one-item-per-line text (modules, equipment), localized."""
    return [line.strip() for line in localized(obj, attr, language).splitlines() if line.strip()]
