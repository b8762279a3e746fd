"""Enums and result types of the izin client.

The enums mirror those of ``izin/v1/types.proto`` without their prefix
(``ConsentType.SMS`` is ``CONSENT_TYPE_SMS``) and have the same numbers, so
they can be passed wherever the protobuf messages take an enum. Every result
keeps the protobuf message it was made from in ``raw``.
"""

from __future__ import annotations

import datetime as _dt
import enum
import functools
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Generic,
    Iterator,
    List,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
)

from google.protobuf import timestamp_pb2

from izin._gen.izin.v1 import (
    admin_service_pb2,
    consent_service_pb2,
    types_pb2,
    verification_service_pb2,
)

if TYPE_CHECKING:
    from izin.errors import IzinError

__all__ = [
    "ConsentType",
    "ConsentStatus",
    "RecipientType",
    "VerificationMethod",
    "VerificationStatus",
    "MessageStatus",
    "MessageKind",
    "ConsentTypeLike",
    "RecipientTypeLike",
    "CheckRequest",
    "ConsentResult",
    "CheckResult",
    "CheckItem",
    "Verification",
    "ConsentEvent",
    "WatchItem",
    "ConsentChange",
    "SubmitCodeResult",
    "Message",
    "Page",
]

_E = TypeVar("_E", bound="_ProtoEnum")
_T = TypeVar("_T")


class _ProtoEnum(enum.IntEnum):
    """An IntEnum mirroring a proto enum; unknown numbers from a newer server
    become pseudo-members named ``UNKNOWN_<n>`` instead of failing."""

    # The proto name prefix, e.g. "CONSENT_TYPE_"; set on each subclass below.
    @classmethod
    def _prefix(cls) -> str:
        raise NotImplementedError

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            member = int.__new__(cls, value)
            member._name_ = f"UNKNOWN_{value}"
            member._value_ = value
            return member
        return None

    @classmethod
    def parse(cls: Type[_E], value: Union["_ProtoEnum", int, str]) -> _E:
        """Accepts a member, its number, or a name with or without the proto
        prefix, in any case: ``"SMS"``, ``"sms"``, ``"CONSENT_TYPE_SMS"``."""
        if isinstance(value, cls):
            return value
        if isinstance(value, bool):
            raise TypeError(f"{cls.__name__}: not a valid value: {value!r}")
        if isinstance(value, int):
            return cls(value)
        if isinstance(value, str):
            name = value.strip().upper()
            prefix = cls._prefix()
            if name.startswith(prefix):
                name = name[len(prefix) :]
            try:
                return cls[name]
            except KeyError:
                names = ", ".join(m.name for m in cls if m.value != 0)
                raise ValueError(f"{cls.__name__}: unknown value {value!r} (one of {names})") from None
        raise TypeError(f"{cls.__name__}: not a valid value: {value!r}")

    @property
    def proto_name(self) -> str:
        """The proto enum value name, e.g. ``CONSENT_TYPE_SMS``."""
        return self._prefix() + self.name

    def __str__(self) -> str:
        return self.name


class ConsentType(_ProtoEnum):
    """The kind of commercial message a consent covers (İYS izin tipi)."""

    UNSPECIFIED = 0
    SMS = 1  # İYS MESAJ
    CALL = 2  # İYS ARAMA
    EMAIL = 3  # İYS EPOSTA

    @classmethod
    def _prefix(cls) -> str:
        return "CONSENT_TYPE_"


class ConsentStatus(_ProtoEnum):
    """The state of one consent type for one recipient."""

    UNSPECIFIED = 0
    GRANTED = 1  # İYS ONAY
    REJECTED = 2  # İYS RET
    NONE = 3  # no record at all

    @classmethod
    def _prefix(cls) -> str:
        return "CONSENT_STATUS_"


class RecipientType(_ProtoEnum):
    """Individuals (BIREYSEL, the default) or merchants (TACIR)."""

    UNSPECIFIED = 0
    INDIVIDUAL = 1
    MERCHANT = 2

    @classmethod
    def _prefix(cls) -> str:
        return "RECIPIENT_TYPE_"


