"""Value checks shared by the API schemas, the console forms and the services."""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from email_validator import EmailNotValidError, validate_email


def normalise_email(value: str) -> str:
    """Trimmed and lower-cased; emails are unique case-insensitively."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return result.normalized.lower()


def normalise_phone(value: str) -> str:
    """A phone number in E.164 (``+4915112345678``); refuses anything ambiguous."""
    raw = value.strip()
    if not raw.startswith("+"):
        raise ValueError("Phone numbers must be in international E.164 form, starting with +.")
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"Not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones() | {"UTC"})


def check_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError(f"Unknown time zone {value!r}; use an IANA name such as Europe/Berlin.")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError as exc:
        raise ValueError(f"Unknown time zone {value!r}.") from exc
    return value


def check_locale(value: str) -> str:
    try:
        Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"Unknown locale {value!r}; use a code such as en or de_AT.") from exc
    return value


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in _currencies():
        raise ValueError(f"Unknown ISO 4217 currency {value!r}.")
    return code


def http_address_problem(address: str, *, max_length: int,
                         example: str) -> tuple[SplitResult | None, str | None]:
    """An http(s) address a person typed (already stripped): its parts, or what is wrong
    with it in words (``example`` shows a good one)."""
    if not address:
        return None, "An address is required."
    if len(address) > max_length:
        return None, f"At most {max_length:,} characters."
    if any(ch.isspace() or ord(ch) < 32 for ch in address):
        return None, "An address has no spaces."
    try:
        parts = urlsplit(address)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None, example
    return parts, None
