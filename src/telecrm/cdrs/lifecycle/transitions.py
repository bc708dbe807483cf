"""Which status a CDR may move to from which: the one table that the status updates
are built from (``repository`` turns each target into a guarded UPDATE)."""

from __future__ import annotations

from telecrm.cdrs.lifecycle.models import CdrState

TRANSITIONS: dict[CdrState, frozenset[CdrState]] = {
    CdrState.NEW: frozenset({CdrState.VALID, CdrState.INVALID}),
    # validated again (after the rules or the record changed)
    CdrState.INVALID: frozenset({CdrState.VALID}),
    CdrState.VALID: frozenset({CdrState.RATED, CdrState.UNRATED}),
    # re-rating can lose or find a rate
    CdrState.RATED: frozenset({CdrState.UNRATED, CdrState.INVOICED}),
    CdrState.UNRATED: frozenset({CdrState.RATED}),
    # released by an invoice: drafts held calls until migration 0005 took them off
    CdrState.INVOICED: frozenset({CdrState.RATED}),
}


def sources_of(target: CdrState) -> list[str]:
    """The statuses a CDR may be in to move to ``target``."""
    return sorted(source.value for source, targets in TRANSITIONS.items() if target in targets)
