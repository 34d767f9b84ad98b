"""Every flow of the reference system on the local cloud, in one cloud and one test (pytest-xdist
would split separate tests across workers and start the cloud twice): POST /orders to each consumer,
cancel, the high-value rule, the signed webhook to PAID with the provider's retry, the fulfilment saga
(carrier callback, and an out-of-stock order compensated), the jobs, activity
aggregates, poison stream records and a poison message. The routing contract is written in
tools/local/demo.py, not read from the synth. Then the grants, proven both ways: every (action,
resource) a role grants was used by a flow, or is kept with its reason in tools/local/grants.py KEPT
(or is Lambda's own logs/X-Ray)."""

from __future__ import annotations

from tests.e2e.conftest import start_cloud


def test_the_reference_system_end_to_end(tmp_path) -> None:
    from tools.local import demo, grants

    cloud = start_cloud(tmp_path, prewarm=True)
    try:
        results = demo.run(cloud, echo=lambda line: None)
        driver = demo.Driver(cloud)
        seen = {consumer: [detail_type for detail_type, _ in driver.deliveries(consumer)] for consumer in demo.CONSUMERS}
        calls = cloud.runtime.calls_by_function()
        report = grants.unused_grants(cloud)
        executions = sum(len(starter.executions) for starter in cloud.runtime.starters)
    finally:
        cloud.stop()

    assert [r.name.split(" -> ")[0].split(":")[0] for r in results] == [
        "order placed", "order cancelled", "high-value order", "signed payment webhook", "OrderPaid",
        "scheduled jobs fired on demand", "analytics", "poison stream records", "poison message"]
    # Each subscriber got exactly its rule's events: 8 orders placed, one of them above the threshold,
    # one cancelled, three paid (one webhook delivered twice), one expired.
    assert {c: sorted(set(types)) for c, types in seen.items()} == {
        "notifications-consumer": ["OrderCancelled", "OrderExpired", "OrderPaid", "OrderPlaced"],
        "analytics-consumer": ["OrderCancelled", "OrderExpired", "OrderPaid", "OrderPlaced"],
        "high-value-review-consumer": ["OrderPlaced"],
    }
    assert seen["notifications-consumer"].count("OrderPaid") == 3  # one effect for the duplicate webhook
    assert seen["notifications-consumer"].count("OrderPlaced") == 8
    payment = next(r for r in results if r.name.startswith("signed payment webhook"))
    assert "the duplicate webhook had no second effect (one OrderPaid, one fulfilment execution)" in payment.facts
    saga = next(r for r in results if r.name.startswith("OrderPaid -> fulfilment saga"))
    assert saga.facts[1].startswith("carrier callback (SendTaskSuccess) -> FULFILLED, OrderFulfilled in the outbox")
    assert "OutOfStockError -> SKU-1 released" in saga.facts[2] and saga.facts[2].endswith("the execution FAILED")
    assert executions == 3  # one per paid order: the duplicate webhook started no second one
    placed = next(r for r in results if r.name.startswith("order placed"))
    assert "the retried POST (same Idempotency-Key) answered the same order" in placed.facts
    poison = next(r for r in results if r.name.startswith("poison message"))
    assert poison.facts[0] == "poison message: 5 receives, each failed alone, then orders-dev-payments-webhook-queue-dlq"
    assert poison.facts[-1].startswith("tools.redrive moved it back")
    # Every call was allowed by its caller's role, and every grant was used (or kept, with its reason).
    denied = [(name, call["operation"]) for name, made in calls.items() for call in made
              if call.get("error") == "AccessDenied"]
    assert sum(len(made) for made in calls.values()) > 50 and denied == []
    assert grants.unexplained(report) == []
    assert {(u.function, u.action) for u in report if u.action not in grants.PLATFORM_ACTIONS} == {
        ("api-orders", "dynamodb:DeleteItem"), ("api-orders", "dynamodb:GetItem"),
        ("outbox-relay", "dynamodb:ListStreams"), ("activity", "kinesis:ListStreams")}


def test_calls_are_authorized_as_iam_names_them() -> None:
    from tools.local import grants

    calls = [{"service": "dynamodb", "operation": "TransactWriteItems",
              "params": {"TransactItems": [{"Put": {"TableName": "t"}}, {"Update": {"TableName": "t"}}]}},
             {"service": "dynamodb", "operation": "Query", "params": {"TableName": "t", "IndexName": "byCustomer"}},
             {"service": "sqs", "operation": "DeleteMessageBatch", "params": {"QueueUrl": "http://127.0.0.1:1/123456789012/q"}},
             {"service": "events", "operation": "PutEvents", "params": {"EventBusNames": ["bus"]}}]
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
    assert grants.used_pairs(calls) == {
        ("dynamodb:PutItem", table), ("dynamodb:UpdateItem", table),
        ("dynamodb:Query", f"{table}/index/byCustomer"),
        ("sqs:DeleteMessage", "arn:aws:sqs:us-east-1:123456789012:q"),
        ("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/bus")}
