"""ApiService: an HTTP API (API Gateway v2) in front of Lambda functions and the tables they own."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

import pulumi
import pulumi_aws as aws

from components.core.alarms import AlarmSpec, build_alarm
from components.core.context import StackContext
from components.core.function import BuiltFunction, FunctionSpec, build_function
from components.core.iam import Grant
from components.core.naming import physical_name
from components.core.table import BuiltTable, TableSpec, build_table

COMPONENT_TYPE = "serverless:index:ApiService"
STAGE = "$default"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# One JSON object per request: what an on-call engineer needs to find a failing call.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
})


class ApiConfigError(ValueError):
    """An API that would expose a route by accident or point at something that does not exist."""


@dataclass(frozen=True)
class Route:
    """``METHOD /path``; protected by the JWT authorizer unless ``public`` says otherwise on purpose."""

    method: str
    path: str
    public: bool = False

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class TableAccess:
    """The DynamoDB actions a function needs on one of the service's tables (and its indexes)."""

    table: str
    actions: tuple[str, ...]
    environment_variable: str | None = None


@dataclass(frozen=True)
class ApiFunction:
    name: str
    function: FunctionSpec
    routes: tuple[Route, ...]
    tables: tuple[TableAccess, ...] = ()


@dataclass(frozen=True)
class ApiServiceArgs:
    functions: tuple[ApiFunction, ...]
    tables: tuple[TableSpec, ...] = ()


def validate_args(args: ApiServiceArgs, has_authorizer: bool) -> None:
    """Every problem with the service's shape at once, before anything is registered."""
    problems: list[str] = []
    table_names = [t.name for t in args.tables]
    seen: set[str] = set()
    if not args.functions:
        problems.append("an API needs at least one function")
    for fn in args.functions:
        if fn.function.function_class != "api":
            problems.append(f"function '{fn.name}' must use the 'api' profile (its timeout must fit API Gateway's)")
        if not fn.routes:
            problems.append(f"function '{fn.name}' has no routes")
        for route in fn.routes:
            if route.method not in METHODS or not route.path.startswith("/"):
                problems.append(f"route '{route.key}' must be one of {METHODS} and a path starting with '/'")
            if route.key in seen:
                problems.append(f"route '{route.key}' is declared twice")
            seen.add(route.key)
            if not route.public and not has_authorizer:
                problems.append(
                    f"route '{route.key}' is protected but the stack has no JWT authorizer: set apiJwtIssuer and "
                    "apiJwtAudience, or mark the route public on purpose"
                )
        for access in fn.tables:
            if access.table not in table_names:
                problems.append(f"function '{fn.name}' uses unknown table '{access.table}'")
            if not access.actions or not all(a.startswith("dynamodb:") for a in access.actions):
                problems.append(f"function '{fn.name}' table actions must be dynamodb:* actions, named one by one")
    if len(set(table_names)) != len(table_names):
        problems.append("table names must be unique")
    if problems:
        raise ApiConfigError("; ".join(problems))


