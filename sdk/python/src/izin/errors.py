"""Typed errors decoded from gRPC statuses and their google.rpc details."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

__all__ = ["ErrorReason", "FieldViolation", "IzinError", "STATUS_DETAILS_KEY"]

#: Trailing-metadata key that carries the serialized google.rpc.Status.
STATUS_DETAILS_KEY = "grpc-status-details-bin"

_CODES_BY_NUMBER: Dict[int, grpc.StatusCode] = {c.value[0]: c for c in grpc.StatusCode}


class ErrorReason(str, enum.Enum):
    """``google.rpc.ErrorInfo.reason`` values izin sets (domain ``izin.dev``).

    :attr:`IzinError.reason` is a plain string so that reasons added by a newer
    server still come through; it compares equal to these members.
    """

    INVALID_CODE = "ERROR_REASON_INVALID_CODE"
    VERIFICATION_EXPIRED = "ERROR_REASON_VERIFICATION_EXPIRED"
    TOO_MANY_ATTEMPTS = "ERROR_REASON_TOO_MANY_ATTEMPTS"
    VERIFICATION_CLOSED = "ERROR_REASON_VERIFICATION_CLOSED"
    RATE_LIMITED = "ERROR_REASON_RATE_LIMITED"
    FIRST_RECORD_REJECTED = "ERROR_REASON_FIRST_RECORD_REJECTED"
    INVALID_CONSENT_TIME = "ERROR_REASON_INVALID_CONSENT_TIME"
    IDEMPOTENCY_KEY_REUSED = "ERROR_REASON_IDEMPOTENCY_KEY_REUSED"
    SCOPE_MISSING = "ERROR_REASON_SCOPE_MISSING"
    INVALID_API_KEY = "ERROR_REASON_INVALID_API_KEY"
    RECIPIENT_MISMATCH = "ERROR_REASON_RECIPIENT_MISMATCH"
    CONSENT_TEXT_MISSING = "ERROR_REASON_CONSENT_TEXT_MISSING"
    PAGE_NOT_SUBMITTED = "ERROR_REASON_PAGE_NOT_SUBMITTED"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class FieldViolation:
    """One ``google.rpc.BadRequest.FieldViolation``: which request field is wrong."""

    field: str
    description: str = ""
    reason: str = ""


def status_code(number: int) -> grpc.StatusCode:
    """The :class:`grpc.StatusCode` for a numeric gRPC code (UNKNOWN if unknown)."""
    return _CODES_BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)


class IzinError(Exception):
    """A failed izin call.

    Attributes:
        code: the gRPC status code, e.g. ``grpc.StatusCode.INVALID_ARGUMENT``.
        message: the status message.
        violations: the ``BadRequest`` field violations, if any.
        field: the first violated field name (``""`` if none), e.g. ``"recipient"``.
        reason: ``ErrorInfo.reason``, e.g. ``"ERROR_REASON_INVALID_CODE"`` (``""`` if none).
        domain: ``ErrorInfo.domain`` (``"izin.dev"`` for izin's own reasons).
        metadata: ``ErrorInfo.metadata``, e.g. ``{"attempts_left": "2"}``.
        retry_after: ``RetryInfo.retry_delay`` in seconds, or ``None``.
        details: every detail of the status, as ``google.protobuf.Any``.
        status: the decoded ``google.rpc.Status`` (``None`` if the server sent none).
    """

    code: grpc.StatusCode
    message: str
    violations: Tuple[FieldViolation, ...]
    reason: str
    domain: str
    metadata: Dict[str, str]
    retry_after: Optional[float]
    details: Tuple[any_pb2.Any, ...]
    status: Optional[status_pb2.Status]

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str = "",
        *,
        violations: Sequence[FieldViolation] = (),
        reason: str = "",
        domain: str = "",
        metadata: Optional[Mapping[str, str]] = None,
        retry_after: Optional[float] = None,
        details: Sequence[any_pb2.Any] = (),
        status: Optional[status_pb2.Status] = None,
    ) -> None:
        self.code = code
        self.message = message
        self.violations = tuple(violations)
        self.reason = reason
        self.domain = domain
        self.metadata = dict(metadata or {})
        self.retry_after = retry_after
        self.details = tuple(details)
        self.status = status
        super().__init__(self._describe())

    @property
    def field(self) -> str:
        """The first violated request field (``""`` if the error names none)."""
        return self.violations[0].field if self.violations else ""

    @property
    def attempts_left(self) -> Optional[int]:
        """``metadata["attempts_left"]`` as an int (wrong-code errors), else ``None``."""
        value = self.metadata.get("attempts_left")
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    def _describe(self) -> str:
        text = f"{self.code.name}: {self.message}" if self.message else self.code.name
        extra = []
        if self.reason:
            extra.append(f"reason={self.reason}")
        if self.violations:
            extra.append("fields=" + ",".join(v.field for v in self.violations))
        if self.retry_after is not None:
            extra.append(f"retry_after={self.retry_after:g}s")
        return f"{text} ({'; '.join(extra)})" if extra else text

    def __repr__(self) -> str:
        return f"IzinError({self._describe()!r})"

    def __reduce__(self) -> Any:  # keep the error picklable (e.g. across processes)
        return (
            _rebuild,
            (
                self.code.value[0],
                self.message,
                self.status.SerializeToString() if self.status is not None else None,
                self.violations,
                self.reason,
                self.domain,
                self.metadata,
                self.retry_after,
            ),
        )

    # --- decoding ---------------------------------------------------------

    @classmethod
    def from_status(cls, status: status_pb2.Status) -> "IzinError":
        """Decodes a ``google.rpc.Status`` (e.g. a failed item of a batch or stream)."""
        return cls._build(status_code(status.code), status.message, status)

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "IzinError":
        """Decodes a failed call: its code, message and the ``google.rpc.Status``
        carried in the ``grpc-status-details-bin`` trailer."""
        if not isinstance(error, grpc.Call):
            return cls(grpc.StatusCode.UNKNOWN, str(error))
        code = error.code() or grpc.StatusCode.UNKNOWN
        message = error.details() or ""
        status: Optional[status_pb2.Status] = None
        for key, value in error.trailing_metadata() or ():
            if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
                decoded = status_pb2.Status()
                try:
                    decoded.ParseFromString(value)
                except Exception:  # a malformed trailer must not hide the real error
                    break
                # As grpcio-status does: details that disagree with the call's
                # code belong to something else and are ignored.
                if decoded.code == code.value[0]:
                    status = decoded
                break
        return cls._build(code, message, status)

    @classmethod
    def _build(
        cls, code: grpc.StatusCode, message: str, status: Optional[status_pb2.Status]
    ) -> "IzinError":
        violations: List[FieldViolation] = []
        reason = domain = ""
        metadata: Dict[str, str] = {}
        retry_after: Optional[float] = None
        details: Tuple[any_pb2.Any, ...] = ()
        if status is not None:
            details = tuple(status.details)
            for detail in details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    violations.extend(
                        FieldViolation(v.field, v.description, v.reason) for v in bad.field_violations
                    )
                elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    if not reason:
                        reason, domain = info.reason, info.domain
                    for key, value in info.metadata.items():
                        metadata.setdefault(key, value)
                elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                    retry = error_details_pb2.RetryInfo()
                    detail.Unpack(retry)
                    delay = retry.retry_delay
                    retry_after = max(0.0, delay.seconds + delay.nanos / 1e9)
        return cls(
            code,
            message,
            violations=violations,
            reason=reason,
            domain=domain,
            metadata=metadata,
            retry_after=retry_after,
            details=details,
            status=status,
        )


def _rebuild(
    code: int,
    message: str,
    status: Optional[bytes],
    violations: Tuple[FieldViolation, ...],
    reason: str,
    domain: str,
    metadata: Dict[str, str],
    retry_after: Optional[float],
) -> IzinError:
    decoded = status_pb2.Status.FromString(status) if status is not None else None
    return IzinError(
        status_code(code),
        message,
        violations=violations,
        reason=reason,
        domain=domain,
        metadata=metadata,
        retry_after=retry_after,
        details=tuple(decoded.details) if decoded is not None else (),
        status=decoded,
    )
