from __future__ import annotations

import pytest

from telecrm.contacts.phones import InvalidPhoneNumber, to_e164


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("0812-3456-7890", "ID", "+6281234567890"),
        ("(021) 5794 8000", "ID", "+622157948000"),
        ("+62 21 5794 8000", "US", "+622157948000"),
        ("6281234567890", "ID", "+6281234567890"),
        ("+44 20 7946 0958", "ID", "+442079460958"),
        ("415-555-2671", "US", "+14155552671"),
    ],
)
def test_numbers_in_usual_notations_become_e164(raw: str, region: str, e164: str) -> None:
    assert to_e164(raw, region) == e164


@pytest.mark.parametrize("raw", ["12345", "not a number", "+62 0", "+999 1234 5678"])
def test_numbers_that_cannot_exist_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        to_e164(raw, "ID")
