"""Python client for izin, the consent server for commercial electronic messages
in Turkey (ETK/KVKK, İYS).

    import izin

    with izin.Client("izin.example.com:443", api_key="izin_...") as client:
        result = client.check("+90 532 123 45 67", types=["SMS", "CALL"])
        print(result.status("SMS"))  # ConsentStatus.GRANTED / REJECTED / NONE

See :class:`izin.Client`. Errors are :class:`izin.IzinError`; the generated
protobuf messages and stubs are in :mod:`izin.pb`.
"""

from izin._version import __version__
from izin.client import MAX_BATCH_SIZE, Client
from izin.errors import ErrorReason, FieldViolation, IzinError
from izin.models import (
    CheckItem,
    CheckRequest,
    CheckResult,
    ConsentChange,
    ConsentEvent,
    ConsentResult,
    ConsentStatus,
    ConsentType,
    Message,
    MessageKind,
    MessageStatus,
    Page,
    RecipientType,
    SubmitCodeResult,
    Verification,
    VerificationMethod,
    VerificationStatus,
    WatchItem,
)
from izin.retry import RetryPolicy

__all__ = [
    "__version__",
    "Client",
    "MAX_BATCH_SIZE",
    "RetryPolicy",
    "IzinError",
    "ErrorReason",
    "FieldViolation",
    "ConsentType",
    "ConsentStatus",
    "RecipientType",
    "VerificationMethod",
    "VerificationStatus",
    "MessageStatus",
    "MessageKind",
    "CheckRequest",
    "CheckResult",
    "CheckItem",
    "ConsentResult",
    "ConsentChange",
    "ConsentEvent",
    "WatchItem",
    "SubmitCodeResult",
    "Verification",
    "Message",
    "Page",
]
