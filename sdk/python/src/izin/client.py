"""The izin gRPC client."""

from __future__ import annotations

import collections
import datetime as _dt
import threading
import time
import uuid
from typing import (
    Any,
    Callable,
    Deque,
    Dict,
    Generator,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    cast,
)

import grpc
from google.protobuf import timestamp_pb2

from izin._gen.izin.v1 import (
    admin_service_pb2,
    admin_service_pb2_grpc,
    consent_service_pb2,
    consent_service_pb2_grpc,
    verification_service_pb2,
    verification_service_pb2_grpc,
)
from izin._version import __version__
from izin.errors import IzinError
from izin.models import (
    CheckItem,
    CheckRequest,
    CheckResult,
    ConsentChange,
    ConsentEvent,
    ConsentType,
    ConsentTypeLike,
    Message,
    Page,
    RecipientType,
    RecipientTypeLike,
    SubmitCodeResult,
    Verification,
    VerificationMethod,
    WatchItem,
)
from izin.retry import RetryPolicy, retries_allowed

__all__ = ["Client", "MAX_BATCH_SIZE"]

#: The most checks BatchCheckConsents takes in one call.
MAX_BATCH_SIZE = 1000

_Resp = TypeVar("_Resp")
TypesArg = Optional[Union[ConsentTypeLike, Iterable[ConsentTypeLike]]]
CheckArg = Union[str, CheckRequest]


# The generated .pyi type enum fields by their proto enum classes; our IntEnums
# carry the same numbers, which protobuf accepts, so they are passed as Any.
def _types(types: TypesArg) -> List[Any]:
    if types is None:
        return []
    if isinstance(types, (str, int)):
        return [int(ConsentType.parse(types))]
    return [int(ConsentType.parse(t)) for t in types]


def _recipient_type(value: Optional[RecipientTypeLike]) -> Any:
    return 0 if value is None else int(RecipientType.parse(value))


def _timestamp(value: Optional[_dt.datetime]) -> Optional[timestamp_pb2.Timestamp]:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("consent_time must be timezone-aware (e.g. datetime.now(timezone.utc))")
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(_dt.timezone.utc))
    return ts


