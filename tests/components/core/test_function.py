from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.core.archive import FunctionCodeError, archive_files
from components.core.function import FunctionSpec, build_function
from components.core.iam import Grant, GrantError

FUNCTION = "aws:lambda/function:Function"


def build_sample(lambdas_root: Path, **spec_fields: object):
    def build(ctx, parent):
        spec = FunctionSpec(folder="sample", function_class=spec_fields.pop("function_class", "worker"),
                            code_root=lambdas_root, shared=("shared",), **spec_fields)
        return build_function(ctx, "sample", spec, parent)

    return build


def test_defaults_arm64_python313_tracing_json_logs_and_profile_sizing(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root), "dev")
    function = out.template.one(FUNCTION)["inputs"]
    assert function["architectures"] == ["arm64"]
    assert function["runtime"] == "python3.13"
    assert function["handler"] == "sample.handler.handler"
    assert function["tracingConfig"] == {"mode": "Active"}
    assert function["memorySize"] == 256 and function["timeout"] == 30
    assert function["loggingConfig"]["logFormat"] == "JSON"
    assert function["loggingConfig"]["applicationLogLevel"] == "DEBUG"
    assert function["loggingConfig"]["systemLogLevel"] in {"WARN", "INFO", "DEBUG"}
    assert function["reservedConcurrentExecutions"] == 2  # dev's workerReservedConcurrency


def test_prod_profile_and_x86_override(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root), "prod", architecture="x86_64", workerMemoryMb=1024)
    function = out.template.one(FUNCTION)["inputs"]
    assert function["architectures"] == ["x86_64"]
    assert function["memorySize"] == 1024 and function["timeout"] == 20
    assert function["loggingConfig"]["applicationLogLevel"] == "INFO"
    assert "x86_64" in function["layers"][0]


def test_per_function_memory_override_wins_over_the_profile(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root, memory_mb=1769), "dev")
    assert out.template.one(FUNCTION)["inputs"]["memorySize"] == 1769


def test_log_group_is_explicit_named_after_the_function_with_retention_and_created_first(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root), "prod")
    function = out.template.one(FUNCTION)
    log_group = out.template.one("aws:cloudwatch/logGroup:LogGroup")
    assert log_group["inputs"]["name"] == f"/aws/lambda/{function['inputs']['name']}"
    assert log_group["inputs"]["retentionInDays"] == 90
    assert function["inputs"]["loggingConfig"]["logGroup"] == log_group["inputs"]["name"]
    record = out.run.monitor.records[function["urn"]]
    assert log_group["urn"] in record.dependencies


