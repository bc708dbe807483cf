"""The installation's rating rules that are configuration, not data (RATING.md §1, §3)."""

from __future__ import annotations

from dataclasses import dataclass

from telecrm.numbering import RewriteRules, rewrite_rules

# Indonesia's rules, as in the seed: "+62..." and "0062..." lose their international
# prefix, a national "08..." becomes "628...".
DEFAULT_REWRITE_RULES: tuple[tuple[str, str], ...] = (("+", ""), ("00", ""), ("0", "62"))
DEFAULT_MIN_NUMBER_LENGTH = 7
DEFAULT_ANSWERED_DISPOSITIONS: tuple[str, ...] = ("ANSWERED",)


@dataclass(frozen=True)
class RatingPolicy:
    """``rewrite_rules``: the installation's, used for a contract that has none of its
    own. ``min_number_length``: a shorter cleaned number is an internal call.
    ``answered_dispositions``: the dispositions (upper case) of calls that cost money."""

    rewrite_rules: RewriteRules = DEFAULT_REWRITE_RULES
    min_number_length: int = DEFAULT_MIN_NUMBER_LENGTH
    answered_dispositions: tuple[str, ...] = DEFAULT_ANSWERED_DISPOSITIONS

    def __post_init__(self) -> None:
        object.__setattr__(self, "rewrite_rules", rewrite_rules(self.rewrite_rules))
        if self.min_number_length < 1:
            raise ValueError("min_number_length must be at least 1")
        answered = tuple(d.strip().upper() for d in self.answered_dispositions)
        object.__setattr__(self, "answered_dispositions", answered)
