"""Workers under retries and partial failure: at-most-once in effect, at-least-once in delivery,
and what cannot be applied is seen by someone."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.lambdas.conftest import REGION
from tests.lambdas.test_payments_worker import IDEMPOTENCY, exceptions, message, order, outbox, put_order, worker  # noqa: F401

THROTTLED = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                        "PutItem")


def test_a_throttle_on_the_idempotency_record_after_the_ledger_write_emits_one_payment_failed(
        worker, monkeypatch) -> None:  # noqa: F811
    order_id = put_order()
    persistence = worker.module.persistence
    original, calls = persistence.save_success, []

    def throttled_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise THROTTLED
        return original(*args, **kwargs)

    monkeypatch.setattr(persistence, "save_success", throttled_once)
    body = message("wh-fail", "payment.failed", order_id)
    assert worker([body]) == ["m0"]  # the record fails and SQS delivers it again
    # By the redelivery the unfinished idempotency record has expired (or its cleanup failed):
    # the ledger runs a second time.
    idempotency = boto3.resource("dynamodb", region_name=REGION).Table(IDEMPOTENCY)
    for item in idempotency.scan()["Items"]:
        idempotency.delete_item(Key={"id": item["id"]})
    assert worker([body]) == []
    assert len(outbox("PaymentFailed")) == 1
    assert worker([body]) == []  # and a third delivery is a no-op
    assert len(outbox("PaymentFailed")) == 1


def test_a_late_payment_failed_for_a_paid_order_is_an_exception_not_an_event(worker) -> None:  # noqa: F811
    order_id = put_order()
    assert worker([message("wh-ok", "payment.succeeded", order_id)]) == []
    assert worker([message("wh-late", "payment.failed", order_id, payment_id="pay-2")]) == []
    assert order(order_id)["state"] == "PAID"
    assert outbox("PaymentFailed") == []
    assert [e["reason"] for e in exceptions()] == ["failed-after-paid"]


@pytest.mark.parametrize(("setup", "event", "reason"), [
    ("CANCELLED", "payment.succeeded", "order-cancelled"),
    ("EXPIRED", "payment.succeeded", "order-expired"),
    ("PENDING", "payment.succeeded:wrong-amount", "amount-mismatch"),
])
def test_payments_we_cannot_apply_are_counted_for_the_alarm(worker, capsys, setup, event, reason) -> None:  # noqa: F811
    import json

    order_id = put_order(state=setup)
    kind, _, variant = event.partition(":")
    amount = "29.99" if variant == "wrong-amount" else "30.00"
    assert worker([message(f"wh-{reason}", kind, order_id, amount=amount)]) == []
    assert [e["reason"] for e in exceptions()] == [reason]
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    values = [m["PaymentExceptions"] for m in emitted if "PaymentExceptions" in m]
    assert sum(sum(v) if isinstance(v, list) else v for v in values) == 1


def test_the_payment_exceptions_alarm_is_critical_and_on_the_dashboard(synth_stack) -> None:
    import json
    import re

    prod = synth_stack("prod")
    alarm = prod.named("payments-webhook-worker-payment-exceptions")["inputs"]
    assert (alarm["namespace"], alarm["metricName"], alarm["dimensions"]) == (
        "orders", "PaymentExceptions", {"service": "orders"})
    assert alarm["tags"]["severity"] == "critical" and alarm["threshold"] == 1
    health = prod.named("orders-health", "aws:cloudwatch/compositeAlarm:CompositeAlarm")["inputs"]["alarmRule"]
    assert alarm["name"] in re.findall(r'ALARM\("([^"]+)"\)', health)
    dashboard = json.loads(prod.one("aws:cloudwatch/dashboard:Dashboard")["inputs"]["dashboardBody"])
    assert alarm["name"] in {w["properties"].get("title") for w in dashboard["widgets"]}
