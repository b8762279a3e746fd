"""An in-process izin server made of fake servicers, for the unit tests."""

from __future__ import annotations

import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import grpc
from google.protobuf import any_pb2, duration_pb2, message
from google.rpc import error_details_pb2, status_pb2

from izin import pb
from izin.errors import STATUS_DETAILS_KEY


def detail(msg: message.Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(msg)
    return packed


def bad_request(*fields: str) -> any_pb2.Any:
    return detail(
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=f"{f} is wrong") for f in fields
            ]
        )
    )


def error_info(reason: str, **metadata: str) -> any_pb2.Any:
    return detail(error_details_pb2.ErrorInfo(reason=reason, domain="izin.dev", metadata=metadata))


def retry_info(seconds: float) -> any_pb2.Any:
    delay = duration_pb2.Duration()
    delay.FromNanoseconds(int(seconds * 1e9))
    return detail(error_details_pb2.RetryInfo(retry_delay=delay))


@dataclass
class Failure:
    """An error a fake method answers with instead of its normal answer."""

    code: grpc.StatusCode
    message: str = "fake failure"
    details: Sequence[any_pb2.Any] = ()
    #: Put this code into the google.rpc.Status instead of ``code`` (to test mismatches).
    status_code: Optional[grpc.StatusCode] = None

    def status(self) -> status_pb2.Status:
        code = self.status_code or self.code
        return status_pb2.Status(code=code.value[0], message=self.message, details=list(self.details))


def abort(context: grpc.ServicerContext, failure: Failure) -> None:
    if failure.details or failure.status_code is not None:
        context.set_trailing_metadata(((STATUS_DETAILS_KEY, failure.status().SerializeToString()),))
    context.abort(failure.code, failure.message)


@dataclass
class Call:
    method: str
    request: Any
    metadata: Dict[str, Any]


@dataclass
class Recorder:
    """What the fake server saw, and the failures it is told to answer with."""

    calls: List[Call] = field(default_factory=list)
    failures: Dict[str, List[Failure]] = field(default_factory=dict)
    delays: Dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stream_cancelled: threading.Event = field(default_factory=threading.Event)
    stream_received: int = 0
    #: WatchConsentEvents: the messages of the n-th call (from 1) and the failure that ends it.
    watch: Optional[Callable[[int, Any], Tuple[List[Any], Optional[Failure]]]] = None

    def fail(self, method: str, *failures: Failure) -> None:
        with self.lock:
            self.failures.setdefault(method, []).extend(failures)

    def enter(self, method: str, request: Any, context: grpc.ServicerContext) -> None:
        """Records the call; answers with the next scripted failure, if any."""
        with self.lock:
            self.calls.append(Call(method, request, dict(context.invocation_metadata())))
            queue = self.failures.get(method) or []
            failure = queue.pop(0) if queue else None
            delay = self.delays.get(method, 0.0)
        if delay:
            time.sleep(delay)
        if failure is not None:
            abort(context, failure)

    def calls_to(self, method: str) -> List[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]


def consent_result(t: Any, status: Any = pb.CONSENT_STATUS_NONE) -> pb.ConsentResult:
    return pb.ConsentResult(type=t, status=status, allowed=status == pb.CONSENT_STATUS_GRANTED)


def normalize(recipient: str) -> str:
    return "".join(ch for ch in recipient if ch.isdigit() or ch == "+")


def answer(req: pb.CheckConsentRequest) -> pb.CheckConsentResponse:
    types = list(req.types) or [pb.CONSENT_TYPE_SMS, pb.CONSENT_TYPE_CALL, pb.CONSENT_TYPE_EMAIL]
    status = pb.CONSENT_STATUS_GRANTED if req.recipient.endswith("7") else pb.CONSENT_STATUS_NONE
    return pb.CheckConsentResponse(
        recipient=normalize(req.recipient),
        recipient_type=req.recipient_type or pb.RECIPIENT_TYPE_INDIVIDUAL,
        brand=req.brand or "DEFAULT",
        results=[consent_result(t, status) for t in types],
    )