class Client:
    """A client of one izin server.

    ::

        with izin.Client("izin.example.com:443", api_key="izin_...") as client:
            result = client.check("+90 532 123 45 67", types=["SMS"])
            if result.allowed("SMS"):
                ...

    Args:
        target: ``host:port`` of the gRPC server.
        api_key: sent as ``authorization: Bearer <api_key>`` with every call.
        insecure: plaintext instead of TLS (local development and tests only).
        root_certificates: PEM root certificates to trust instead of the system's.
        credentials: channel credentials to use instead (e.g. for client certificates).
        timeout: default deadline of each unary call, in seconds (``None``: none).
            Streams have no deadline unless one is given to :meth:`stream_check`.
        retry: the :class:`RetryPolicy` for idempotent calls (default: 4 attempts).
        channel: an existing channel to use; the client then does not close it.
        options: extra gRPC channel options.

    The client is thread-safe; share one per process and :meth:`close` it at the end
    (or use it as a context manager). The generated stubs are available as
    :attr:`consent_stub`, :attr:`verification_stub` and :attr:`admin_stub`, and the
    ``authorization`` metadata they need as :attr:`metadata`.
    """

    def __init__(
        self,
        target: str,
        api_key: Optional[str] = None,
        *,
        insecure: bool = False,
        root_certificates: Optional[bytes] = None,
        credentials: Optional[grpc.ChannelCredentials] = None,
        timeout: Optional[float] = 10.0,
        retry: Optional[RetryPolicy] = None,
        channel: Optional[grpc.Channel] = None,
        options: Sequence[Tuple[str, Any]] = (),
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.retry = retry if retry is not None else RetryPolicy()
        self._metadata: Tuple[Tuple[str, str], ...] = (
            (("authorization", f"Bearer {api_key}"),) if api_key else ()
        )
        self._sleep: Callable[[float], None] = time.sleep
        if channel is not None:
            self._channel = channel
            self._owns_channel = False
        else:
            opts = [("grpc.primary_user_agent", f"izin-python/{__version__}"), *options]
            if insecure:
                if credentials is not None or root_certificates is not None:
                    raise ValueError("insecure=True does not take credentials or root_certificates")
                self._channel = grpc.insecure_channel(target, options=opts)
            else:
                creds = credentials or grpc.ssl_channel_credentials(root_certificates=root_certificates)
                self._channel = grpc.secure_channel(target, creds, options=opts)
            self._owns_channel = True
        self.consent_stub = consent_service_pb2_grpc.ConsentServiceStub(self._channel)
        self.verification_stub = verification_service_pb2_grpc.VerificationServiceStub(self._channel)
        self.admin_stub = admin_service_pb2_grpc.AdminServiceStub(self._channel)

    # --- lifecycle ---------------------------------------------------------

    @property
    def channel(self) -> grpc.Channel:
        """The underlying gRPC channel."""
        return self._channel

    @property
    def metadata(self) -> Tuple[Tuple[str, str], ...]:
        """The call metadata (``authorization``) to pass to the raw stubs."""
        return self._metadata

    def with_api_key(self, api_key: str) -> "Client":
        """A client on the same channel with another API key (e.g. an admin key).
        Closing it does not close the channel."""
        other = Client(self.target, api_key, timeout=self.timeout, retry=self.retry, channel=self._channel)
        other._sleep = self._sleep
        return other

    def close(self) -> None:
        """Closes the channel (if the client opened it). Idempotent."""
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ----------------------------------------------------------

    def _call(
        self,
        method: Callable[..., _Resp],
        request: Any,
        *,
        timeout: Optional[float],
    ) -> _Resp:
        """One unary call, retried per the policy when retries_allowed; errors become IzinError."""
        idempotent = retries_allowed(request)
        deadline = self.timeout if timeout is None else timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                return method(request, timeout=deadline, metadata=self._metadata)
            except grpc.RpcError as rpc_error:
                err = IzinError.from_rpc_error(rpc_error)
                if not idempotent or not self.retry.should_retry(err.code, attempt, err.retry_after):
                    raise err from None
            self._sleep(self.retry.backoff(attempt, err.retry_after))

    def _check_request(
        self,
        item: CheckArg,
        types: TypesArg,
        recipient_type: Optional[RecipientTypeLike],
        brand: Optional[str],
    ) -> Tuple[CheckRequest, consent_service_pb2.CheckConsentRequest]:
        if isinstance(item, str):
            item = CheckRequest(item)
        elif not isinstance(item, CheckRequest):
            raise TypeError(f"a check is a recipient string or a CheckRequest, not {type(item).__name__}")
        pb = consent_service_pb2.CheckConsentRequest(
            recipient=item.recipient,
            recipient_type=_recipient_type(item.recipient_type if item.recipient_type is not None else recipient_type),
            types=_types(item.types if item.types is not None else types),
            brand=item.brand if item.brand is not None else (brand or ""),
        )
        return item, pb

    # --- consents ----------------------------------------------------------

    def check(
        self,
        recipient: str,
        types: TypesArg = None,
        recipient_type: Optional[RecipientTypeLike] = None,
        brand: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
    ) -> CheckResult:
        """Whether ``recipient`` (a phone number in any common spelling, or an
        e-mail address) may be sent commercial messages: one result per type in
        ``types`` (default: SMS, CALL and EMAIL), each GRANTED, REJECTED or NONE."""
        _, request = self._check_request(recipient, types, recipient_type, brand)
        response = self._call(self.consent_stub.CheckConsent, request, timeout=timeout)
        return CheckResult.from_pb(response)

    def iter_batch_check(
        self,
        checks: Iterable[CheckArg],
        types: TypesArg = None,
        recipient_type: Optional[RecipientTypeLike] = None,
        brand: Optional[str] = None,
        *,
        chunk_size: int = MAX_BATCH_SIZE,
        timeout: Optional[float] = None,
    ) -> Generator[CheckItem, None, None]:
        """Like :meth:`batch_check`, but lazily: one BatchCheckConsents call per
        ``chunk_size`` checks, as the items are consumed."""
        if not 1 <= chunk_size <= MAX_BATCH_SIZE:
            raise ValueError(f"chunk_size must be between 1 and {MAX_BATCH_SIZE}")
        chunk: List[Tuple[CheckRequest, consent_service_pb2.CheckConsentRequest]] = []
        for item in checks:
            chunk.append(self._check_request(item, types, recipient_type, brand))
            if len(chunk) == chunk_size:
                yield from self._batch(chunk, timeout)
                chunk = []
        if chunk:
            yield from self._batch(chunk, timeout)

    def _batch(
        self,
        chunk: List[Tuple[CheckRequest, consent_service_pb2.CheckConsentRequest]],
        timeout: Optional[float],
    ) -> List[CheckItem]:
        request = consent_service_pb2.BatchCheckConsentsRequest(checks=[pb for _, pb in chunk])
        response = self._call(self.consent_stub.BatchCheckConsents, request, timeout=timeout)
        if len(response.items) != len(chunk):
            raise IzinError(
                grpc.StatusCode.INTERNAL,
                f"BatchCheckConsents answered {len(response.items)} items for {len(chunk)} checks",
            )
        items = []
        for (req, _), item in zip(chunk, response.items):
            if item.HasField("error"):
                items.append(CheckItem(req, None, IzinError.from_status(item.error)))
            else:
                items.append(CheckItem(req, CheckResult.from_pb(item.result), None))
        return items

    def batch_check(
        self,
        checks: Iterable[CheckArg],
        types: TypesArg = None,
        recipient_type: Optional[RecipientTypeLike] = None,
        brand: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
    ) -> List[CheckItem]:
        """Checks many recipients, in calls of up to 1000: one :class:`CheckItem` per
        check, in order. A malformed recipient gets an ``error`` in its own item; a
        failed call raises :class:`IzinError`. ``types``, ``recipient_type`` and
        ``brand`` apply to the checks given as plain strings."""
        return list(self.iter_batch_check(checks, types, recipient_type, brand, timeout=timeout))

    def stream_check(
        self,
        checks: Iterable[CheckArg],
        types: TypesArg = None,
        recipient_type: Optional[RecipientTypeLike] = None,
        brand: Optional[str] = None,
        *,
        window: int = 1000,
        timeout: Optional[float] = None,
    ) -> Generator[CheckItem, None, None]:
        """Checks a campaign list of any size over one StreamCheckConsents stream,
        yielding one :class:`CheckItem` per check, in order.

        ``checks`` is consumed lazily, on a gRPC thread, and at most ``window``
        checks are in flight, so memory stays bounded for millions of recipients.
        Stop iterating (or close the generator) to cancel the stream. Streams are
        not retried; a failed stream raises :class:`IzinError`."""
        if window < 1:
            raise ValueError("window must be at least 1")
        pending: Deque[Tuple[str, CheckRequest]] = collections.deque()
        cond = threading.Condition()
        state: Dict[str, Any] = {"closed": False, "error": None}

        def requests() -> Iterator[consent_service_pb2.StreamCheckConsentsRequest]:
            number = 0
            try:
                for item in checks:
                    req, pb = self._check_request(item, types, recipient_type, brand)
                    correlation_id = req.correlation_id if req.correlation_id is not None else str(number)
                    number += 1
                    with cond:
                        while len(pending) >= window and not state["closed"]:
                            cond.wait()
                        if state["closed"]:
                            return
                        pending.append((correlation_id, req))
                    yield consent_service_pb2.StreamCheckConsentsRequest(check=pb, correlation_id=correlation_id)
            except Exception as exc:  # re-raised to the caller instead of a bare CANCELLED
                state["error"] = exc
                raise

        call = self.consent_stub.StreamCheckConsents(requests(), timeout=timeout, metadata=self._metadata)
        try:
            for response in call:
                with cond:
                    if not pending:
                        raise IzinError(grpc.StatusCode.INTERNAL, "StreamCheckConsents answered more than asked")
                    correlation_id, req = pending.popleft()
                    cond.notify()
                if response.correlation_id != correlation_id:
                    raise IzinError(
                        grpc.StatusCode.INTERNAL,
                        f"StreamCheckConsents answered {response.correlation_id!r} for {correlation_id!r}",
                    )
                if response.HasField("error"):
                    yield CheckItem(req, None, IzinError.from_status(response.error), correlation_id)
                else:
                    yield CheckItem(req, CheckResult.from_pb(response.result), None, correlation_id)
            if state["error"] is not None:
                raise state["error"]
            if pending:
                raise IzinError(
                    grpc.StatusCode.INTERNAL, f"StreamCheckConsents ended with {len(pending)} checks unanswered"
                )
        except grpc.RpcError as rpc_error:
            if state["error"] is not None:
                raise state["error"] from None
            raise IzinError.from_rpc_error(rpc_error) from None
        finally:
            with cond:
                state["closed"] = True
                cond.notify_all()
            call.cancel()

    def record(
        self,
        recipient: str,
        types: Union[ConsentTypeLike, Iterable[ConsentTypeLike]],
        *,
        recipient_type: Optional[RecipientTypeLike] = None,
        brand: Optional[str] = None,
        consent_time: Optional[_dt.datetime] = None,
        iys_source: Optional[str] = None,
        operator_id: Optional[str] = None,
        reference: Optional[str] = None,
        send_confirmation: bool = False,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> ConsentChange:
        """Records a consent (ONAY) the source obtained, with its evidence.

        The call is retried safely with ``idempotency_key`` (a random one if none
        is given); pass your own to make retries across processes safe too."""
        request = consent_service_pb2.RecordConsentRequest(
            recipient=recipient,
            recipient_type=_recipient_type(recipient_type),
            types=_types(types),
            brand=brand or "",
            consent_time=_timestamp(consent_time),
            iys_source=iys_source or "",
            operator_id=operator_id or "",
            reference=reference or "",
            idempotency_key=idempotency_key or uuid.uuid4().hex,
            send_confirmation=send_confirmation,
        )
        response = self._call(self.consent_stub.RecordConsent, request, timeout=timeout)
        return ConsentChange.from_pb(response)

    def reject(
        self,
        recipient: str,
        types: TypesArg = None,
        *,
        recipient_type: Optional[RecipientTypeLike] = None,
        brand: Optional[str] = None,
        consent_time: Optional[_dt.datetime] = None,
        iys_source: Optional[str] = None,
        operator_id: Optional[str] = None,
        reference: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> ConsentChange:
        """Records a rejection (RET) of ``types`` (default: every type that fits the
        recipient). It takes effect for the very next check."""
        request = consent_service_pb2.RejectConsentRequest(
            recipient=recipient,
            recipient_type=_recipient_type(recipient_type),
            types=_types(types),
            brand=brand or "",
            consent_time=_timestamp(consent_time),
            iys_source=iys_source or "",
            operator_id=operator_id or "",
            reference=reference or "",
        )
        # Declared IDEMPOTENT in the proto: repeating it leaves the state REJECTED.
        response = self._call(self.consent_stub.RejectConsent, request, timeout=timeout)
        return ConsentChange.from_pb(response)

    def list_consent_events(
        self,
        recipient: Optional[str] = None,
        *,
        brand: Optional[str] = None,
        page_size: int = 0,
        page_token: str = "",
        timeout: Optional[float] = None,
    ) -> Page[ConsentEvent]:
        """One page of consent events, newest first, with their evidence."""
        request = consent_service_pb2.ListConsentEventsRequest(
            recipient=recipient or "", brand=brand or "", page_size=page_size, page_token=page_token
        )
        response = self._call(self.consent_stub.ListConsentEvents, request, timeout=timeout)
        return Page([ConsentEvent.from_pb(e) for e in response.events], response.next_page_token)

    def watch_consent_events(
        self,
        after_sequence: int = 0,
        *,
        brand: Optional[str] = None,
        recipient: Optional[str] = None,
    ) -> Generator[WatchItem, None, None]:
        """Follows the tenant's consent events over WatchConsentEvents: those after
        ``after_sequence`` in order, then each new one as the server commits it,
        without end.

        When the stream breaks with a code the retry policy retries (UNAVAILABLE:
        a server restart, a network failure), it reconnects after the policy's
        backoff from the last sequence yielded, so nothing is missed or repeated;
        it does so however often it takes, and the backoff starts over once a
        message arrives. Another error raises :class:`IzinError`. Close the
        generator (or stop iterating) to cancel the stream."""
        request = consent_service_pb2.WatchConsentEventsRequest(
            after_sequence=after_sequence, brand=brand or "", recipient=recipient or ""
        )
        failures = 0
        while True:
            retry_after: Optional[float] = None
            call = self.consent_stub.WatchConsentEvents(request, metadata=self._metadata)
            try:
                for response in call:
                    failures = 0
                    if response.HasField("event"):
                        item = WatchItem(response.event.sequence, ConsentEvent.from_pb(response.event))
                    else:
                        item = WatchItem(max(request.after_sequence, response.heartbeat.sequence), None)
                    request.after_sequence = item.sequence
                    yield item
                # izin never ends a watch; a proxy may: reconnect.
            except grpc.RpcError as rpc_error:
                err = IzinError.from_rpc_error(rpc_error)
                # Attempt 1: a watch gives up on the kind of failure, never on the count.
                if not self.retry.should_retry(err.code, 1, err.retry_after):
                    raise err from None
                retry_after = err.retry_after
            finally:
                call.cancel()
            failures += 1
            self._sleep(self.retry.backoff(failures, retry_after))

    # --- verifications -----------------------------------------------------

    def start_verification(
        self,
        recipient: str,
        types: Union[ConsentTypeLike, Iterable[ConsentTypeLike]],
        method: Union[VerificationMethod, int, str],
        *,
        recipient_type: Optional[RecipientTypeLike] = None,
        brand: Optional[str] = None,
        first_name: Optional[str] = None,
        last_name: Optional[str] = None,
        operator_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Verification:
        """Starts a verification by ``method``; see :meth:`start_sms_verification`
        and :meth:`start_landing_page_verification`."""
        customer = None
        if first_name or last_name:
            customer = verification_service_pb2.Customer(first_name=first_name or "", last_name=last_name or "")
        request = verification_service_pb2.StartVerificationRequest(
            recipient=recipient,
            recipient_type=_recipient_type(recipient_type),
            types=_types(types),
            method=cast(Any, int(VerificationMethod.parse(method))),
            brand=brand or "",
            customer=customer,
            operator_id=operator_id or "",
            idempotency_key=idempotency_key or uuid.uuid4().hex,
        )
        response = self._call(
            self.verification_stub.StartVerification, request, timeout=timeout
        )
        return Verification.from_pb(response.verification)

    def start_sms_verification(
        self,
        recipient: str,
        types: Union[ConsentTypeLike, Iterable[ConsentTypeLike]],
        *,
        recipient_type: Optional[RecipientTypeLike] = None,
        brand: Optional[str] = None,
        operator_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Verification:
        """Sends the customer an SMS with an activation code; pass the code they
        give you to :meth:`submit_code`. Retried safely with ``idempotency_key``
        (random if not given): a repeat returns the first verification and sends nothing."""
        return self.start_verification(
            recipient,
            types,
            VerificationMethod.SMS_CODE,
            recipient_type=recipient_type,
            brand=brand,
            operator_id=operator_id,
            idempotency_key=idempotency_key,
            timeout=timeout,
        )

    def start_landing_page_verification(
        self,
        recipient: str,
        types: Union[ConsentTypeLike, Iterable[ConsentTypeLike]],
        *,
        first_name: Optional[str] = None,
        last_name: Optional[str] = None,
        recipient_type: Optional[RecipientTypeLike] = None,
        brand: Optional[str] = None,
        operator_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Verification:
        """Sends the customer an SMS with a link to the consent page
        (``Verification.landing_url``); the customer's name is shown there."""
        return self.start_verification(
            recipient,
            types,
            VerificationMethod.LANDING_PAGE,
            recipient_type=recipient_type,
            brand=brand,
            first_name=first_name,
            last_name=last_name,
            operator_id=operator_id,
            idempotency_key=idempotency_key,
            timeout=timeout,
        )

    def get_verification(self, verification_id: str, *, timeout: Optional[float] = None) -> Verification:
        request = verification_service_pb2.GetVerificationRequest(id=verification_id)
        response = self._call(self.verification_stub.GetVerification, request, timeout=timeout)
        return Verification.from_pb(response.verification)

    def submit_code(self, verification_id: str, code: str, *, timeout: Optional[float] = None) -> SubmitCodeResult:
        """Checks the code the customer gave. On success the consent is recorded.
        A wrong code raises :class:`IzinError` with ``reason`` ERROR_REASON_INVALID_CODE
        and ``attempts_left``. Never retried: each try counts as an attempt."""
        request = verification_service_pb2.SubmitCodeRequest(id=verification_id, code=code)
        response = self._call(self.verification_stub.SubmitCode, request, timeout=timeout)
        return SubmitCodeResult.from_pb(response)

    def resend_code(self, verification_id: str, *, timeout: Optional[float] = None) -> Verification:
        """Sends a new code (the old one stops working). Never retried."""
        request = verification_service_pb2.ResendCodeRequest(id=verification_id)
        response = self._call(self.verification_stub.ResendCode, request, timeout=timeout)
        return Verification.from_pb(response.verification)

    def cancel_verification(self, verification_id: str, *, timeout: Optional[float] = None) -> Verification:
        request = verification_service_pb2.CancelVerificationRequest(id=verification_id)
        response = self._call(
            self.verification_stub.CancelVerification, request, timeout=timeout
        )
        return Verification.from_pb(response.verification)

    # --- admin -------------------------------------------------------------

    def list_messages(
        self,
        recipient: Optional[str] = None,
        *,
        page_size: int = 0,
        page_token: str = "",
        timeout: Optional[float] = None,
    ) -> Page[Message]:
        """One page of the SMS izin sent, newest first (needs an ADMIN key)."""
        request = admin_service_pb2.ListMessagesRequest(
            recipient=recipient or "", page_size=page_size, page_token=page_token
        )
        response = self._call(self.admin_stub.ListMessages, request, timeout=timeout)
        return Page([Message.from_pb(m) for m in response.messages], response.next_page_token)
