"""The shared SDK conformance scenario (sdk/conformance/scenario.json), run
through the public API against a real izin started by
sdk/conformance/with-server.sh (which sets IZIN_GRPC_TARGET and friends).

Without those variables the steps are skipped, or fail when CI=true.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import grpc
import pytest

import izin

pytestmark = pytest.mark.conformance

ENV = ("IZIN_GRPC_TARGET", "IZIN_API_KEY", "IZIN_ADMIN_KEY", "IZIN_SCENARIO")
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "conformance" / "scenario.json"
SCENARIO: Dict[str, Any] = json.loads(
    Path(os.environ.get("IZIN_SCENARIO") or DEFAULT_SCENARIO).read_text(encoding="utf-8")
)
STEPS: List[Dict[str, Any]] = SCENARIO["steps"]


class State:
    def __init__(self, client: izin.Client, admin: izin.Client) -> None:
        self.client = client
        self.admin = admin
        self.verification: Optional[izin.Verification] = None
        self.code: Optional[str] = None
        self.failed: Optional[str] = None


@pytest.fixture(scope="module")
def state() -> Iterator[State]:
    missing = [name for name in ENV if not os.environ.get(name)]
    if missing:
        message = (
            f"conformance: {', '.join(missing)} not set; run it through sdk/conformance/with-server.sh "
            "(sdk/python/test.sh does)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    client = izin.Client(os.environ["IZIN_GRPC_TARGET"], os.environ["IZIN_API_KEY"], insecure=True)
    admin = client.with_api_key(os.environ["IZIN_ADMIN_KEY"])
    yield State(client, admin)
    client.close()


def test_scenario_version() -> None:
    assert SCENARIO["version"] == 1, "scenario.json changed its format; update this test"


@pytest.mark.parametrize("step", STEPS, ids=[s["name"] for s in STEPS])
def test_step(state: State, step: Dict[str, Any]) -> None:
    if state.failed:
        pytest.fail(f"an earlier step failed: {state.failed}")
    try:
        run_step(state, step)
    except BaseException:
        state.failed = step["name"]
        raise


def run_step(state: State, step: Dict[str, Any]) -> None:
    op = step["op"]
    client = state.client.with_api_key(step["api_key"]) if "api_key" in step else state.client
    recipient = step.get("recipient", SCENARIO["recipient"])
    expect: Dict[str, Any] = step.get("expect", {})
    expect_error: Optional[Dict[str, Any]] = step.get("expect_error")

    if op == "read_code":
        read_code(state, recipient, expect)
        return

    try:
        if op == "check":
            result = client.check(recipient)
            if "normalized_recipient" in expect:
                assert result.recipient == expect["normalized_recipient"]
            if "results" in expect:
                assert {t.name: s.name for t, s in result.statuses.items()} == expect["results"]
        elif op == "start_sms_verification":
            verification = client.start_sms_verification(recipient, step["types"])
            state.verification = verification
            assert verification.id
            check_verification(verification, expect)
            assert sorted(t.name for t in verification.types) == sorted(step["types"])
        elif op == "submit_code":
            assert state.verification is not None and state.code is not None, "no verification or code yet"
            code = state.code if step["code"] == "right" else wrong_code(state.code)
            submitted = client.submit_code(state.verification.id, code)
            check_verification(submitted.verification, expect)
        elif op == "reject":
            change = client.reject(recipient, step["types"])
            rejected = {r.type.name: r.status.name for r in change.results}
            for t in step["types"]:
                assert rejected.get(t) == "REJECTED", change
        else:
            pytest.fail(f"unknown op {op!r}: this SDK's conformance test needs updating")
    except izin.IzinError as err:
        if expect_error is None:
            raise
        check_error(err, expect_error)
        return
    assert expect_error is None, f"expected {expect_error}, but the call succeeded"


def read_code(state: State, recipient: str, expect: Dict[str, Any]) -> None:
    """The newest ACTIVATION message to the recipient, read with the admin key;
    the body starts with the code."""
    page = state.admin.list_messages(recipient)
    activations = [m for m in page if m.kind is izin.MessageKind.ACTIVATION]
    assert activations, f"no activation message for {recipient}: {page.items}"
    message = activations[0]  # newest first
    if state.verification is not None:
        assert message.verification_id == state.verification.id
    for text in expect.get("body_contains", []):
        assert text in message.body, message.body
    match = re.match(r"\d+", message.body)
    assert match, f"the body does not start with a code: {message.body!r}"
    code = match.group(0)
    assert re.fullmatch(expect.get("code_pattern", r"^[0-9]{6}$"), code), code
    state.code = code


def wrong_code(right: str) -> str:
    """A code of the same length that is not the right one."""
    return str((int(right) + 1) % 10 ** len(right)).zfill(len(right))


def check_verification(v: izin.Verification, expect: Dict[str, Any]) -> None:
    if "status" in expect:
        assert v.status.name == expect["status"], v
    if "attempts_left" in expect:
        assert v.attempts_left == expect["attempts_left"], v


def check_error(err: izin.IzinError, expect: Dict[str, Any]) -> None:
    assert err.code == getattr(grpc.StatusCode, expect["code"]), err
    if "field" in expect:
        assert err.field == expect["field"], err.violations
    if "reason" in expect:
        assert err.reason == expect["reason"], err
    for key, value in expect.get("metadata", {}).items():
        assert err.metadata.get(key) == value, err.metadata


def test_batch_and_stream_against_the_server(state: State) -> None:
    """Beyond the scenario: chunked batches and the bidirectional stream, with a
    malformed recipient answered in its own item."""
    recipients = [f"+90 533 {i:07d}" for i in range(2500)] + ["12ab", SCENARIO["recipient"]]
    batch = state.client.batch_check(recipients, types=["SMS"])
    stream = list(state.client.stream_check(iter(recipients), types=["SMS"], window=300))
    for items in (batch, stream):
        assert [i.request.recipient for i in items] == recipients
        assert all(i.ok for i in items[:2500])
        assert items[0].result is not None and items[0].result.recipient == "+905330000000"
        assert all(i.result is not None and i.result.status("SMS") is izin.ConsentStatus.NONE for i in items[:2500])
        bad = items[2500].error
        assert bad is not None and bad.code is grpc.StatusCode.INVALID_ARGUMENT and bad.field == "recipient"
        last = items[2501].result
        assert last is not None and last.statuses == {izin.ConsentType.SMS: izin.ConsentStatus.REJECTED}
