from __future__ import annotations

import json

import pulumi
import pytest

from components.runtime import webhook_schema as names
from components.webhook_ingestion import WebhookConfigError, WebhookIngestion, WebhookIngestionArgs
from tests.conftest import PROJECT
from tests.specs import spec

SECRET_VALUE = "whsec_dGhpcyBpcyBhIHZlcnkgc2VjcmV0IHZhbHVlISE="


def stack_webhook_fields(settings) -> dict:
    webhooks = settings.webhooks
    return {"batch_size": webhooks.batch_size, "batching_window_seconds": webhooks.batching_window_seconds,
            "max_concurrency": webhooks.max_concurrency, "signing_secret": webhooks.secrets.get("payments")}


def webhook(fifo: bool = False, **fields):
    def build(ctx, parent):
        args = WebhookIngestionArgs(
            source="payments", scheme="standard",
            worker=spec(folder="payments_worker", function_class="worker"),
            fifo=fifo, message_group_field="data.account" if fifo else None,
            **{**stack_webhook_fields(parent.settings), **fields}, stack=ctx)
        return WebhookIngestion("payments-webhook", args, pulumi.ResourceOptions(parent=parent))
    return build


def functions(template) -> dict[str, dict]:
    return {f["name"]: f["inputs"] for f in template.of_type("aws:lambda/function:Function")}


def role_statements(template, function_logical: str) -> list[dict]:
    policy = template.named(f"{function_logical}-policy")
    return template.policy(policy)["Statement"]


def test_public_post_route_per_source_on_its_own_api(run_builder) -> None:
    out = run_builder(webhook(), "dev")
    route = out.template.one("aws:apigatewayv2/route:Route")["inputs"]
    assert route["routeKey"] == "POST /webhooks/payments" and route["authorizationType"] == "NONE"
    assert out.template.count("aws:apigatewayv2/api:Api") == 1


def test_receiver_is_small_and_has_the_documented_environment(run_builder) -> None:
    out = run_builder(webhook(), "dev")
    receiver = functions(out.template)["payments-webhook-receiver"]
    assert receiver["handler"] == "components.runtime.webhook_receiver.handler.handler"
    assert receiver["timeout"] <= 5 and receiver["memorySize"] <= 256
    variables = receiver["environment"]["variables"]
    assert variables[names.SCHEME_ENV] == "standard"
    assert variables[names.SECRET_ARN_ENV].startswith("arn:aws:secretsmanager:")
    assert variables[names.QUEUE_URL_ENV].startswith("https://sqs.")


