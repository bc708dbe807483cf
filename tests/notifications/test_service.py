from __future__ import annotations

import logging

import pytest

from telecrm.config import Settings
from telecrm.notifications.report import RunReport
from telecrm.notifications.service import notify
from tests.loopback import smtp_receiver, webhook_receiver


def _problem_report() -> RunReport:
    return RunReport(
        kind="fetch",
        subject="from pbx-jakarta",
        ok=True,
        counts={"imported": 98, "invalid": 2},
        examples=[
            {"cdr_id": 7, "call_id": "1700000000.7", "reasons": "billsec_exceeds_duration"},
            {"cdr_id": 9, "call_id": "1700000000.9", "reasons": "missing_dst, end_before_start"},
        ],
    )


def test_report_reaches_the_webhook_and_the_mailbox_once(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with webhook_receiver() as hook, smtp_receiver() as mailbox:
        configured = settings.model_copy(
            update={
                "notify_webhook_url": hook.url,
                "smtp_host": "127.0.0.1",
                "smtp_port": mailbox.port,
                "smtp_security": "none",
                "smtp_from": "telecrm@example.net",
                "smtp_to": ["noc@example.net", "billing@example.net"],
            }
        )
        with caplog.at_level(logging.INFO, logger="telecrm.notifications"):
            delivered = notify(_problem_report(), configured)

    assert delivered == ["webhook", "email"]
    assert len(hook.posts) == 1
    assert hook.content_types == ["application/json"]
    post = hook.posts[0]
    assert post["counts"] == {"imported": 98, "invalid": 2}
    assert [example["cdr_id"] for example in post["examples"]] == [7, 9]
    assert post["title"] == "telecrm fetch from pbx-jakarta: problems"

    assert len(mailbox.messages) == 1
    assert mailbox.envelopes == [
        ("telecrm@example.net", ["noc@example.net", "billing@example.net"])
    ]
    message = mailbox.messages[0]
    assert message["Subject"] == "telecrm fetch from pbx-jakarta: problems"
    body = message.get_payload(decode=True).decode()
    assert "invalid: 2" in body
    assert "missing_dst, end_before_start" in body
    assert any("problems" in record.getMessage() for record in caplog.records)


def test_a_clean_run_is_only_logged(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with webhook_receiver() as hook:
        configured = settings.model_copy(update={"notify_webhook_url": hook.url})
        with caplog.at_level(logging.INFO, logger="telecrm.notifications"):
            delivered = notify(
                RunReport(kind="sync", subject="to HubSpot", ok=True, counts={"synced": 5}),
                configured,
            )
    assert delivered == []
    assert hook.posts == []
    assert "telecrm sync to HubSpot: ok" in caplog.text


def test_a_failed_run_says_its_error(settings: Settings) -> None:
    with webhook_receiver() as hook:
        configured = settings.model_copy(update={"notify_webhook_url": hook.url})
        report = RunReport(
            kind="fetch", subject="from pbx-db", ok=False, error="connection refused, 4 tries"
        )
        assert notify(report, configured) == ["webhook"]
    assert hook.posts[0]["ok"] is False
    assert hook.posts[0]["error"] == "connection refused, 4 tries"
    assert hook.posts[0]["title"] == "telecrm fetch from pbx-db: FAILED"


def test_a_broken_channel_is_logged_and_the_others_still_get_the_report(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with webhook_receiver() as hook, smtp_receiver() as mailbox:
        hook.status = 500
        configured = settings.model_copy(
            update={
                "notify_webhook_url": hook.url,
                "smtp_host": "127.0.0.1",
                "smtp_port": mailbox.port,
                "smtp_security": "none",
                "smtp_to": ["noc@example.net"],
            }
        )
        delivered = notify(_problem_report(), configured)
    assert delivered == ["email"]
    assert len(mailbox.messages) == 1
    assert "not sent by webhook" in caplog.text


def test_no_channel_configured_means_log_only(settings: Settings) -> None:
    assert settings.notify_webhook_url is None and settings.smtp_host is None
    assert notify(_problem_report(), settings) == []
