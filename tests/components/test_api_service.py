from __future__ import annotations

import json

import pulumi
import pytest

from components.api_service import ApiConfigError, ApiFunction, ApiService, ApiServiceArgs, Route, validate_args
from components.runtime import idempotency_schema as idem
from lambdas.shared import orders_schema as schema
from system.orders import orders_api_args
from tests.specs import spec

JWT = {"apiJwtIssuer": "https://auth.example.com/", "apiJwtAudience": ["orders-api"]}


def orders_service(ctx, parent):
    captured: dict[str, object] = {}
    service = ApiService("api", orders_api_args(parent.settings, ctx), pulumi.ResourceOptions(parent=parent))
    service.deploy()  # the orders API is shared with the webhook: the program deploys it after the routes
    service.url.apply(lambda url: captured.update(url=url))
    return captured


@pytest.fixture
def dev(run_builder):
    return run_builder(orders_service, "dev")


@pytest.fixture
def prod(run_builder):
    return run_builder(orders_service, "prod", **JWT)


def test_routes_match_the_handlers_route_table_and_target_the_integration(dev) -> None:
    t = dev.template
    routes = t.of_type("aws:apigatewayv2/route:Route")
    assert sorted(r["inputs"]["routeKey"] for r in routes) == sorted(f"{m} {p}" for m, p in schema.ROUTES)
    integration = t.one("aws:apigatewayv2/integration:Integration")
    integration_id = dev.run.monitor.resources[integration["urn"]].id
    assert {r["inputs"]["target"] for r in routes} == {f"integrations/{integration_id}"}


def test_lambda_proxy_integration_payload_2(dev, prod) -> None:
    dev_integration = dev.template.one("aws:apigatewayv2/integration:Integration")["inputs"]
    assert dev_integration["integrationType"] == "AWS_PROXY"
    assert dev_integration["payloadFormatVersion"] == "2.0"
    function_name = dev.template.one("aws:lambda/function:Function")["inputs"]["name"]
    assert dev_integration["integrationUri"].endswith(f":function:{function_name}")
    # prod has provisioned concurrency: traffic goes to the alias that holds it
    prod_integration = prod.template.one("aws:apigatewayv2/integration:Integration")["inputs"]
    assert prod_integration["integrationUri"].endswith(":live")


def test_default_stage_auto_deploys_with_json_access_logs_and_throttling(dev, prod) -> None:
    for out, (burst, rate, retention) in ((dev, (50, 100, 7)), (prod, (200, 500, 90))):
        stage = out.template.one("aws:apigatewayv2/stage:Stage")["inputs"]
        assert stage["name"] == "$default" and stage["autoDeploy"] is True
        log_format = json.loads(stage["accessLogSettings"]["format"])
        assert {"requestId", "status", "routeKey", "integrationError"} <= set(log_format)
        groups = {g["inputs"]["name"]: g["inputs"] for g in out.template.of_type("aws:cloudwatch/logGroup:LogGroup")}
        access = [n for n in groups if n.startswith("/aws/apigateway/")]
        assert len(access) == 1 and groups[access[0]]["retentionInDays"] == retention
        assert stage["accessLogSettings"]["destinationArn"].endswith(f":log-group:{access[0]}")
        throttling = stage["defaultRouteSettings"]
        assert (throttling["throttlingBurstLimit"], throttling["throttlingRateLimit"]) == (burst, rate)


def test_cors_from_settings(dev, run_builder) -> None:
    cors = dev.template.one("aws:apigatewayv2/api:Api")["inputs"]["corsConfiguration"]
    assert cors["allowOrigins"] == ["http://localhost:3000"]
    assert "idempotency-key" in cors["allowHeaders"]
    no_cors = run_builder(orders_service, "dev", apiCorsAllowOrigins=[])
    assert "corsConfiguration" not in no_cors.template.one("aws:apigatewayv2/api:Api")["inputs"]


