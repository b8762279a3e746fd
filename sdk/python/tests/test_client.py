"""The client's requests and typed results, auth, TLS and the enums."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any, Type, cast

import grpc
import pytest

import izin
from fakes import FakeServer, metadata_pairs
from izin import pb
from izin.models import _ProtoEnum


def test_api_key_is_sent_as_bearer(server: FakeServer, client: izin.Client) -> None:
    client.check("+905321234567")
    assert server.rec.calls_to("CheckConsent")[0].metadata["authorization"] == "Bearer izin_test"


def test_no_api_key_sends_no_authorization(server: FakeServer) -> None:
    with izin.Client(server.target, insecure=True) as c:
        c.check("+905321234567")
    assert "authorization" not in server.rec.calls_to("CheckConsent")[0].metadata


def test_with_api_key_shares_the_channel(server: FakeServer, client: izin.Client) -> None:
    admin = client.with_api_key("izin_admin")
    admin.list_messages()
    admin.close()  # does not close the shared channel
    client.check("+905321234567")
    assert server.rec.calls_to("ListMessages")[0].metadata["authorization"] == "Bearer izin_admin"
    assert server.rec.calls_to("CheckConsent")[0].metadata["authorization"] == "Bearer izin_test"


def test_check_request_and_result(server: FakeServer, client: izin.Client) -> None:
    result = client.check("+90 532 123 45 67", types=["sms", izin.ConsentType.CALL, 3], recipient_type="MERCHANT", brand="ACME")
    request = server.rec.calls_to("CheckConsent")[0].request
    assert list(request.types) == [pb.CONSENT_TYPE_SMS, pb.CONSENT_TYPE_CALL, pb.CONSENT_TYPE_EMAIL]
    assert request.recipient_type == pb.RECIPIENT_TYPE_MERCHANT and request.brand == "ACME"
    assert result.recipient == "+905321234567"
    assert result.recipient_type is izin.RecipientType.MERCHANT
    assert result.brand == "ACME"
    assert result.statuses == {
        izin.ConsentType.SMS: izin.ConsentStatus.GRANTED,
        izin.ConsentType.CALL: izin.ConsentStatus.GRANTED,
        izin.ConsentType.EMAIL: izin.ConsentStatus.GRANTED,
    }
    assert result.allowed("SMS") and result.status("CONSENT_TYPE_CALL") is izin.ConsentStatus.GRANTED
    assert isinstance(result.raw, pb.CheckConsentResponse)


def test_check_defaults_to_every_type(server: FakeServer, client: izin.Client) -> None:
    result = client.check("+905300000000")
    assert list(server.rec.calls_to("CheckConsent")[0].request.types) == []
    assert [r.type for r in result.results] == [izin.ConsentType.SMS, izin.ConsentType.CALL, izin.ConsentType.EMAIL]
    assert not result.allowed(izin.ConsentType.EMAIL)
    with pytest.raises(KeyError):
        client.check("+905300000000", types="SMS").result("EMAIL")


def test_bad_type_is_a_value_error(client: izin.Client) -> None:
    with pytest.raises(ValueError, match="SMS, CALL, EMAIL"):
        client.check("+905321234567", types=["FAX"])


def test_verification_flow(server: FakeServer, client: izin.Client) -> None:
    v = client.start_sms_verification("+905321234567", ["SMS", "CALL"], operator_id="cashier-7")
    request = server.rec.calls_to("StartVerification")[0].request
    assert request.method == pb.VERIFICATION_METHOD_SMS_CODE and request.operator_id == "cashier-7"
    assert list(request.types) == [pb.CONSENT_TYPE_SMS, pb.CONSENT_TYPE_CALL]
    assert v.status is izin.VerificationStatus.PENDING and v.attempts_left == 3
    assert v.method is izin.VerificationMethod.SMS_CODE
    assert v.expire_time == dt.datetime.fromtimestamp(1_900_000_000, dt.timezone.utc)
    assert v.verify_time is None
    done = client.submit_code(v.id, "123456")
    assert done.verification.status is izin.VerificationStatus.VERIFIED
    assert done.results[0].status is izin.ConsentStatus.GRANTED
    assert client.get_verification(v.id).id == v.id
    assert client.resend_code(v.id).status is izin.VerificationStatus.PENDING
    assert client.cancel_verification(v.id).status is izin.VerificationStatus.CANCELLED


def test_landing_page_verification(server: FakeServer, client: izin.Client) -> None:
    v = client.start_landing_page_verification("+905321234567", "SMS", first_name="Ayşe", last_name="Yılmaz")
    request = server.rec.calls_to("StartVerification")[0].request
    assert request.method == pb.VERIFICATION_METHOD_LANDING_PAGE
    assert (request.customer.first_name, request.customer.last_name) == ("Ayşe", "Yılmaz")
    assert v.landing_url == "https://izin.example/v/abc"
    assert v.method is izin.VerificationMethod.LANDING_PAGE


def test_record_and_reject(server: FakeServer, client: izin.Client) -> None:
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    change = client.record(
        "+905321234567", ["SMS"], consent_time=when, iys_source="HS_WEB", reference="form-1", send_confirmation=True
    )
    request = server.rec.calls_to("RecordConsent")[0].request
    assert request.consent_time.ToDatetime(tzinfo=dt.timezone.utc) == when
    assert (request.iys_source, request.reference, request.send_confirmation) == ("HS_WEB", "form-1", True)
    assert change.results[0].status is izin.ConsentStatus.GRANTED
    assert change.events[0].type is izin.ConsentType.SMS and change.events[0].sequence == 1
    rejected = client.reject("+905321234567", "SMS")
    assert rejected.results[0].status is izin.ConsentStatus.REJECTED and rejected.events == ()
    with pytest.raises(ValueError, match="timezone"):
        client.record("+905321234567", "SMS", consent_time=dt.datetime(2024, 5, 1))


def test_list_messages_and_events(client: izin.Client) -> None:
    page = client.list_messages("+905321234567", page_size=10)
    assert len(page) == 1 and page.next_page_token == ""
    message = page[0]
    assert message.kind is izin.MessageKind.ACTIVATION and message.status is izin.MessageStatus.SENT
    assert message.body.startswith("123456")
    assert message.create_time is not None and message.create_time.tzinfo is not None
    events = client.list_consent_events("+905321234567")
    assert [e.id for e in events] == ["e2"] and events.next_page_token == "next"


def test_raw_stubs_are_usable(server: FakeServer, client: izin.Client) -> None:
    response = client.consent_stub.CheckConsent(
        pb.CheckConsentRequest(recipient="+905321234567"), metadata=client.metadata, timeout=5
    )
    assert response.recipient == "+905321234567"
    assert metadata_pairs(server.rec.calls_to("CheckConsent")[0])[0] == ("authorization", "Bearer izin_test")


def test_close_is_idempotent_and_context_manager_closes(server: FakeServer) -> None:
    with izin.Client(server.target, insecure=True) as c:
        c.check("+905321234567")
    c.close()
    with pytest.raises(ValueError):  # grpc: "Cannot invoke RPC on closed channel!"
        c.check("+905321234567")


def test_insecure_does_not_take_certificates() -> None:
    with pytest.raises(ValueError):
        izin.Client("localhost:1", insecure=True, root_certificates=b"x")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
def test_tls_with_root_certificates(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    creds = grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
    server = FakeServer(credentials=creds)
    try:
        with izin.Client(f"localhost:{server.port}", api_key="k", root_certificates=cert.read_bytes()) as c:
            assert c.check("+905321234567").recipient == "+905321234567"
        # Without the root certificate the server is not trusted.
        with izin.Client(f"localhost:{server.port}", retry=izin.RetryPolicy.disabled(), timeout=5) as c:
            with pytest.raises(izin.IzinError) as caught:
                c.check("+905321234567")
            assert caught.value.code is grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop()


ENUMS = [
    (izin.ConsentType, pb.ConsentType),
    (izin.ConsentStatus, pb.ConsentStatus),
    (izin.RecipientType, pb.RecipientType),
    (izin.VerificationMethod, pb.VerificationMethod),
    (izin.VerificationStatus, pb.VerificationStatus),
    (izin.MessageStatus, pb.MessageStatus),
    (izin.MessageKind, pb.MessageKind),
]


@pytest.mark.parametrize("ours,theirs", ENUMS, ids=[e[0].__name__ for e in ENUMS])
def test_enums_mirror_the_proto(ours: Type[_ProtoEnum], theirs: object) -> None:
    proto = {v.name: v.number for v in theirs.DESCRIPTOR.values}  # type: ignore[attr-defined]
    assert {m.proto_name: m.value for m in ours} == proto


def test_error_reasons_mirror_the_proto() -> None:
    proto = {v.name for v in pb.ErrorReason.DESCRIPTOR.values if v.number != 0}
    assert {r.value for r in izin.ErrorReason} == proto


def test_unknown_enum_numbers_do_not_fail() -> None:
    status = izin.ConsentStatus(42)
    assert status.name == "UNKNOWN_42" and status == 42
    result = izin.ConsentResult.from_pb(pb.ConsentResult(type=cast(Any, 9), status=cast(Any, 42)))
    assert result.type == 9 and result.status == 42


def test_enum_parse() -> None:
    assert izin.ConsentType.parse("email") is izin.ConsentType.EMAIL
    assert izin.ConsentType.parse(" CONSENT_TYPE_CALL ") is izin.ConsentType.CALL
    assert izin.RecipientType.parse(2) is izin.RecipientType.MERCHANT
    assert str(izin.VerificationStatus.VERIFIED) == "VERIFIED"
    with pytest.raises(TypeError):
        izin.ConsentType.parse(True)
    with pytest.raises(TypeError):
        izin.ConsentType.parse(1.0)  # type: ignore[arg-type]