class VerificationMethod(_ProtoEnum):
    UNSPECIFIED = 0
    SMS_CODE = 1
    LANDING_PAGE = 2

    @classmethod
    def _prefix(cls) -> str:
        return "VERIFICATION_METHOD_"


class VerificationStatus(_ProtoEnum):
    UNSPECIFIED = 0
    PENDING = 1
    VERIFIED = 2
    EXPIRED = 3
    FAILED = 4  # too many wrong codes
    CANCELLED = 5

    @classmethod
    def _prefix(cls) -> str:
        return "VERIFICATION_STATUS_"


class MessageStatus(_ProtoEnum):
    UNSPECIFIED = 0
    QUEUED = 1
    SENT = 2
    FAILED = 3
    DELIVERED = 4
    EXPIRED = 5

    @classmethod
    def _prefix(cls) -> str:
        return "MESSAGE_STATUS_"


class MessageKind(_ProtoEnum):
    UNSPECIFIED = 0
    ACTIVATION = 1
    CONFIRMATION = 2
    LANDING_LINK = 3
    TEST = 4
    REJECTION = 5

    @classmethod
    def _prefix(cls) -> str:
        return "MESSAGE_KIND_"


#: A consent type as a member, its number, or its name ("SMS", "CONSENT_TYPE_SMS").
ConsentTypeLike = Union[ConsentType, int, str]
RecipientTypeLike = Union[RecipientType, int, str]


def _time(ts: timestamp_pb2.Timestamp, present: bool) -> Optional[_dt.datetime]:
    if not present:
        return None
    return ts.ToDatetime(tzinfo=_dt.timezone.utc)


def _enum(cls: Type[_E], value: int) -> _E:
    """``cls(value)``, faster for known values (this runs per result of big batches)."""
    member = cls._value2member_map_.get(value)
    return member if member is not None else cls(value)  # type: ignore[return-value]


@dataclass(frozen=True)
class CheckRequest:
    """One recipient to check (for :meth:`Client.batch_check` and
    :meth:`Client.stream_check`). Unset fields take the call's defaults."""

    recipient: str
    types: Optional[Tuple[ConsentTypeLike, ...]] = None
    recipient_type: Optional[RecipientTypeLike] = None
    brand: Optional[str] = None
    #: Echoed back for streams; the client numbers requests when unset.
    correlation_id: Optional[str] = None


@dataclass(frozen=True)
class ConsentResult:
    """The answer for one consent type."""

    type: ConsentType
    status: ConsentStatus
    #: Whether a commercial message of this type may be sent now.
    allowed: bool
    consent_time: Optional[_dt.datetime] = None
    source_id: str = ""
    iys_source: str = ""
    event_id: str = ""

    @classmethod
    def from_pb(cls, m: consent_service_pb2.ConsentResult) -> "ConsentResult":
        ts = m.consent_time
        return cls(
            _enum(ConsentType, m.type),
            _enum(ConsentStatus, m.status),
            m.allowed,
            # Unset for NONE; a set one is never the 1970 epoch (not before 2015-05-01).
            ts.ToDatetime(tzinfo=_dt.timezone.utc) if ts.seconds or ts.nanos else None,
            m.source_id,
            m.iys_source,
            m.event_id,
        )


def _results(items: Any) -> Tuple[ConsentResult, ...]:
    return tuple(ConsentResult.from_pb(r) for r in items)