def test_jwt_authorizer_protects_every_route_when_configured(prod) -> None:
    authorizer = prod.template.one("aws:apigatewayv2/authorizer:Authorizer")
    assert authorizer["inputs"]["authorizerType"] == "JWT"
    assert authorizer["inputs"]["jwtConfiguration"] == {"issuer": JWT["apiJwtIssuer"], "audiences": ["orders-api"]}
    authorizer_id = prod.run.monitor.resources[authorizer["urn"]].id
    assert len(prod.template.of_type("aws:apigatewayv2/route:Route")) == 4
    for route in prod.template.of_type("aws:apigatewayv2/route:Route"):
        assert route["inputs"]["authorizationType"] == "JWT" and route["inputs"]["authorizerId"] == authorizer_id


def test_without_an_issuer_routes_are_explicitly_public(dev) -> None:
    assert not dev.template.of_type("aws:apigatewayv2/authorizer:Authorizer")
    assert {r["inputs"]["authorizationType"] for r in dev.template.of_type("aws:apigatewayv2/route:Route")} == {"NONE"}


def test_a_protected_route_without_an_authorizer_is_refused() -> None:
    args = ApiServiceArgs(functions=(ApiFunction("f", spec("orders_api", "api"), (Route("GET", "/x"),)),))
    with pytest.raises(ApiConfigError, match="no JWT authorizer"):
        validate_args(args, has_authorizer=False)
    validate_args(args, has_authorizer=True)


@pytest.mark.parametrize(("args", "message"), [
    (ApiServiceArgs(functions=(ApiFunction("f", spec("orders_api", "worker"), (Route("GET", "/x", True),)),)),
     "'api' profile"),
    (ApiServiceArgs(functions=(ApiFunction("f", spec("orders_api", "api"),
                                           (Route("GET", "/x", True), Route("GET", "/x", True))),)), "twice"),
    (ApiServiceArgs(functions=(ApiFunction("f", spec("orders_api", "api"), (Route("FETCH", "x", True),)),)),
     "path starting"),
])
def test_service_shape_errors(args, message) -> None:
    with pytest.raises(ApiConfigError, match=message):
        validate_args(args, has_authorizer=True)


def test_tables_on_demand_encrypted_with_ttl_stream_and_index(dev) -> None:
    tables = {t["inputs"]["name"]: t["inputs"] for t in dev.template.of_type("aws:dynamodb/table:Table")}
    assert set(tables) == {"orders-dev-orders", "orders-dev-orders-idempotency"}
    orders = tables["orders-dev-orders"]
    assert orders["billingMode"] == "PAY_PER_REQUEST"
    assert orders["serverSideEncryption"] == {"enabled": True}
    assert orders["ttl"] == {"attributeName": schema.TTL_ATTRIBUTE, "enabled": True}
    assert orders["streamEnabled"] is True and orders["streamViewType"] == schema.STREAM_VIEW_TYPE
    indexes = {i["name"]: i for i in orders["globalSecondaryIndexes"]}
    assert set(indexes) == {schema.CUSTOMER_INDEX, schema.PENDING_INDEX, schema.DAY_INDEX}
    assert indexes[schema.PENDING_INDEX]["projectionType"] == "KEYS_ONLY"
    assert indexes[schema.DAY_INDEX]["projectionType"] == "INCLUDE"
    assert set(indexes[schema.DAY_INDEX]["nonKeyAttributes"]) == set(schema.DAY_INDEX_ATTRIBUTES)
    idempotency = tables["orders-dev-orders-idempotency"]
    assert idempotency["hashKey"] == idem.IDEMPOTENCY_KEY_ATTRIBUTE
    assert idempotency["ttl"]["attributeName"] == idem.IDEMPOTENCY_TTL_ATTRIBUTE


def test_prod_tables_are_protected_and_recoverable_dev_tables_are_not(dev, prod) -> None:
    assert len(prod.template.of_type("aws:dynamodb/table:Table")) == len(dev.template.of_type(
        "aws:dynamodb/table:Table")) == 2  # orders and its idempotency table
    for table in prod.template.of_type("aws:dynamodb/table:Table"):
        assert table["inputs"]["deletionProtectionEnabled"] is True
        assert table["inputs"]["pointInTimeRecovery"] == {"enabled": True}
    for table in dev.template.of_type("aws:dynamodb/table:Table"):
        assert table["inputs"]["deletionProtectionEnabled"] is False
        assert table["inputs"]["pointInTimeRecovery"] == {"enabled": False}