def test_powertools_layer_and_environment(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root, environment={"TABLE_NAME": "orders"}), "dev")
    function = out.template.one(FUNCTION)["inputs"]
    # Resolved from Powertools' SSM parameter for the pinned release (the mock answers layer 0).
    assert function["layers"] == [
        "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:0"
    ]
    assert out.run.monitor.mocks.parameters_read == ["/aws/service/powertools/python/arm64/python3.13/3.37.0"]
    variables = function["environment"]["variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "orders"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "orders"
    assert variables["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert variables["TABLE_NAME"] == "orders"


def test_role_may_write_only_its_own_logs_and_traces_plus_explicit_grants(run_builder, lambdas_root) -> None:
    table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    out = run_builder(build_sample(lambdas_root, grants=[Grant(["dynamodb:GetItem"], [table_arn])]), "dev")
    role = out.template.one("aws:iam/role:Role")
    trust = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert trust[0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert "managedPolicyArns" not in role["inputs"]
    assert not out.template.find("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    statements = out.template.policy(out.template.one("aws:iam/rolePolicy:RolePolicy"))["Statement"]
    log_group = out.template.one("aws:cloudwatch/logGroup:LogGroup")["inputs"]["name"]
    by_action = {action: s for s in statements for action in s["Action"]}
    assert set(by_action) == {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                              "xray:PutTelemetryRecords", "dynamodb:GetItem"}
    assert by_action["logs:PutLogEvents"]["Resource"] == [f"arn:aws:logs:us-east-1:123456789012:log-group:{log_group}:*"]
    assert by_action["dynamodb:GetItem"]["Resource"] == [table_arn]
    assert all(a != "*" for s in statements for a in s["Action"])


@pytest.mark.parametrize(("actions", "resources"), [
    (["*"], ["arn:aws:sqs:us-east-1:123456789012:q"]),
    (["dynamodb:*"], ["arn:aws:dynamodb:us-east-1:123456789012:table/t"]),
    (["dynamodb:GetItem"], ["*"]),
    ([], ["arn:aws:sqs:us-east-1:123456789012:q"]),
])
def test_broad_grants_are_refused(actions, resources) -> None:
    with pytest.raises(GrantError):
        Grant(actions, resources)


def test_provisioned_concurrency_publishes_an_alias(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root, function_class="api"), "prod")
    assert out.template.one(FUNCTION)["inputs"]["publish"] is True
    alias = out.template.one("aws:lambda/alias:Alias")["inputs"]
    assert alias["name"] == "live" and alias["functionVersion"] == "1"
    config = out.template.one("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")["inputs"]
    assert config["qualifier"] == "live" and config["provisionedConcurrentExecutions"] == 2
    assert out.result.qualifier is out.result.alias.name  # an output: dependents wait for the alias


def test_no_alias_without_provisioned_concurrency(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root, function_class="api"), "dev")
    assert not out.template.find("aws:lambda/alias:Alias")
    assert out.template.one(FUNCTION)["inputs"]["publish"] is False


def test_archive_holds_the_folder_and_shared_only(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root), "dev")
    files = out.template.one(FUNCTION)["inputs"]["code"]["archive"]["files"]
    assert files == ["sample/handler.py", "sample/logic.py", "shared/__init__.py", "shared/observability.py"]


def test_missing_handler_folder_is_a_clear_error_before_registration(run_builder, lambdas_root) -> None:
    with pytest.raises(FunctionCodeError, match=r"nope\.handler\.handler"):
        archive_files("nope", lambdas_root)

    def build(ctx, parent):
        return build_function(ctx, "missing", FunctionSpec(folder="nope", function_class="worker",
                                                           code_root=lambdas_root), parent)

    with pytest.raises(FunctionCodeError, match=r"no handler\.py"):
        run_builder(build, "dev")


@pytest.mark.parametrize(("fields", "message"), [
    ({"function_class": "api", "timeout_seconds": 30}, "1-29"),
    ({"memory_mb": 100}, "128-10240"),
    ({"reserved_concurrency": 0}, "reserved concurrency"),
    ({"function_class": "batch"}, "unknown function class"),
])
def test_bad_overrides_are_clear_errors(run_builder, lambdas_root, fields, message) -> None:
    with pytest.raises(ValueError, match=message):
        run_builder(build_sample(lambdas_root, **fields), "dev")


def test_function_alarms_errors_throttles_and_duration_near_timeout(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root), "prod")
    alarms = {a["inputs"]["metricName"]: a["inputs"] for a in out.template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
              if a["inputs"].get("namespace") == "AWS/Lambda" and a["inputs"].get("dimensions")}
    assert set(alarms) == {"Errors", "Throttles", "Duration"}
    function_name = out.template.one(FUNCTION)["inputs"]["name"]
    critical = "arn:aws:sns:us-east-1:123456789012:orders-prod-alerts"
    for alarm in alarms.values():
        assert alarm["dimensions"] == {"FunctionName": function_name}
        notices = critical + "-warning"  # metric alarms notify; only the service-health composite pages
        assert alarm["alarmActions"] == [notices] and alarm["okActions"] == [notices]
        assert alarm["treatMissingData"] == "notBreaching"
    assert alarms["Errors"]["threshold"] == 1
    assert alarms["Duration"]["threshold"] == 20 * 1000 * 0.8  # 80% of prod's 20 s worker timeout