def test_receiver_may_read_only_its_secret_and_send_only_to_its_queue(run_builder) -> None:
    out = run_builder(webhook(), "dev")
    statements = [s for s in role_statements(out.template, "payments-webhook-receiver")
                  if s.get("Sid") not in ("OwnLogGroup", "XRay")]
    secret_name = out.template.one("aws:secretsmanager/secret:Secret")["inputs"]["name"]
    queue_name = out.template.named("payments-webhook-queue")["inputs"]["name"]
    assert {(tuple(s["Action"]), tuple(s["Resource"])) for s in statements} == {
        (("secretsmanager:GetSecretValue",), (f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{secret_name}-AbCdEf",)),
        (("sqs:SendMessage",), (f"arn:aws:sqs:us-east-1:123456789012:{queue_name}",)),
    }


def test_worker_consumes_the_queue_and_owns_an_idempotency_table(run_builder) -> None:
    out = run_builder(webhook(), "dev")
    statements = role_statements(out.template, "payments-webhook-worker")
    actions = {a for s in statements for a in s["Action"]}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} <= actions
    assert "sqs:SendMessage" not in actions and "secretsmanager:GetSecretValue" not in actions
    table = out.template.one("aws:dynamodb/table:Table")["inputs"]
    worker = functions(out.template)["payments-webhook-worker"]
    assert worker["environment"]["variables"]["IDEMPOTENCY_TABLE_NAME"] == table["name"]
    assert table["ttl"]["enabled"] is True


def test_event_source_mapping_from_settings_with_partial_batches(run_builder) -> None:
    for stack, (batch, window, concurrency) in (("dev", (10, 1, 2)), ("prod", (25, 2, 10))):
        out = run_builder(webhook(), stack)
        mapping = out.template.one("aws:lambda/eventSourceMapping:EventSourceMapping")["inputs"]
        assert mapping["batchSize"] == batch and mapping["maximumBatchingWindowInSeconds"] == window
        assert mapping["scalingConfig"] == {"maximumConcurrency": concurrency}
        assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["eventSourceArn"].endswith(f":orders-{stack}-payments-webhook-queue")


def test_worker_reserved_concurrency_protects_what_it_calls(run_builder) -> None:
    prod = functions(run_builder(webhook(), "prod").template)["payments-webhook-worker"]
    assert prod["reservedConcurrentExecutions"] == 20


def test_queue_visibility_fits_the_worker_and_has_a_dlq(run_builder) -> None:
    out = run_builder(webhook(), "prod")
    queue = out.template.named("payments-webhook-queue")["inputs"]
    assert queue["visibilityTimeoutSeconds"] >= 6 * functions(out.template)["payments-webhook-worker"]["timeout"]
    assert json.loads(queue["redrivePolicy"])["maxReceiveCount"] >= 3


def test_a_secret_config_value_becomes_a_secret_version_stored_as_a_secret(monkeypatch) -> None:
    from components.platform import Platform, stack_provider
    from system.settings import load_settings
    from tests.conftest import stack_raw_config
    from tools.mocks import run_mocked
    from tools.template import Template

    key = f"{PROJECT}:paymentsWebhookSecret"
    config = {**stack_raw_config("dev"), key: SECRET_VALUE}

    def program() -> None:
        settings = load_settings("dev", config, secret_keys=frozenset({key}))
        on_provider = pulumi.ResourceOptions(providers=[stack_provider(settings.defaults)])
        platform = Platform("platform", settings.platform, on_provider)
        parent = pulumi.ComponentResource("test:index:Harness", "harness", None, on_provider)
        parent.settings = settings
        webhook()(platform.stack, parent)

    run = run_mocked(program, PROJECT, "dev", config, secret_keys=[key])
    document = run.as_json()
    assert SECRET_VALUE not in json.dumps(document)
    version = Template(document).one("aws:secretsmanager/secretVersion:SecretVersion")["inputs"]
    assert version["secretString"] == "[secret]"
    receiver = Template(document).named("payments-webhook-receiver")["inputs"]
    assert SECRET_VALUE not in json.dumps(receiver["environment"])


def test_an_unencrypted_secret_in_stack_config_is_refused() -> None:
    from system.settings import SettingsError
    from tests.conftest import settings_for

    with pytest.raises(SettingsError, match="--secret"):
        settings_for("dev", paymentsWebhookSecret=SECRET_VALUE)


def test_alarms_signature_4xx_5xx_errors_queue_age_dlq_worker(run_builder) -> None:
    out = run_builder(webhook(), "prod")
    alarms = {a["name"]: a["inputs"] for a in out.template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    four = alarms["payments-webhook-route-4xx-rate"]
    assert four["metricName"] == "4xx"
    assert four["dimensions"] == {"ApiId": four["dimensions"]["ApiId"], "Stage": "$default", "Route": "POST /webhooks/payments"}
    assert four["threshold"] == 0.05
    for expected in ("payments-webhook-route-5xx-rate", "payments-webhook-receiver-errors", "payments-webhook-queue-age",
                     "payments-webhook-queue-dlq-depth", "payments-webhook-worker-errors",
                     "payments-webhook-worker-throttles"):
        assert expected in alarms and alarms[expected]["alarmActions"], expected


def test_fifo_mode(run_builder) -> None:
    out = run_builder(webhook(fifo=True), "dev")
    queue = out.template.named("payments-webhook-queue")["inputs"]
    assert queue["fifoQueue"] is True and queue["name"].endswith(".fifo")
    receiver = functions(out.template)["payments-webhook-receiver"]
    assert receiver["environment"]["variables"][names.MESSAGE_GROUP_FIELD_ENV] == "data.account"
    mapping = out.template.one("aws:lambda/eventSourceMapping:EventSourceMapping")["inputs"]
    assert mapping["batchSize"] <= 10 and "maximumBatchingWindowInSeconds" not in mapping


@pytest.mark.parametrize(("fields", "overrides", "message"), [
    ({"fifo": True}, {}, "message_group_field"),
    ({}, {"webhookMaxConcurrency": 50}, "reserved concurrency"),
    ({"scheme": "hmac"}, {}, "scheme"),
    ({}, {"webhookBatchSize": 50, "webhookBatchingWindowSeconds": 0}, "batching_window_seconds"),
])
def test_unsafe_sources_are_refused(run_builder, fields, overrides, message) -> None:
    def build(ctx, parent):
        values = {"source": "payments", "scheme": "standard",
                  "worker": spec(folder="payments_worker", function_class="worker"),
                  **stack_webhook_fields(parent.settings), **fields, "stack": ctx}
        return WebhookIngestion("payments-webhook", WebhookIngestionArgs(**values), pulumi.ResourceOptions(parent=parent))

    with pytest.raises(WebhookConfigError, match=message):
        run_builder(build, "dev", **overrides)


def test_program_puts_the_payments_webhook_on_the_orders_api(synth_stack) -> None:
    template = synth_stack("dev")
    assert template.count("aws:apigatewayv2/api:Api") == 1
    keys = {r["inputs"]["routeKey"] for r in template.of_type("aws:apigatewayv2/route:Route")}
    assert "POST /webhooks/payments" in keys
    worker = template.named("payments-webhook-worker")["inputs"]
    assert worker["environment"]["variables"]["ORDERS_TABLE_NAME"] == "orders-dev-orders"


def test_the_stage_comes_after_the_webhook_route_and_publishes_only_its_metrics(run_builder) -> None:
    """API Gateway refuses route settings for a route key that does not exist yet; detailed
    metrics bill per route, so only the route with alarms gets them."""
    out = run_builder(webhook(), "prod")
    stage = out.template.one("aws:apigatewayv2/stage:Stage")
    route = out.template.one("aws:apigatewayv2/route:Route")
    assert stage["inputs"]["defaultRouteSettings"]["detailedMetricsEnabled"] is False
    assert stage["inputs"]["routeSettings"] == [{
        "routeKey": "POST /webhooks/payments", "detailedMetricsEnabled": True,
        "throttlingBurstLimit": 50, "throttlingRateLimit": 100}]  # a source's own API has the default throttling
    record = next(r for r in out.run.resources() if r.urn == stage["urn"])
    assert route["urn"] in record.dependencies


def test_a_shared_api_already_deployed_is_refused(run_builder) -> None:
    """Its stage could not name the webhook route any more."""
    from components.core.http_api import build_http_api
    from components.webhook_ingestion import WebhookConfigError, WebhookIngestion, WebhookIngestionArgs
    from tests.specs import spec

    def build(ctx, parent):
        api = build_http_api(ctx, "plain", parent)
        api.deploy()
        return WebhookIngestion("hook", WebhookIngestionArgs(
            source="payments", scheme="standard", api=api, worker=spec("payments_worker", "worker"), stack=ctx),
            pulumi.ResourceOptions(parent=parent))

    with pytest.raises(WebhookConfigError, match="already deployed"):
        run_builder(build, "dev")
