"""The decimal places of the amounts that rating, the rates and the stored calls share.
A plain module of the kernel: the pure rating engine and the models both read it, and
it imports nothing (the ``Money`` column type that stores these is in ``db``)."""

from __future__ import annotations

RATE_SCALE = 8  # decimal places of a rate's billing_rate and connect_fee
COST_SCALE = 6  # RATING.md §4: a call's cost is rounded once, to 6 decimal places
