"""Decoding gRPC statuses and their google.rpc details into IzinError."""

from __future__ import annotations

import pickle
from typing import List

import grpc
import pytest
from google.rpc import status_pb2

import izin
from fakes import Failure, FakeServer, bad_request, error_info, item_error, retry_info


def test_wrong_code_error_has_field_reason_and_metadata(client: izin.Client) -> None:
    with pytest.raises(izin.IzinError) as caught:
        client.submit_code("00000000-0000-4000-8000-000000000001", "654321")
    err = caught.value
    assert err.code is grpc.StatusCode.INVALID_ARGUMENT
    assert err.message == "the code does not match"
    assert err.field == "code"
    assert err.violations == (izin.FieldViolation("code", "code is wrong"),)
    assert err.reason == "ERROR_REASON_INVALID_CODE"
    assert err.reason == izin.ErrorReason.INVALID_CODE
    assert err.domain == "izin.dev"
    assert err.metadata == {"attempts_left": "2"}
    assert err.attempts_left == 2
    assert err.retry_after is None
    assert err.status is not None and len(err.details) == 2
    assert "INVALID_ARGUMENT" in str(err) and "ERROR_REASON_INVALID_CODE" in str(err)


def test_retry_info_becomes_retry_after(server: FakeServer, client: izin.Client) -> None:
    server.rec.fail(
        "CheckConsent",
        Failure(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "slow down",
            [error_info("ERROR_REASON_RATE_LIMITED"), retry_info(60.5)],
        ),
    )
    with pytest.raises(izin.IzinError) as caught:
        client.check("+905321234567")
    assert caught.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert caught.value.retry_after == pytest.approx(60.5)
    assert caught.value.reason == izin.ErrorReason.RATE_LIMITED


def test_error_without_details(server: FakeServer, client: izin.Client) -> None:
    server.rec.fail("CheckConsent", Failure(grpc.StatusCode.PERMISSION_DENIED, "no"))
    with pytest.raises(izin.IzinError) as caught:
        client.check("+905321234567")
    err = caught.value
    assert err.code is grpc.StatusCode.PERMISSION_DENIED
    assert (err.message, err.field, err.reason, err.metadata, err.retry_after) == ("no", "", "", {}, None)
    assert err.status is None and err.details == ()


def test_details_with_another_code_are_ignored(server: FakeServer, client: izin.Client) -> None:
    server.rec.fail(
        "CheckConsent",
        Failure(
            grpc.StatusCode.INTERNAL, "boom", [bad_request("recipient")], status_code=grpc.StatusCode.INVALID_ARGUMENT
        ),
    )
    with pytest.raises(izin.IzinError) as caught:
        client.check("+905321234567")
    assert caught.value.code is grpc.StatusCode.INTERNAL
    assert caught.value.field == ""


def test_unauthenticated_is_not_retried(server: FakeServer, client: izin.Client) -> None:
    server.rec.fail(
        "CheckConsent",
        Failure(grpc.StatusCode.UNAUTHENTICATED, "bad key", [error_info("ERROR_REASON_INVALID_API_KEY")]),
    )
    with pytest.raises(izin.IzinError) as caught:
        client.check("+905321234567")
    assert caught.value.code is grpc.StatusCode.UNAUTHENTICATED
    assert len(server.rec.calls_to("CheckConsent")) == 1


def test_from_status_of_a_batch_item() -> None:
    err = izin.IzinError.from_status(item_error("checks[3].recipient"))
    assert err.code is grpc.StatusCode.INVALID_ARGUMENT
    assert err.field == "checks[3].recipient"
    assert izin.IzinError.from_status(status_pb2.Status(code=999)).code is grpc.StatusCode.UNKNOWN


def test_error_survives_pickling() -> None:
    original = izin.IzinError.from_status(
        Failure(
            grpc.StatusCode.INVALID_ARGUMENT,
            "wrong",
            [bad_request("code"), error_info("ERROR_REASON_INVALID_CODE", attempts_left="1"), retry_info(2)],
        ).status()
    )
    copy = pickle.loads(pickle.dumps(original))
    assert isinstance(copy, izin.IzinError)
    for attr in ("code", "message", "violations", "reason", "domain", "metadata", "retry_after", "details"):
        assert getattr(copy, attr) == getattr(original, attr), attr
    assert str(copy) == str(original)


def test_deadline_exceeded(server: FakeServer, client: izin.Client, sleeps: List[float]) -> None:
    server.rec.delays["CheckConsent"] = 1.0
    with pytest.raises(izin.IzinError) as caught:
        client.check("+905321234567", timeout=0.1)
    assert caught.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert sleeps == []


def test_connection_refused_is_unavailable(sleeps: List[float]) -> None:
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with izin.Client(f"127.0.0.1:{port}", insecure=True, retry=izin.RetryPolicy(max_attempts=2)) as c:
        c._sleep = sleeps.append
        with pytest.raises(izin.IzinError) as caught:
            c.check("+905321234567")
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE
    assert len(sleeps) == 1
