"""Retry policy: exponential backoff with jitter, honouring google.rpc.RetryInfo."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, Optional

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

from izin._gen.izin.v1 import admin_service_pb2, consent_service_pb2, verification_service_pb2

__all__ = ["RetryPolicy", "DEFAULT_RETRY_CODES", "declared_idempotent", "retries_allowed"]

_SAFE_LEVELS = frozenset({descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS, descriptor_pb2.MethodOptions.IDEMPOTENT})


def _methods_by_request() -> Dict[str, MethodDescriptor]:
    """Each izin.v1 method by its request type (every RPC has a request type of its own)."""
    out: Dict[str, MethodDescriptor] = {}
    for module in (consent_service_pb2, verification_service_pb2, admin_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                if method.input_type.full_name in out:
                    raise RuntimeError(f"{method.input_type.full_name} is the request of two methods")
                out[method.input_type.full_name] = method
    return out


_BY_REQUEST = _methods_by_request()


def declared_idempotent(method: MethodDescriptor) -> bool:
    """Whether the proto declares the method NO_SIDE_EFFECTS or IDEMPOTENT (idempotency_level)."""
    return method.GetOptions().idempotency_level in _SAFE_LEVELS


def retries_allowed(request: Message) -> bool:
    """Whether the call carrying ``request`` may be sent again after a failure.

    Yes when its method is declared idempotent in the proto (read from the
    generated descriptors), or when the request carries an ``idempotency_key``,
    with which the server replays the first answer.
    """
    method = _BY_REQUEST.get(request.DESCRIPTOR.full_name)
    if method is not None and declared_idempotent(method):
        return True
    return bool(getattr(request, "idempotency_key", ""))

#: Codes retried by default: the server (or the way to it) is briefly unable to answer.
DEFAULT_RETRY_CODES: FrozenSet[grpc.StatusCode] = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED}
)


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries idempotent calls.

    Only calls that are safe to repeat are retried (:func:`retries_allowed`):
    those the proto declares NO_SIDE_EFFECTS or IDEMPOTENT (checks, reads,
    rejections), and verifications/records that carry an idempotency key (the
    client adds one when you give none). ``submit_code``, ``resend_code`` and
    ``cancel_verification`` are never retried.

    The n-th retry (n = 1, 2, ...) waits ``initial_backoff * multiplier**(n-1)``
    seconds, capped at ``max_backoff`` and spread by ``±jitter`` (a fraction),
    or the server's ``RetryInfo.retry_delay`` when that is longer. A
    ``retry_delay`` above ``max_retry_after`` is not waited for: the error is
    raised at once, with :attr:`IzinError.retry_after` set.

    ``RetryPolicy(max_attempts=1)`` (or :meth:`disabled`) turns retries off.
    """

    max_attempts: int = 4
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.2
    max_retry_after: float = 10.0
    retry_codes: FrozenSet[grpc.StatusCode] = field(default=DEFAULT_RETRY_CODES)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("backoffs must not be negative")
        if self.multiplier < 1:
            raise ValueError("multiplier must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    @classmethod
    def disabled(cls) -> "RetryPolicy":
        """A policy that never retries."""
        return cls(max_attempts=1)

    def should_retry(self, code: grpc.StatusCode, attempt: int, retry_after: Optional[float]) -> bool:
        """Whether a call that failed with ``code`` on attempt ``attempt`` (1-based) is retried."""
        if attempt >= self.max_attempts or code not in self.retry_codes:
            return False
        return retry_after is None or retry_after <= self.max_retry_after

    def backoff(
        self,
        retry: int,
        retry_after: Optional[float] = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** max(0, retry - 1))
        delay = base * (1 + self.jitter * (2 * rand() - 1))
        delay = min(delay, self.max_backoff)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return max(0.0, delay)
