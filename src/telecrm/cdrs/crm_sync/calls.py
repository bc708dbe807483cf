"""What a CDR becomes in the CRM: a call with its numbers in E.164, its direction,
title and text, its contact and its company."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy.orm import Session

from telecrm.cdrs.crm_sync import repository
from telecrm.cdrs.crm_sync.hubspot_calls import OutgoingCall
from telecrm.cdrs.models import Cdr
from telecrm.config import Settings
from telecrm.contacts.phones import InvalidPhoneNumber, to_e164
from telecrm.rating.reference import clean_number
from telecrm.rating.types import ACCOUNTCODE_BLANKS

# A caller's number with fewer digits is an extension (RATING.md §1's default length).
_MIN_EXTERNAL_DIGITS = 7
_DIGITS = re.compile(r"[0-9]+")
# E.164: a country code (never 0) and at most 15 digits in all.
_E164_DIGITS = re.compile(r"[1-9][0-9]{6,14}")


@lru_cache(maxsize=65_536)
def _e164(number: str, region: str) -> str | None:
    """The number as contacts store it (E.164), read by the numbering plan of
    ``region``; None for an extension or junk. Cached: the same numbers (the office's
    lines, regular customers) come back all day."""
    if "<" in number:  # "Name <number>"
        number = number.split("<")[-1].rstrip(">")
    if sum(character.isdigit() for character in number) < _MIN_EXTERNAL_DIGITS:
        return None
    try:
        return to_e164(number.strip(), region)
    except InvalidPhoneNumber:
        return None


def _called_number(cleaned: str | None, dst: str, settings: Settings) -> str | None:
    """The called number in E.164 from the number cleaned as the rating cleans it
    (RATING.md §1: the country code first, no international prefix): None for an
    extension; by the numbering plan when the rules did not make an E.164 number."""
    if cleaned is not None and _DIGITS.fullmatch(cleaned):
        if len(cleaned) < settings.min_number_length:
            return None  # an extension (RATING.md §1.4), whatever else it looks like
        if _E164_DIGITS.fullmatch(cleaned):
            return f"+{cleaned}"
    return _e164(dst, settings.phone_default_region)


def _called_numbers(
    session: Session, cdrs: Sequence[Cdr], settings: Settings
) -> dict[int, str | None]:
    """Each call's called number in E.164, read as the rating reads it: the cleaned
    number of its rating; for a call not rated yet, its number cleaned now by the same
    rules (its contract's, else the installation's), so that rating it later changes
    nothing. A number the rules do not make an E.164 one falls back to the numbering
    plan of ``phone_default_region``, as a caller's number is read; one the rating
    takes for an extension is none."""
    default_rules = tuple((prefix, new) for prefix, new in settings.rewrite_rules)
    pending = [cdr for cdr in cdrs if cdr.rating is None]
    own_rules = repository.contract_rewrite_rules(session, [cdr.accountcode for cdr in pending])
    numbers: dict[int, str | None] = {}
    for cdr in cdrs:
        if cdr.rating is not None:
            cleaned = cdr.rating.cleaned_number
        else:
            rules = own_rules.get(cdr.accountcode.strip(ACCOUNTCODE_BLANKS))
            cleaned = clean_number(cdr.dst, default_rules if rules is None else rules)
        numbers[cdr.id] = _called_number(cleaned, cdr.dst, settings)
    return numbers


def _direction(src_e164: str | None, dst_e164: str | None) -> str | None:
    """From an extension to the world is outbound, from the world to an extension
    inbound; extension to extension, and trunk to trunk, have no direction."""
    if dst_e164 and not src_e164:
        return "outbound"
    if src_e164 and not dst_e164:
        return "inbound"
    return None


def _title(direction: str | None, src: str, dst: str) -> str:
    if direction == "outbound":
        return f"Outbound call to {dst}"
    if direction == "inbound":
        return f"Inbound call from {src}"
    return f"Call from {src} to {dst}"


def _body(cdr: Cdr) -> str:
    parts = [f"{cdr.disposition}, talk time {cdr.billsec} s of {cdr.duration} s"]
    if cdr.accountcode:
        parts.append(f"account {cdr.accountcode}")
    if cdr.call_id:
        parts.append(f"PBX call id {cdr.call_id}")
    return "; ".join(parts) + " (telecrm)"


def build_calls(session: Session, cdrs: Sequence[Cdr], settings: Settings) -> list[OutgoingCall]:
    """The calls of these CDRs, each with its contact (the one whose phone is the
    other party's number) and its company (the one of the CDR's contract)."""
    called = _called_numbers(session, cdrs, settings)
    region = settings.phone_default_region
    numbers = {cdr.id: (_e164(cdr.src, region), called[cdr.id]) for cdr in cdrs}
    contacts = repository.contact_crm_ids(
        session, [number for pair in numbers.values() for number in pair if number]
    )
    companies = repository.company_crm_ids(
        session, [cdr.accountcode for cdr in cdrs if cdr.accountcode]
    )
    calls = []
    for cdr in cdrs:
        src, dst = numbers[cdr.id]
        direction = _direction(src, dst)
        other_party = {"outbound": [dst], "inbound": [src]}.get(direction or "", [dst, src])
        contact = next((contacts[n] for n in other_party if n and n in contacts), None)
        from_number, to_number = src or cdr.src, dst or cdr.dst
        calls.append(
            OutgoingCall(
                key=cdr.unique_key,
                started_at=cdr.start_time,
                from_number=from_number,
                to_number=to_number,
                talk_seconds=cdr.billsec,
                disposition=cdr.disposition,
                direction=direction,
                title=_title(direction, from_number, to_number),
                body=_body(cdr),
                contact_crm_id=contact,
                company_crm_id=companies.get(cdr.accountcode),
            )
        )
    return calls