def test_stack_setting_overrides_one_functions_memory(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root), "dev", functionMemoryMb={"sample": 1769})
    assert out.template.one(FUNCTION)["inputs"]["memorySize"] == 1769


def test_bad_memory_overrides_are_settings_errors() -> None:
    from system.settings import SettingsError
    from tests.conftest import settings_for

    with pytest.raises(SettingsError, match=r"functionMemoryMb\.api-orders"):
        settings_for("dev", functionMemoryMb={"api-orders": 64})


def test_the_layer_is_the_powertools_release_the_tests_run() -> None:
    import re
    from importlib.metadata import version
    from pathlib import Path

    from components.core.function import POWERTOOLS_VERSION

    requirements = (Path(__file__).resolve().parents[3] / "requirements-dev.txt").read_text()
    pinned = re.search(r"^aws-lambda-powertools(?:\[[^]]*\])?==([0-9.]+)$", requirements, re.M)
    assert pinned and pinned.group(1) == POWERTOOLS_VERSION == version("aws-lambda-powertools")


def test_a_pinned_layer_number_skips_the_lookup(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root), "dev", powertoolsLayerVersion=31)
    assert out.template.one(FUNCTION)["inputs"]["layers"] == [
        "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:31"]
    assert out.run.monitor.mocks.parameters_read == []


