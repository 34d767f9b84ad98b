"""Inject a fault at the k-th AWS call a handler makes (botocore's before-call event), so a test
can walk every call of a flow: the fault must fail the request or record visibly, and a retry
must end in the same state as a run without faults."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError


class CallCounter:
    def __init__(self, fail_at: int | None) -> None:
        self.fail_at = fail_at
        self.calls: list[str] = []

    def __call__(self, event_name: str, **_: Any) -> None:
        self.calls.append(event_name.removeprefix("before-call."))
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected fault"}},
                              event_name.rsplit(".", 1)[-1])


@contextmanager
def fault_at(clients: Sequence[Any], index: int | None) -> Iterator[CallCounter]:
    """Count the AWS calls of ``clients``; with ``index``, the index-th (1-based) fails."""
    counter = CallCounter(index)
    unique = {id(c): c for c in clients}.values()
    for client in unique:
        client.meta.events.register("before-call.*.*", counter, unique_id="fault-injection")
    try:
        yield counter
    finally:
        for client in unique:
            client.meta.events.unregister("before-call.*.*", unique_id="fault-injection")
