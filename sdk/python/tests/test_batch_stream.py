"""batch_check chunking and stream_check over the bidirectional stream."""

from __future__ import annotations

import threading
import time
from typing import Iterator, List, Union

import grpc
import pytest

import izin
from fakes import Failure, FakeServer


def phones(n: int, start: int = 0) -> List[str]:
    return [f"+9053{i:08d}" for i in range(start, start + n)]


def test_batch_check_chunks_by_1000_in_order(server: FakeServer, client: izin.Client) -> None:
    recipients = phones(2500)
    items = client.batch_check(recipients, types=["SMS"])
    calls = server.rec.calls_to("BatchCheckConsents")
    assert [len(c.request.checks) for c in calls] == [1000, 1000, 500]
    assert [c.request.checks[0].recipient for c in calls] == [recipients[0], recipients[1000], recipients[2000]]
    assert len(items) == 2500
    assert [i.request.recipient for i in items] == recipients
    assert [i.result.recipient for i in items if i.result] == recipients
    assert all(list(c.types) == [izin.ConsentType.SMS] for call in calls for c in call.request.checks)


def test_batch_check_exactly_1000_is_one_call(server: FakeServer, client: izin.Client) -> None:
    assert len(client.batch_check(phones(1000))) == 1000
    assert len(server.rec.calls_to("BatchCheckConsents")) == 1


def test_batch_check_empty_makes_no_call(server: FakeServer, client: izin.Client) -> None:
    assert client.batch_check([]) == []
    assert server.rec.calls_to("BatchCheckConsents") == []


def test_batch_check_item_errors_stay_in_their_item(client: izin.Client) -> None:
    items = client.batch_check(["+905321234567", "bad", izin.CheckRequest("+905300000000", types=("EMAIL", "CALL"))])
    assert [i.ok for i in items] == [True, False, True]
    assert items[1].result is None and items[1].error is not None
    assert items[1].error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert items[1].error.field == "recipient"
    third = items[2].result
    assert third is not None
    assert list(third.statuses) == [izin.ConsentType.EMAIL, izin.ConsentType.CALL]


def test_batch_check_is_lazy_and_retried(server: FakeServer, client: izin.Client, sleeps: List[float]) -> None:
    server.rec.fail("BatchCheckConsents", Failure(grpc.StatusCode.UNAVAILABLE))
    it = client.iter_batch_check(iter(phones(1500)), chunk_size=500)
    assert server.rec.calls_to("BatchCheckConsents") == []
    first = next(it)
    assert first.ok
    assert len(server.rec.calls_to("BatchCheckConsents")) == 2  # failed once, then answered
    assert len(sleeps) == 1
    assert len(list(it)) == 1499
    assert len(server.rec.calls_to("BatchCheckConsents")) == 4


def test_batch_check_call_failure_raises(server: FakeServer, client: izin.Client) -> None:
    server.rec.fail("BatchCheckConsents", Failure(grpc.StatusCode.PERMISSION_DENIED, "no"))
    with pytest.raises(izin.IzinError) as caught:
        client.batch_check(phones(3))
    assert caught.value.code is grpc.StatusCode.PERMISSION_DENIED


def test_chunk_size_is_bounded(client: izin.Client) -> None:
    with pytest.raises(ValueError):
        list(client.iter_batch_check(phones(1), chunk_size=1001))


def test_stream_check_answers_every_check_in_order(server: FakeServer, client: izin.Client) -> None:
    recipients = phones(5_000)
    items = list(client.stream_check(iter(recipients), types="SMS", window=256))
    assert len(items) == 5_000
    assert [i.request.recipient for i in items] == recipients
    assert [i.result.recipient for i in items if i.result] == recipients
    assert [i.correlation_id for i in items[:3]] == ["0", "1", "2"]
    assert server.rec.stream_received == 5_000


def test_stream_check_item_errors_and_correlation_ids(client: izin.Client) -> None:
    checks: List[Union[str, izin.CheckRequest]] = [
        izin.CheckRequest("+905321234567", correlation_id="row-1"),
        "bad",
        "+905300000000",
    ]
    items = list(client.stream_check(checks))
    assert [i.correlation_id for i in items] == ["row-1", "1", "2"]
    assert [i.ok for i in items] == [True, False, True]
    assert items[1].error is not None and items[1].error.field == "recipient"


def test_stream_check_memory_is_bounded_by_the_window(client: izin.Client) -> None:
    pulled = 0

    def endless() -> Iterator[str]:
        nonlocal pulled
        while True:
            pulled += 1
            yield "+905321234567"

    stream = client.stream_check(endless(), window=50)
    for _ in range(10):
        next(stream)
    time.sleep(0.3)  # give the sending thread every chance to run ahead
    # 10 answered + at most 50 in flight + the one waiting for room.
    assert pulled <= 10 + 50 + 1
    stream.close()


def test_stream_check_stops_the_stream_when_abandoned(server: FakeServer, client: izin.Client) -> None:
    def endless() -> Iterator[str]:
        while True:
            yield "+905321234567"

    stream = client.stream_check(endless(), window=10)
    next(stream)
    stream.close()
    assert server.rec.stream_cancelled.wait(5)


def test_stream_check_failure_raises_izin_error(server: FakeServer, client: izin.Client) -> None:
    with pytest.raises(izin.IzinError) as caught:
        list(client.stream_check(["+905321234567", "abort", "+905321234567"]))
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE
    assert caught.value.message == "going away"


def test_stream_check_reraises_the_callers_exception(client: izin.Client) -> None:
    class Boom(Exception):
        pass

    def broken() -> Iterator[str]:
        yield "+905321234567"
        raise Boom("the list is broken")

    with pytest.raises(Boom):
        list(client.stream_check(broken()))


def test_stream_check_can_be_consumed_from_another_thread(client: izin.Client) -> None:
    out: List[izin.CheckItem] = []
    t = threading.Thread(target=lambda: out.extend(client.stream_check(phones(500))))
    t.start()
    t.join(30)
    assert len(out) == 500
