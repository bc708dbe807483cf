"""Phone numbers in E.164 (+6281234567890): the one form in which contacts store
them, so that a call's number finds its contact by plain equality."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, default_region: str) -> str:
    """``raw`` in any usual notation; without a +country code it is a number of
    ``default_region`` (0812-3456-7890 in ID is +6281234567890). Numbers that
    cannot exist (by the numbering plan) are refused, not guessed at."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(
            f"{raw!r} is not a valid phone number (read as +{number.country_code} "
            f"{number.national_number}; numbers without +country are {default_region})"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