class ApiService(pulumi.ComponentResource):
    """HTTP API with Lambda proxy integrations (payload 2.0), JSON access logs, throttling, CORS,
    an optional JWT authorizer, the DynamoDB tables the service owns, and its alarms."""

    url: pulumi.Output[str]
    """The API's base URL (the ``$default`` stage)."""
    table_names: dict[str, pulumi.Output[str]]
    """Physical table names by their spec name."""

    def __init__(self, name: str, ctx: StackContext, args: ApiServiceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        settings = ctx.settings
        validate_args(args, has_authorizer=bool(settings.api.jwt_issuer))

        self.tables: dict[str, BuiltTable] = {
            spec.name: build_table(ctx, f"{name}-{spec.name}", spec, self) for spec in args.tables
        }
        self.table_names = {key: built.table.name for key, built in self.tables.items()}
        self.api = self._create_api(name, ctx)
        self.functions: dict[str, BuiltFunction] = {}
        for fn in args.functions:
            self.functions[fn.name] = self._create_function(name, ctx, fn)
        self._create_alarms(name, ctx)

        self.url = self.api.api_endpoint
        self.register_outputs({"url": self.url, "tableNames": self.table_names})

    def _create_api(self, name: str, ctx: StackContext) -> aws.apigatewayv2.Api:
        settings = ctx.settings
        origins = list(settings.api.cors_allow_origins)
        api = aws.apigatewayv2.Api(
            name,
            name=physical_name(settings, name, max_length=128),
            protocol_type="HTTP",
            cors_configuration={
                "allow_origins": origins,
                "allow_methods": list(METHODS),
                "allow_headers": ["authorization", "content-type", "idempotency-key"],
                "max_age": 3600,
            } if origins else None,
            opts=ctx.options(self),
        )
        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{physical_name(settings, name)}/access",
            retention_in_days=settings.log_retention_days,
            opts=ctx.options(self),
        )
        aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=api.id,
            name=STAGE,
            auto_deploy=True,
            access_log_settings={"destination_arn": access_logs.arn, "format": ACCESS_LOG_FORMAT},
            default_route_settings={
                "throttling_burst_limit": settings.api.throttling_burst_limit,
                "throttling_rate_limit": settings.api.throttling_rate_limit,
                "detailed_metrics_enabled": True,
            },
            opts=ctx.options(self),
        )
        self.authorizer = None
        if settings.api.jwt_issuer:
            self.authorizer = aws.apigatewayv2.Authorizer(
                f"{name}-jwt",
                api_id=api.id,
                name=f"{name}-jwt",
                authorizer_type="JWT",
                identity_sources=["$request.header.Authorization"],
                jwt_configuration={"issuer": settings.api.jwt_issuer, "audiences": list(settings.api.jwt_audience)},
                opts=ctx.options(self),
            )
        return api

    def _create_function(self, name: str, ctx: StackContext, fn: ApiFunction) -> BuiltFunction:
        environment = dict(fn.function.environment)
        grants = list(fn.function.grants)
        for access in fn.tables:
            table = self.tables[access.table]
            grants.append(Grant(sorted(set(access.actions)), table.arns()))
            if access.environment_variable:
                environment[access.environment_variable] = table.table.name
        spec = replace(fn.function, environment=environment, grants=tuple(grants))
        built = build_function(ctx, f"{name}-{fn.name}", spec, self)

        integration = aws.apigatewayv2.Integration(
            f"{name}-{fn.name}-integration",
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            integration_method="POST",
            integration_uri=built.target_arn,
            payload_format_version="2.0",
            timeout_milliseconds=min(30_000, (built.timeout_seconds + 1) * 1000),
            opts=ctx.options(self),
        )
        aws.lambda_.Permission(
            f"{name}-{fn.name}-invoke",
            action="lambda:InvokeFunction",
            function=built.function.name,
            qualifier=built.qualifier,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(self.api.execution_arn, "/*/*"),
            opts=ctx.options(self),
        )
        for route in fn.routes:
            protected = not route.public
            aws.apigatewayv2.Route(
                f"{name}-{fn.name}-{route.method.lower()}{_slug(route.path)}",
                api_id=self.api.id,
                route_key=route.key,
                target=pulumi.Output.concat("integrations/", integration.id),
                authorization_type="JWT" if protected else "NONE",
                authorizer_id=self.authorizer.id if protected and self.authorizer else None,
                opts=ctx.options(self),
            )
        return built

    def _create_alarms(self, name: str, ctx: StackContext) -> None:
        alarms = ctx.settings.alarms
        dimensions = {"ApiId": self.api.id, "Stage": STAGE}
        specs = {
            "5xx-rate": AlarmSpec(
                family="api_errors", namespace="AWS/ApiGateway", metric_name="5xx", dimensions=dimensions,
                statistic="Average", threshold=alarms.api_5xx_rate_percent / 100, comparison="GreaterThanThreshold",
                description=f"More than {alarms.api_5xx_rate_percent}% of API requests fail with a 5xx.",
            ),
            "latency-p90": AlarmSpec(
                family="api_latency", namespace="AWS/ApiGateway", metric_name="Latency", dimensions=dimensions,
                statistic=None, extended_statistic="p90", threshold=alarms.api_latency_p90_ms,
                description=f"API p90 latency is at or above {alarms.api_latency_p90_ms} ms.",
            ),
        }
        self.alarms = {suffix: build_alarm(ctx, f"{name}-{suffix}", spec, self) for suffix, spec in specs.items()}


def _slug(path: str) -> str:
    """``/orders/{orderId}/cancel`` -> ``-orders-orderId-cancel``: unique, readable resource names."""
    parts = re.findall(r"[A-Za-z0-9]+", path)
    return "-" + "-".join(parts) if parts else "-root"