def test_the_role_policy_document_is_exactly_its_logs_traces_and_grants(run_builder, lambdas_root) -> None:
    table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    out = run_builder(build_sample(lambdas_root, grants=[Grant(["dynamodb:GetItem"], [table_arn])]), "dev")
    document = out.template.policy(out.template.named("sample-policy"))
    log_group = out.template.one("aws:cloudwatch/logGroup:LogGroup")["inputs"]["name"]
    assert document == {"Version": "2012-10-17", "Statement": [
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [f"arn:aws:logs:us-east-1:123456789012:log-group:{log_group}:*"]},
        {"Sid": "XRay", "Effect": "Allow", "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
         "Resource": ["*"]},
        {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": [table_arn]},
    ]}
    trust = json.loads(out.template.one("aws:iam/role:Role")["inputs"]["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole",
                                   "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    role = out.template.one("aws:iam/role:Role")["inputs"]
    assert role["description"] == "Execution role of orders-dev-sample"


def test_every_function_resource_is_the_builders_child_on_the_stack_provider(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root, function_class="api"), "prod")  # prod api: alias + provisioned
    built = [r for r in out.run.resources() if r.type.startswith("aws:") and r.name.startswith("sample")]
    assert {r.type for r in built} >= {FUNCTION, "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
                                       "aws:cloudwatch/logGroup:LogGroup", "aws:lambda/alias:Alias",
                                       "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
                                       "aws:cloudwatch/metricAlarm:MetricAlarm"}
    assert {r.parent.rsplit("::", 1)[-1] for r in built} == {"harness"}
    assert {(r.provider or "").rsplit("::", 1)[-1] for r in built} == {"aws-provider-id"}
    assert all(r.options["deleteBeforeReplace"] for r in built)
    function = next(r for r in built if r.type == FUNCTION)
    urns = {r.type: r.urn for r in built}
    assert {urns["aws:cloudwatch/logGroup:LogGroup"], urns["aws:iam/rolePolicy:RolePolicy"]} <= set(function.dependencies)
    alarm_names = sorted(r.name for r in built if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm_names == ["sample-duration", "sample-errors", "sample-throttles"]


def test_what_the_builder_reports_and_the_function_it_describes(run_builder, lambdas_root) -> None:
    out = run_builder(build_sample(lambdas_root, description="Does the sample", runtime_modules=("stream_schema",)),
                      "prod")
    built = out.result
    assert (built.name, built.memory_mb, built.timeout_seconds, built.reserved_concurrency) == (
        "orders-prod-sample", 512, 20, 20)
    assert built.function is not None and built.role is not None and built.log_group is not None
    assert set(built.alarms) == {"errors", "throttles", "duration"}
    function = out.template.one(FUNCTION)["inputs"]
    assert function["description"] == "Does the sample" and function["name"] == "orders-prod-sample"
    assert "components/runtime/stream_schema.py" in function["code"]["archive"]["files"]
    assert function["environment"]["variables"]["ENVIRONMENT"] == "prod"
    plain = run_builder(build_sample(lambdas_root), "dev").template.one(FUNCTION)["inputs"]
    assert "description" not in plain


@pytest.mark.parametrize(("fields", "accepted"), [
    ({"memory_mb": 128}, True), ({"memory_mb": 10240}, True), ({"memory_mb": 127}, False), ({"memory_mb": 10241}, False),
    ({"timeout_seconds": 1}, True), ({"timeout_seconds": 0}, False), ({"timeout_seconds": 900}, True),
    ({"timeout_seconds": 901}, False), ({"function_class": "api", "timeout_seconds": 29}, True),
    ({"reserved_concurrency": 1}, True), ({"reserved_concurrency": 0}, False),
    ({"reserved_concurrency": 3, "provisioned_concurrency": 3}, True),
    ({"reserved_concurrency": 3, "provisioned_concurrency": 4}, False),
    ({"provisioned_concurrency": -1}, False),
])
def test_sizing_at_its_boundaries(fields, accepted) -> None:
    from components.core.defaults import StackDefaults
    from components.core.function import FunctionConfigError, FunctionSpec, function_defaults

    spec = FunctionSpec("sample", **{"function_class": "worker", **fields}, code_root=Path("."))
    if accepted:
        assert function_defaults(StackDefaults(), spec)
    else:
        with pytest.raises(FunctionConfigError, match=r"^function 'sample': "):
            function_defaults(StackDefaults(), spec)


def test_sizing_errors_name_every_problem_and_a_missing_class() -> None:
    from components.core.defaults import StackDefaults
    from components.core.function import FunctionConfigError, FunctionSpec, function_defaults

    spec = FunctionSpec("sample", "worker", memory_mb=64, provisioned_concurrency=-1, code_root=Path("."))
    with pytest.raises(FunctionConfigError) as refused:
        function_defaults(StackDefaults(), spec)
    assert str(refused.value) == ("function 'sample': memory 64 MB is outside 128-10240 MB; "
                                  "provisioned concurrency -1 must be between 0 and the reserved concurrency")
    with pytest.raises(FunctionConfigError, match=r"^function 'sample' has no function_class \(its component sets one\)$"):
        function_defaults(StackDefaults(), FunctionSpec("sample", code_root=Path(".")))


def test_a_sandbox_account_reserves_and_provisions_nothing() -> None:
    from components.core.defaults import StackDefaults
    from components.core.function import FunctionSpec, function_defaults

    spec = FunctionSpec("sample", "api", reserved_concurrency=5, provisioned_concurrency=2, code_root=Path("."))
    assert function_defaults(StackDefaults(), spec)["provisioned_concurrency"] == 2
    sizing = function_defaults(StackDefaults(concurrency_reservations=False), spec)
    assert (sizing["reserved_concurrent_executions"], sizing["provisioned_concurrency"]) == (None, 0)


def test_a_pinned_layer_number_needs_no_lookup_and_zero_is_refused() -> None:
    from components.core.defaults import StackDefaults
    from components.core.function import FunctionConfigError, powertools_layer_arn

    assert powertools_layer_arn(StackDefaults(powertools_layer_version=31, region="eu-west-1")) == (
        "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:31")
    with pytest.raises(FunctionConfigError) as refused:
        powertools_layer_arn(StackDefaults())
    assert str(refused.value) == "the Powertools layer is resolved from SSM (StackContext.resolved)"
