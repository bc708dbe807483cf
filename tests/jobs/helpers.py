from __future__ import annotations

import uuid

from telecrm.jobs.dispatch import Dispatcher
from telecrm.jobs.runner import Arguments


class QueueOnly(Dispatcher):
    """Jobs are queued (their row written) and left for workers that are not there."""

    def start(
        self,
        kind: str,
        job_id: uuid.UUID,
        arguments: Arguments,
        trigger: str,
        parent_id: uuid.UUID | None = None,
        background: bool = False,
    ) -> None:
        return None
