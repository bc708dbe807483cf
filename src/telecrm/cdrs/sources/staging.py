"""Pushed CDRs: a post is checked as far as that is cheap, staged as it came and
answered 202; a drain imports the staged posts in batches (in the server process,
``telecrm cdr sources drain``, the worker, a fetch of the push source).

A 202 means the post is committed in ``cdr_push_staging``; the drain that imports it
deletes it in the same transaction, so each post is imported once whatever crashes
when. What only the import can judge (a field that is no number) becomes a reject,
with its line within its post, as a file's bad line does."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy.orm import Session

from telecrm.audit.service import ACTOR_KEY, set_actor
from telecrm.cdrs.imports import repository as cdr_repository
from telecrm.cdrs.imports.service import MAX_REJECT_RAW
from telecrm.cdrs.sources import importing, repository, service
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSourceType, StagedPush
from telecrm.cdrs.sources.push import Pushed, unwrap
from telecrm.cdrs.sources.schemas import PushAccepted
from telecrm.config import Settings
from telecrm.errors import SourceDisabled, SourceNotPush, ValidationFailed


def accept_push(
    session: Session, source_name: str, body: bytes, content_type: str, actor: str
) -> PushAccepted:
    """Refuse at once what is wrong with the post as a whole (no such source, not a
    push source, disabled, not a document a PBX posts); stage the rest."""
    target = repository.push_target(session, source_name)
    if target is None:
        raise service.unknown_source(session, source_name)
    source_type, enabled = target
    if source_type != CdrSourceType.PUSH:
        raise SourceNotPush(f"CDR source {source_name!r} is a {source_type.value} source, not push")
    if not enabled:
        raise SourceDisabled(f"CDR source {source_name!r} is disabled")
    pushed = unwrap(body, content_type)
    media_type = content_type.split(";")[0].strip().lower()  # all the drain reads of it
    staged_id = repository.stage_push(session, source_name, actor, media_type, body)
    return PushAccepted(staged_id=staged_id, calls=len(pushed.documents))


@dataclass
class DrainCounts:
    posts: int = 0
    calls: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    runs: int = 0

    def add(self, other: DrainCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _reject_posts(
    session: Session, posts: Sequence[StagedPush], reason: str, counts: DrainCounts
) -> None:
    """Posts that cannot be imported whole, kept as rejects of line 0 with their text."""
    cdr_repository.add_rejects(
        session,
        None,
        [
            {
                "import_id": None,
                "source": post.source,
                "file_name": None,
                "line_number": 0,
                "reason": reason,
                "raw": post.body.decode("utf-8", errors="replace")[:MAX_REJECT_RAW].replace(
                    "\x00", "\\x00"
                ),
                "raw_key": hashlib.sha256(post.body).hexdigest(),
            }
            for post in posts
        ],
    )
    counts.rejected += len(posts)


def _import_group(
    session: Session, settings: Settings, name: str, posts: Sequence[StagedPush]
) -> DrainCounts:
    """One source's posts from one actor: one batch, one run recorded."""
    counts = DrainCounts(posts=len(posts))
    source = repository.by_name(session, name)
    if source is None or source.type != CdrSourceType.PUSH:
        _reject_posts(session, posts, f"CDR source {name!r} is no longer a push source", counts)
        return counts
    readable: list[Pushed] = []
    for post in posts:
        try:
            readable.append(unwrap(post.body, post.content_type))
        except ValidationFailed as exc:  # accepted by an older rule: kept, not lost
            _reject_posts(session, [post], exc.message, counts)
    run = CdrFetchRun(source_id=source.id, trigger="push", attempts=1)
    repository.add(session, run)
    found = importing.ImportCounts()
    zone = str(source.params.get("timezone") or settings.timezone)
    importing.import_pushed(session, readable, source.name, zone, found)
    found.rejected += counts.rejected
    service.record_run(source, run, found, None)
    counts.calls, counts.imported = found.rows, found.imported
    counts.duplicates, counts.rejected, counts.runs = found.duplicates, found.rejected, 1
    return counts


def drain_pushed(
    session: Session, settings: Settings, limit: int, source: str | None = None
) -> DrainCounts:
    """Import up to ``limit`` of the oldest staged posts (of one source, if given) and
    delete them, in the caller's transaction. Each source's posts from each actor are
    one batch and one run; the audit trail names the actor who posted them."""
    posts = repository.claim_staged(session, limit, source)
    counts = DrainCounts()
    actor_before = session.info.get(ACTOR_KEY)
    try:
        ordered = sorted(posts, key=lambda post: (post.source, post.actor, post.id))
        for (name, actor), group in groupby(ordered, key=lambda post: (post.source, post.actor)):
            set_actor(session, actor)
            counts.add(_import_group(session, settings, name, list(group)))
            session.flush()  # the audit trail of the group, under its actor
    finally:
        session.info[ACTOR_KEY] = actor_before
    if posts:
        repository.delete_staged(session, posts)
    return counts


def staged_posts(session: Session) -> int:
    """How many posts wait to be imported."""
    return repository.staged_count(session)


def drain_all(
    scope: Callable[[], AbstractContextManager[Session]],
    settings: Settings,
    source: str | None = None,
    on_batch: Callable[[DrainCounts], None] | None = None,
) -> DrainCounts:
    """Drain until nothing is staged, each batch in its own unit of work from
    ``scope`` (a crash keeps every batch before it, and its own posts stay staged)."""
    total = DrainCounts()
    while True:
        with scope() as session:
            counts = drain_pushed(session, settings, settings.push_drain_batch, source)
        total.add(counts)
        if on_batch is not None and counts.posts:
            on_batch(total)
        if counts.posts < settings.push_drain_batch:
            return total
