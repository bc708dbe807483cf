"""Whose billing data a caller may see: a customer user only its own contract's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from telecrm.auth.models import Role

if TYPE_CHECKING:  # the auth service (argon2, JWT) is not needed to scope a query
    from telecrm.auth.service import Principal


@dataclass(frozen=True)
class ContractScope:
    """``restricted``: only ``contract_id``'s data (a customer; ``None`` when the
    customer is bound to no contract, who then sees nothing). Otherwise everything."""

    restricted: bool = False
    contract_id: int | None = None

    @classmethod
    def of(cls, principal: Principal) -> ContractScope:
        if principal.role is Role.CUSTOMER:
            user = principal.user
            return cls(restricted=True, contract_id=user.contract_id if user else None)
        return cls()

    def allows(self, contract_id: int | None) -> bool:
        return not self.restricted or (
            self.contract_id is not None and contract_id == self.contract_id
        )


EVERYTHING = ContractScope()