@dataclass(frozen=True)
class CheckResult:
    """The answer of :meth:`Client.check`: one :class:`ConsentResult` per type asked.

    ``status()``, ``allowed()`` and ``statuses`` read the message directly and
    ``results`` is built on first use, so big batches and streams stay cheap.
    """

    #: The recipient in normal form (E.164 phone or lower-case e-mail).
    recipient: str
    recipient_type: RecipientType
    brand: str
    # Compared (the results come from it), but not hashed (messages are unhashable).
    raw: consent_service_pb2.CheckConsentResponse = field(repr=False, hash=False)

    @classmethod
    def from_pb(cls, m: consent_service_pb2.CheckConsentResponse) -> "CheckResult":
        return cls(m.recipient, _enum(RecipientType, m.recipient_type), m.brand, m)

    @functools.cached_property
    def results(self) -> Tuple[ConsentResult, ...]:
        """One result per type asked, in the order asked."""
        return _results(self.raw.results)

    def __repr__(self) -> str:
        return (
            f"CheckResult(recipient={self.recipient!r}, recipient_type={self.recipient_type.name}, "
            f"brand={self.brand!r}, statuses={{{', '.join(f'{t.name}: {s.name}' for t, s in self.statuses.items())}}})"
        )

    def _raw_result(self, type: ConsentTypeLike) -> consent_service_pb2.ConsentResult:
        want = int(ConsentType.parse(type))
        for r in self.raw.results:
            if r.type == want:
                return r
        raise KeyError(f"no result for {ConsentType(want).name}")

    def result(self, type: ConsentTypeLike) -> ConsentResult:
        """The result for ``type``; KeyError if that type was not asked."""
        return ConsentResult.from_pb(self._raw_result(type))

    def status(self, type: ConsentTypeLike) -> ConsentStatus:
        """The status for ``type``, e.g. ``ConsentStatus.GRANTED``."""
        return _enum(ConsentStatus, self._raw_result(type).status)

    def allowed(self, type: ConsentTypeLike) -> bool:
        """Whether a commercial message of ``type`` may be sent now."""
        return self._raw_result(type).allowed

    @property
    def statuses(self) -> Dict[ConsentType, ConsentStatus]:
        """``{ConsentType.SMS: ConsentStatus.GRANTED, ...}``, in the order asked."""
        return {_enum(ConsentType, r.type): _enum(ConsentStatus, r.status) for r in self.raw.results}


@dataclass(frozen=True)
class CheckItem:
    """One answer of a batch or stream check: ``result`` or ``error``, never both."""

    request: CheckRequest
    result: Optional[CheckResult]
    error: Optional["IzinError"]
    correlation_id: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Verification:
    """One run of the SMS-code or landing-page flow."""

    id: str
    status: VerificationStatus
    method: VerificationMethod
    recipient: str
    recipient_type: RecipientType
    types: Tuple[ConsentType, ...]
    brand_code: str
    expire_time: Optional[_dt.datetime]
    #: Wrong codes still allowed before the verification fails.
    attempts_left: int
    create_time: Optional[_dt.datetime]
    verify_time: Optional[_dt.datetime]
    #: The consent page link (landing-page method only).
    landing_url: str
    message_ids: Tuple[str, ...]
    source_id: str
    #: Delivery of the newest SMS asking the customer (code or link), and
    #: its error when it failed: resend, or turn to the landing page.
    sms_status: MessageStatus
    sms_error: str
    raw: types_pb2.Verification = field(repr=False, compare=False)

    @classmethod
    def from_pb(cls, m: types_pb2.Verification) -> "Verification":
        return cls(
            id=m.id,
            status=_enum(VerificationStatus, m.status),
            method=_enum(VerificationMethod, m.method),
            recipient=m.recipient,
            recipient_type=_enum(RecipientType, m.recipient_type),
            types=tuple(_enum(ConsentType, t) for t in m.types),
            brand_code=m.brand_code,
            expire_time=_time(m.expire_time, m.HasField("expire_time")),
            attempts_left=m.attempts_left,
            create_time=_time(m.create_time, m.HasField("create_time")),
            verify_time=_time(m.verify_time, m.HasField("verify_time")),
            landing_url=m.landing_url,
            message_ids=tuple(m.message_ids),
            source_id=m.source_id,
            sms_status=_enum(MessageStatus, m.sms_status),
            sms_error=m.sms_error,
            raw=m,
        )


@dataclass(frozen=True)
class ConsentEvent:
    """One append-only, hash-chained consent change with its evidence."""

    id: str
    sequence: int
    brand_code: str
    recipient: str
    recipient_type: RecipientType
    type: ConsentType
    status: ConsentStatus
    consent_time: Optional[_dt.datetime]
    create_time: Optional[_dt.datetime]
    evidence: types_pb2.Evidence
    previous_hash: str
    hash: str
    raw: types_pb2.ConsentEvent = field(repr=False, compare=False)

    @classmethod
    def from_pb(cls, m: types_pb2.ConsentEvent) -> "ConsentEvent":
        return cls(
            id=m.id,
            sequence=m.sequence,
            brand_code=m.brand_code,
            recipient=m.recipient,
            recipient_type=_enum(RecipientType, m.recipient_type),
            type=_enum(ConsentType, m.type),
            status=_enum(ConsentStatus, m.status),
            consent_time=_time(m.consent_time, m.HasField("consent_time")),
            create_time=_time(m.create_time, m.HasField("create_time")),
            evidence=m.evidence,
            previous_hash=m.previous_hash,
            hash=m.hash,
            raw=m,
        )