def item_error(field_name: str) -> status_pb2.Status:
    return Failure(
        grpc.StatusCode.INVALID_ARGUMENT, "invalid recipient", [bad_request(field_name)]
    ).status()


class FakeConsent(pb.ConsentServiceServicer):
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def CheckConsent(self, request: pb.CheckConsentRequest, context: grpc.ServicerContext) -> pb.CheckConsentResponse:
        self.rec.enter("CheckConsent", request, context)
        return answer(request)

    def BatchCheckConsents(
        self, request: pb.BatchCheckConsentsRequest, context: grpc.ServicerContext
    ) -> pb.BatchCheckConsentsResponse:
        self.rec.enter("BatchCheckConsents", request, context)
        if len(request.checks) > 1000:
            abort(context, Failure(grpc.StatusCode.INVALID_ARGUMENT, "too many", [bad_request("checks")]))
        items = []
        for check in request.checks:
            if check.recipient == "bad":
                items.append(pb.CheckConsentItem(error=item_error("recipient")))
            else:
                items.append(pb.CheckConsentItem(result=answer(check)))
        return pb.BatchCheckConsentsResponse(items=items)

    def StreamCheckConsents(
        self, request_iterator: Iterator[pb.StreamCheckConsentsRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.StreamCheckConsentsResponse]:
        self.rec.enter("StreamCheckConsents", None, context)
        context.add_callback(self.rec.stream_cancelled.set)
        for req in request_iterator:
            with self.rec.lock:
                self.rec.stream_received += 1
            if req.check.recipient == "bad":
                yield pb.StreamCheckConsentsResponse(correlation_id=req.correlation_id, error=item_error("recipient"))
            elif req.check.recipient == "abort":
                abort(context, Failure(grpc.StatusCode.UNAVAILABLE, "going away"))
            else:
                yield pb.StreamCheckConsentsResponse(correlation_id=req.correlation_id, result=answer(req.check))

    def RecordConsent(self, request: pb.RecordConsentRequest, context: grpc.ServicerContext) -> pb.RecordConsentResponse:
        self.rec.enter("RecordConsent", request, context)
        return pb.RecordConsentResponse(
            recipient=normalize(request.recipient),
            results=[consent_result(t, pb.CONSENT_STATUS_GRANTED) for t in request.types],
            events=[pb.ConsentEvent(id="e1", sequence=1, type=t, status=pb.CONSENT_STATUS_GRANTED) for t in request.types],
        )

    def RejectConsent(self, request: pb.RejectConsentRequest, context: grpc.ServicerContext) -> pb.RejectConsentResponse:
        self.rec.enter("RejectConsent", request, context)
        return pb.RejectConsentResponse(
            recipient=normalize(request.recipient),
            results=[consent_result(t, pb.CONSENT_STATUS_REJECTED) for t in request.types],
        )

    def WatchConsentEvents(
        self, request: pb.WatchConsentEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchConsentEventsResponse]:
        self.rec.enter("WatchConsentEvents", pb.WatchConsentEventsRequest.FromString(request.SerializeToString()), context)
        assert self.rec.watch is not None
        context.add_callback(self.rec.stream_cancelled.set)
        messages, end = self.rec.watch(len(self.rec.calls_to("WatchConsentEvents")), request)
        yield from messages
        if end is not None:
            abort(context, end)
        while context.is_active():  # live: nothing more to say until cancelled
            time.sleep(0.01)

    def ListConsentEvents(
        self, request: pb.ListConsentEventsRequest, context: grpc.ServicerContext
    ) -> pb.ListConsentEventsResponse:
        self.rec.enter("ListConsentEvents", request, context)
        return pb.ListConsentEventsResponse(events=[pb.ConsentEvent(id="e2", sequence=2)], next_page_token="next")


def verification(id: str = "00000000-0000-4000-8000-000000000001", status: Any = pb.VERIFICATION_STATUS_PENDING) -> pb.Verification:
    v = pb.Verification(
        id=id,
        status=status,
        method=pb.VERIFICATION_METHOD_SMS_CODE,
        recipient="+905321234567",
        types=[pb.CONSENT_TYPE_SMS],
        attempts_left=3,
    )
    v.expire_time.FromSeconds(1_900_000_000)
    return v


class FakeVerification(pb.VerificationServiceServicer):
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def StartVerification(
        self, request: pb.StartVerificationRequest, context: grpc.ServicerContext
    ) -> pb.StartVerificationResponse:
        self.rec.enter("StartVerification", request, context)
        v = verification()
        v.method = request.method
        if request.method == pb.VERIFICATION_METHOD_LANDING_PAGE:
            v.landing_url = "https://izin.example/v/abc"
        return pb.StartVerificationResponse(verification=v)

    def GetVerification(self, request: pb.GetVerificationRequest, context: grpc.ServicerContext) -> pb.GetVerificationResponse:
        self.rec.enter("GetVerification", request, context)
        return pb.GetVerificationResponse(verification=verification(request.id))

    def SubmitCode(self, request: pb.SubmitCodeRequest, context: grpc.ServicerContext) -> pb.SubmitCodeResponse:
        self.rec.enter("SubmitCode", request, context)
        if request.code != "123456":
            abort(
                context,
                Failure(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "the code does not match",
                    [bad_request("code"), error_info("ERROR_REASON_INVALID_CODE", attempts_left="2")],
                ),
            )
        return pb.SubmitCodeResponse(
            verification=verification(request.id, pb.VERIFICATION_STATUS_VERIFIED),
            results=[consent_result(pb.CONSENT_TYPE_SMS, pb.CONSENT_STATUS_GRANTED)],
        )

    def ResendCode(self, request: pb.ResendCodeRequest, context: grpc.ServicerContext) -> pb.ResendCodeResponse:
        self.rec.enter("ResendCode", request, context)
        return pb.ResendCodeResponse(verification=verification(request.id))

    def CancelVerification(
        self, request: pb.CancelVerificationRequest, context: grpc.ServicerContext
    ) -> pb.CancelVerificationResponse:
        self.rec.enter("CancelVerification", request, context)
        return pb.CancelVerificationResponse(verification=verification(request.id, pb.VERIFICATION_STATUS_CANCELLED))


class FakeAdmin(pb.AdminServiceServicer):
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def ListMessages(self, request: pb.ListMessagesRequest, context: grpc.ServicerContext) -> pb.ListMessagesResponse:
        self.rec.enter("ListMessages", request, context)
        m = pb.Message(
            id="m1",
            recipient="+905321234567",
            body="123456 is your code. MERSIS 0123456789012345. RET CONF 3338",
            status=pb.MESSAGE_STATUS_SENT,
            kind=pb.MESSAGE_KIND_ACTIVATION,
        )
        m.create_time.FromSeconds(1_800_000_000)
        return pb.ListMessagesResponse(messages=[m])


class FakeServer:
    """A real gRPC server on a loopback port serving the fakes."""

    def __init__(self, credentials: Optional[grpc.ServerCredentials] = None) -> None:
        self.rec = Recorder()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        pb.add_ConsentServiceServicer_to_server(FakeConsent(self.rec), self.server)
        pb.add_VerificationServiceServicer_to_server(FakeVerification(self.rec), self.server)
        pb.add_AdminServiceServicer_to_server(FakeAdmin(self.rec), self.server)
        if credentials is None:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        else:
            self.port = self.server.add_secure_port("localhost:0", credentials)
        self.server.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop(grace=None)


def metadata_pairs(call: Call) -> Tuple[Tuple[str, Any], ...]:
    return tuple(sorted(call.metadata.items()))