def test_role_gets_only_the_dynamodb_actions_its_routes_need_on_its_tables(dev) -> None:
    statements = dev.template.policy(dev.template.one("aws:iam/rolePolicy:RolePolicy"))["Statement"]
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in s["Action"])]
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/"
    by_resource = {tuple(s["Resource"]): set(s["Action"]) for s in dynamo}
    # Item actions on the table only (on an index ARN they authorize nothing); Query on the one index
    # the API lists by. The local cloud's flows use every one of them (tests/e2e/test_grants.py).
    assert by_resource == {
        (f"{arn}orders-dev-orders",): {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        (f"{arn}orders-dev-orders/index/{schema.CUSTOMER_INDEX}",): {"dynamodb:Query"},
        (f"{arn}orders-dev-orders-idempotency",): {
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
    }


def test_function_environment_names_the_tables_by_the_handlers_variables(dev) -> None:
    variables = dev.template.one("aws:lambda/function:Function")["inputs"]["environment"]["variables"]
    assert variables[schema.ORDERS_TABLE_ENV] == "orders-dev-orders"
    assert variables[idem.IDEMPOTENCY_TABLE_ENV] == "orders-dev-orders-idempotency"
    assert variables[idem.IDEMPOTENCY_TTL_ENV] == "3600"


def test_invoke_permission_carries_the_apis_source_arn(dev, prod) -> None:
    api = dev.template.one("aws:apigatewayv2/api:Api")
    api_id = dev.run.monitor.resources[api["urn"]].id
    permission = dev.template.one("aws:lambda/permission:Permission")["inputs"]
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["sourceArn"] == f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/*/*"
    assert "qualifier" not in permission
    assert prod.template.one("aws:lambda/permission:Permission")["inputs"]["qualifier"] == "live"


def alarms_by_metric(out):
    alarms = {}
    for alarm in out.template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        inputs = alarm["inputs"]
        label = inputs.get("metricName") or next(q["label"] for q in inputs["metricQueries"] if q.get("returnData"))
        alarms.setdefault(label, []).append(inputs)
    return alarms


def test_alarms_cover_api_function_and_tables_with_actions(dev) -> None:
    alarms = alarms_by_metric(dev)
    assert {"5xx", "Latency", "Errors", "Throttles", "Duration", "ReadThrottleEvents", "WriteThrottleEvents",
            "SystemErrors"} <= set(alarms)
    assert len(alarms["SystemErrors"]) == 2 and len(alarms["ReadThrottleEvents"]) == 2  # one per table
    for group in alarms.values():
        for alarm in group:
            assert alarm["alarmActions"] and alarm["okActions"]
    latency = alarms["Latency"][0]
    assert latency["extendedStatistic"] == "p90" and latency["dimensions"]["Stage"] == "$default"
    system_errors = alarms["SystemErrors"][0]["metricQueries"]
    operations = {q["metric"]["dimensions"]["Operation"] for q in system_errors if "metric" in q}
    assert {"TransactWriteItems", "GetItem", "Query"} <= operations


def test_alarm_thresholds_differ_per_stack(dev, prod) -> None:
    dev_alarms, prod_alarms = alarms_by_metric(dev), alarms_by_metric(prod)
    assert dev_alarms["5xx"][0]["threshold"] == 0.05 and prod_alarms["5xx"][0]["threshold"] == 0.01
    assert dev_alarms["Latency"][0]["threshold"] == 2500 and prod_alarms["Latency"][0]["threshold"] == 1000
    assert dev_alarms["ReadThrottleEvents"][0]["threshold"] > prod_alarms["ReadThrottleEvents"][0]["threshold"]


def test_the_service_outputs_its_url(dev) -> None:
    assert str(dev.result["url"]).startswith("https://") and "execute-api" in dev.result["url"]


def test_program_exports_the_orders_api(synth_stack) -> None:
    template = synth_stack("prod")
    assert template.count("serverless:index:ApiService") == 1
    orders_routes = [r for r in template.of_type("aws:apigatewayv2/route:Route")
                     if not r["inputs"]["routeKey"].startswith("POST /webhooks/")]
    assert len(orders_routes) == len(schema.ROUTES)
