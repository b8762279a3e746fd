"""watch_consent_events: resuming from the last sequence across reconnects."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

import grpc
import pytest

import izin
from fakes import Failure, FakeServer, retry_info
from izin import pb


def event(seq: int) -> pb.WatchConsentEventsResponse:
    return pb.WatchConsentEventsResponse(event=pb.ConsentEvent(id=f"e{seq}", sequence=seq))


def heartbeat(seq: int) -> pb.WatchConsentEventsResponse:
    return pb.WatchConsentEventsResponse(heartbeat=pb.WatchHeartbeat(sequence=seq))


DOWN = Failure(grpc.StatusCode.UNAVAILABLE, "restarting")


def test_watch_resumes_from_the_last_sequence(server: FakeServer, client: izin.Client, sleeps: List[float]) -> None:
    def script(n: int, req: Any) -> Tuple[List[Any], Optional[Failure]]:
        return {
            1: ([event(1), event(2), event(3)], DOWN),
            2: ([], DOWN),  # a reconnect that fails
            3: ([], Failure(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", [retry_info(0.5)])),
            4: ([heartbeat(5)], DOWN),
        }.get(n, ([event(6)], Failure(grpc.StatusCode.PERMISSION_DENIED, "key revoked")))

    server.rec.watch = script
    got = []
    with pytest.raises(izin.IzinError) as exc:
        for item in client.watch_consent_events(brand="ACME"):
            got.append(-item.sequence if item.heartbeat else item.sequence)
    assert exc.value.code is grpc.StatusCode.PERMISSION_DENIED
    assert got == [1, 2, 3, -5, 6]
    calls = server.rec.calls_to("WatchConsentEvents")
    assert [c.request.after_sequence for c in calls] == [0, 3, 3, 3, 5]
    assert {c.request.brand for c in calls} == {"ACME"}
    assert all(c.metadata["authorization"] == "Bearer izin_test" for c in calls)
    # Backoff grows while reconnects fail, honours RetryInfo, and starts over after a message.
    assert len(sleeps) == 4 and sleeps[2] >= 0.5 and sleeps[3] <= sleeps[2]


def test_watch_close_cancels_the_stream(server: FakeServer, client: izin.Client) -> None:
    server.rec.watch = lambda n, req: ([event(1), event(2)], None)
    watch = client.watch_consent_events()
    assert next(watch).sequence == 1
    assert next(watch).event is not None
    watch.close()
    assert server.rec.stream_cancelled.wait(10)
