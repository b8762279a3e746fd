"""Retries: backoff with jitter, RetryInfo, and which calls are retried."""

from __future__ import annotations

from typing import List

import grpc
import pytest

import izin
from fakes import Failure, FakeServer, error_info, retry_info

UNAVAILABLE = Failure(grpc.StatusCode.UNAVAILABLE, "try again")


def test_backoff_grows_exponentially_without_jitter() -> None:
    policy = izin.RetryPolicy(initial_backoff=0.1, multiplier=2, max_backoff=1.0, jitter=0)
    assert [policy.backoff(n) for n in range(1, 7)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_backoff_jitter_stays_within_bounds() -> None:
    policy = izin.RetryPolicy(initial_backoff=1.0, multiplier=2, max_backoff=10.0, jitter=0.2)
    assert policy.backoff(1, rand=lambda: 0.0) == pytest.approx(0.8)
    assert policy.backoff(1, rand=lambda: 1.0) == pytest.approx(1.2)
    assert policy.backoff(2, rand=lambda: 0.5) == pytest.approx(2.0)
    assert policy.backoff(10, rand=lambda: 1.0) == pytest.approx(10.0)  # capped
    delays = {policy.backoff(1) for _ in range(50)}
    assert len(delays) > 1 and all(0.8 <= d <= 1.2 for d in delays)


def test_backoff_honors_retry_after() -> None:
    policy = izin.RetryPolicy(initial_backoff=0.1, jitter=0)
    assert policy.backoff(1, retry_after=3.0) == 3.0
    assert policy.backoff(1, retry_after=0.01) == pytest.approx(0.1)


def test_should_retry() -> None:
    policy = izin.RetryPolicy(max_attempts=3, max_retry_after=5)
    assert policy.should_retry(grpc.StatusCode.UNAVAILABLE, 1, None)
    assert policy.should_retry(grpc.StatusCode.RESOURCE_EXHAUSTED, 2, 5.0)
    assert not policy.should_retry(grpc.StatusCode.UNAVAILABLE, 3, None)
    assert not policy.should_retry(grpc.StatusCode.RESOURCE_EXHAUSTED, 1, 6.0)
    assert not policy.should_retry(grpc.StatusCode.INVALID_ARGUMENT, 1, None)
    assert not policy.should_retry(grpc.StatusCode.INTERNAL, 1, None)
    assert not izin.RetryPolicy.disabled().should_retry(grpc.StatusCode.UNAVAILABLE, 1, None)


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"initial_backoff": -1}, {"multiplier": 0.5}, {"jitter": 2}])
def test_policy_rejects_bad_values(kwargs: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        izin.RetryPolicy(**kwargs)


def test_unavailable_is_retried_until_success(server: FakeServer, client: izin.Client, sleeps: List[float]) -> None:
    server.rec.fail("CheckConsent", UNAVAILABLE, UNAVAILABLE)
    result = client.check("+905321234567", ["SMS"])
    assert result.status("SMS") is izin.ConsentStatus.GRANTED
    assert len(server.rec.calls_to("CheckConsent")) == 3
    assert len(sleeps) == 2
    assert 0.08 <= sleeps[0] <= 0.12 and 0.16 <= sleeps[1] <= 0.24  # default policy: 0.1s, 0.2s ±20%


def test_gives_up_after_max_attempts(server: FakeServer, client: izin.Client, sleeps: List[float]) -> None:
    server.rec.fail("CheckConsent", *[UNAVAILABLE] * 10)
    with pytest.raises(izin.IzinError) as caught:
        client.check("+905321234567")
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE
    assert len(server.rec.calls_to("CheckConsent")) == 4
    assert len(sleeps) == 3


def test_resource_exhausted_waits_for_retry_info(server: FakeServer, client: izin.Client, sleeps: List[float]) -> None:
    server.rec.fail(
        "GetVerification",
        Failure(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", [error_info("ERROR_REASON_RATE_LIMITED"), retry_info(2.5)]),
    )
    v = client.get_verification("00000000-0000-4000-8000-000000000001")
    assert v.status is izin.VerificationStatus.PENDING
    assert sleeps == [2.5]


def test_too_long_retry_info_is_raised_at_once(server: FakeServer, client: izin.Client, sleeps: List[float]) -> None:
    server.rec.fail("CheckConsent", Failure(grpc.StatusCode.RESOURCE_EXHAUSTED, "later", [retry_info(60)]))
    with pytest.raises(izin.IzinError) as caught:
        client.check("+905321234567")
    assert caught.value.retry_after == 60
    assert sleeps == []
    assert len(server.rec.calls_to("CheckConsent")) == 1


def test_retry_really_sleeps_by_default(server: FakeServer) -> None:
    import time

    server.rec.fail("CheckConsent", UNAVAILABLE)
    policy = izin.RetryPolicy(initial_backoff=0.2, jitter=0)
    with izin.Client(server.target, insecure=True, retry=policy) as c:
        start = time.monotonic()
        c.check("+905321234567")
        assert time.monotonic() - start >= 0.2


def test_submit_code_is_never_retried(server: FakeServer, client: izin.Client, sleeps: List[float]) -> None:
    server.rec.fail("SubmitCode", UNAVAILABLE)
    with pytest.raises(izin.IzinError) as caught:
        client.submit_code("00000000-0000-4000-8000-000000000001", "123456")
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE
    assert len(server.rec.calls_to("SubmitCode")) == 1
    assert sleeps == []


@pytest.mark.parametrize("method", ["ResendCode", "CancelVerification"])
def test_other_non_idempotent_calls_are_not_retried(server: FakeServer, client: izin.Client, method: str) -> None:
    server.rec.fail(method, UNAVAILABLE)
    call = client.resend_code if method == "ResendCode" else client.cancel_verification
    with pytest.raises(izin.IzinError):
        call("00000000-0000-4000-8000-000000000001")
    assert len(server.rec.calls_to(method)) == 1


# Without an idempotency key: True where the proto declares NO_SIDE_EFFECTS or
# IDEMPOTENT. A new method must be added here.
WANT_RETRY = {
    "CheckConsent": True, "BatchCheckConsents": True, "StreamCheckConsents": True, "ListConsentEvents": True,
    "WatchConsentEvents": True,
    "RecordConsent": False, "RejectConsent": True, "ImportConsents": False,
    "StartVerification": False, "GetVerification": True, "SubmitCode": False, "ResendCode": False,
    "CancelVerification": False,
    "ListMessages": True, "CreateBrand": False, "ListBrands": True, "CreateSource": False, "ListSources": True,
    "CreateApiKey": False, "ListApiKeys": True, "RevokeApiKey": False, "SetIysConfig": True, "GetIysStatus": True,
    "ListIysUploads": True, "CreateConsentText": False, "ListConsentTexts": True, "GetConsentText": True,
    "CreateWebhook": False, "ListWebhooks": True, "DeleteWebhook": True, "RotateWebhookSecret": False,
    "ListWebhookDeliveries": True, "ReplayWebhookDeliveries": False,
    "SetSmsConfig": True, "GetSmsStatus": True, "SendTestSms": False, "ListInboundMessages": True,
}


def test_retry_decisions_follow_the_descriptors() -> None:
    from google.protobuf import symbol_database

    from izin._gen.izin.v1 import admin_service_pb2, consent_service_pb2, verification_service_pb2

    seen = set()
    for module in (consent_service_pb2, verification_service_pb2, admin_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                seen.add(method.name)
                request_class = symbol_database.Default().GetSymbol(method.input_type.full_name)
                assert izin.retry.retries_allowed(request_class()) is WANT_RETRY[method.name], method.name
    assert seen == set(WANT_RETRY)
    assert izin.retry.retries_allowed(izin.pb.RecordConsentRequest(idempotency_key="k"))
    assert not izin.retry.retries_allowed(izin.pb.SubmitCodeRequest())


def test_start_verification_retries_with_one_idempotency_key(server: FakeServer, client: izin.Client) -> None:
    server.rec.fail("StartVerification", UNAVAILABLE, UNAVAILABLE)
    client.start_sms_verification("+905321234567", ["SMS"])
    keys = {c.request.idempotency_key for c in server.rec.calls_to("StartVerification")}
    assert len(server.rec.calls_to("StartVerification")) == 3
    assert len(keys) == 1 and len(keys.pop()) == 32


def test_given_idempotency_key_is_sent(server: FakeServer, client: izin.Client) -> None:
    client.record("+905321234567", "SMS", idempotency_key="form-42")
    client.start_sms_verification("+905321234567", "SMS", idempotency_key="verify-42")
    assert server.rec.calls_to("RecordConsent")[0].request.idempotency_key == "form-42"
    assert server.rec.calls_to("StartVerification")[0].request.idempotency_key == "verify-42"


@pytest.mark.parametrize("method", ["RecordConsent", "RejectConsent", "ListMessages", "ListConsentEvents"])
def test_idempotent_calls_are_retried(server: FakeServer, client: izin.Client, method: str) -> None:
    server.rec.fail(method, UNAVAILABLE)
    if method == "RecordConsent":
        client.record("+905321234567", ["SMS"])
    elif method == "RejectConsent":
        client.reject("+905321234567", ["SMS"])
    elif method == "ListMessages":
        client.list_messages("+905321234567")
    else:
        client.list_consent_events("+905321234567")
    assert len(server.rec.calls_to(method)) == 2


def test_disabled_policy_does_not_retry(server: FakeServer, sleeps: List[float]) -> None:
    server.rec.fail("CheckConsent", UNAVAILABLE)
    with izin.Client(server.target, insecure=True, retry=izin.RetryPolicy.disabled()) as c:
        c._sleep = sleeps.append
        with pytest.raises(izin.IzinError):
            c.check("+905321234567")
    assert sleeps == []