def _events(items: Any) -> Tuple[ConsentEvent, ...]:
    return tuple(ConsentEvent.from_pb(e) for e in items)


@dataclass(frozen=True)
class WatchItem:
    """One message of :meth:`Client.watch_consent_events`: an event, or a
    heartbeat (``event`` is ``None``) saying that the server has read every event
    up to ``sequence``. Keep ``sequence`` of the last item handled and resume
    after it."""

    sequence: int
    event: Optional[ConsentEvent]

    @property
    def heartbeat(self) -> bool:
        return self.event is None


@dataclass(frozen=True)
class ConsentChange:
    """The answer of :meth:`Client.record` and :meth:`Client.reject`."""

    recipient: str
    #: The events written; empty when nothing changed.
    events: Tuple[ConsentEvent, ...]
    #: The state after the call, one per type.
    results: Tuple[ConsentResult, ...]
    raw: Union[
        consent_service_pb2.RecordConsentResponse, consent_service_pb2.RejectConsentResponse
    ] = field(repr=False, compare=False)

    @classmethod
    def from_pb(
        cls,
        m: Union[consent_service_pb2.RecordConsentResponse, consent_service_pb2.RejectConsentResponse],
    ) -> "ConsentChange":
        return cls(recipient=m.recipient, events=_events(m.events), results=_results(m.results), raw=m)


@dataclass(frozen=True)
class SubmitCodeResult:
    """The answer of :meth:`Client.submit_code`."""

    verification: Verification
    #: The consent state after the code was accepted.
    results: Tuple[ConsentResult, ...]
    events: Tuple[ConsentEvent, ...]
    raw: verification_service_pb2.SubmitCodeResponse = field(repr=False, compare=False)

    @classmethod
    def from_pb(cls, m: verification_service_pb2.SubmitCodeResponse) -> "SubmitCodeResult":
        return cls(
            verification=Verification.from_pb(m.verification),
            results=_results(m.results),
            events=_events(m.events),
            raw=m,
        )


@dataclass(frozen=True)
class Message:
    """An SMS izin sent (admin)."""

    id: str
    recipient: str
    #: The text; activation codes are masked unless the provider is the sandbox.
    body: str
    status: MessageStatus
    kind: MessageKind
    create_time: Optional[_dt.datetime]
    sender: str
    verification_id: str
    provider: str
    send_time: Optional[_dt.datetime]
    attempts: int
    last_error: str
    provider_message_id: str
    #: The provider's own code from its delivery report, and when it came.
    status_code: str
    status_time: Optional[_dt.datetime]
    raw: admin_service_pb2.Message = field(repr=False, compare=False)

    @classmethod
    def from_pb(cls, m: admin_service_pb2.Message) -> "Message":
        return cls(
            id=m.id,
            recipient=m.recipient,
            body=m.body,
            status=_enum(MessageStatus, m.status),
            kind=_enum(MessageKind, m.kind),
            create_time=_time(m.create_time, m.HasField("create_time")),
            sender=m.sender,
            verification_id=m.verification_id,
            provider=m.provider,
            send_time=_time(m.send_time, m.HasField("send_time")),
            attempts=m.attempts,
            last_error=m.last_error,
            provider_message_id=m.provider_message_id,
            status_code=m.status_code,
            status_time=_time(m.status_time, m.HasField("status_time")),
            raw=m,
        )


@dataclass(frozen=True)
class Page(Generic[_T]):
    """One page of a list; iterate it, and pass ``next_page_token`` for the next."""

    items: List[_T]
    next_page_token: str = ""

    def __iter__(self) -> Iterator[_T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> _T:
        return self.items[index]
