"""The one HTTP API (API Gateway v2) builder and the one way to put a function behind routes."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.core.alarms import AlarmSpec
from components.core.bounds import bounded, out_of_bounds
from components.core.context import StackContext
from components.core.defaults import AlarmSettings
from components.core.errors import ComponentConfigError
from components.core.function import BuiltFunction, allow_invoke
from components.core.logs import build_log_group
from components.core.naming import physical_name

__all__ = [
    "METHODS",
    "BuiltHttpApi",
    "HttpApiConfigError",
    "HttpApiSpec",
    "JwtAuthorizer",
    "Route",
    "build_http_api",
    "connect_routes",
]

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


AUTHENTICATED_BY = "authenticated by "  # policy/rules.py (A5) reads this prefix of a route's operation name


@dataclass(frozen=True)
class Route:
    """``METHOD /path``; protected by the JWT authorizer unless ``public`` says otherwise on purpose."""

    method: str
    path: str
    public: bool = False
    # A public route that authenticates its callers itself (e.g. "webhook signature"): the route's
    # operation name says so, and the policy does not ask for the JWT authorizer on it.
    authenticated_by: str | None = None
    # The route has its own alarms, so the stage publishes its metrics (billed as custom metrics).
    detailed_metrics: bool = False

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


class HttpApiConfigError(ComponentConfigError):
    """An API whose stage cannot carry what its routes need."""


@dataclass(frozen=True)
class JwtAuthorizer:
    """API Gateway's JWT authorizer: tokens from ``issuer`` (an https:// URL) for one of ``audience``."""

    issuer: str
    audience: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.issuer.startswith("https://"):
            raise HttpApiConfigError(f"JWT issuer must be an https:// URL (got {self.issuer!r})")
        if not self.audience:
            raise HttpApiConfigError("a JWT authorizer must name at least one audience")


@dataclass(frozen=True)
class HttpApiSpec:
    """What one HTTP API lets in: CORS, default route throttling, and who may call protected routes."""

    cors_allow_origins: Sequence[str] = ()
    """@default (): no CORS configuration; browsers on other origins are refused."""
    throttling_burst_limit: int = bounded(50, 1, 5000)
    throttling_rate_limit: int = bounded(100, 1, 10000, " requests/s")
    """@default 100 requests/s, with bursts of 50 (``throttling_burst_limit``)."""
    jwt: JwtAuthorizer | None = None
    """@default None: no authorizer, so every route must be public on purpose."""

    def __post_init__(self) -> None:
        problems = out_of_bounds(self)
        for origin in self.cors_allow_origins:
            if origin != "*" and not re.match(r"^https?://[^/\s]+$", origin):
                problems.append(f"CORS origin must be '*' or a scheme://host origin without a path (got {origin!r})")
        if problems:
            raise HttpApiConfigError("; ".join(problems))


@dataclass
class BuiltHttpApi:
    """An HTTP API, its authorizer and, once :meth:`deploy` ran, its ``$default`` stage.

    The stage comes last because per-route settings (detailed metrics for route alarms) may only
    name routes that exist: API Gateway refuses route settings for an unknown route key.
    """

    api: aws.apigatewayv2.Api
    authorizer: aws.apigatewayv2.Authorizer | None
    ctx: StackContext
    spec: HttpApiSpec
    name: str
    parent: pulumi.Resource
    access_logs: aws.cloudwatch.LogGroup
    # Routes whose alarms need per-route metrics: (route key, the Route resource).
    detailed_routes: list[tuple[str, aws.apigatewayv2.Route]] = field(default_factory=list)
    stage: aws.apigatewayv2.Stage | None = None

    @property
    def url(self) -> pulumi.Output[str]:
        return self.api.api_endpoint

    def deploy(self) -> aws.apigatewayv2.Stage:
        """Create the stage (auto-deploy), after every route is connected; once."""
        if self.stage is not None:
            raise HttpApiConfigError(f"API '{self.name}' is already deployed; connect routes before deploy()")
        throttling = {"throttling_burst_limit": self.spec.throttling_burst_limit,
                      "throttling_rate_limit": self.spec.throttling_rate_limit}
        self.stage = aws.apigatewayv2.Stage(
            f"{self.name}-stage",
            api_id=self.api.id,
            name=STAGE,
            auto_deploy=True,
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            # Detailed metrics bill 6 custom metrics per route: only the routes whose alarms need them.
            default_route_settings={**throttling, "detailed_metrics_enabled": False},
            route_settings=[{"route_key": route.route_key, "detailed_metrics_enabled": True, **throttling}
                            for _, route in self.detailed_routes] or None,
            opts=self.ctx.options(self.parent),
        )
        return self.stage


def build_http_api(ctx: StackContext, name: str, parent: pulumi.Resource,
                   spec: HttpApiSpec | None = None) -> BuiltHttpApi:
    """An HTTP API with JSON access logs with the stack's retention, the spec's CORS, and its JWT
    authorizer when it has one; :meth:`BuiltHttpApi.deploy` adds the ``$default`` stage
    (auto-deploy, default route throttling) once its routes are connected."""
    settings = ctx.defaults
    spec = spec or HttpApiSpec()
    origins = list(spec.cors_allow_origins)
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
        opts=ctx.options(parent),
    )
    access_logs = build_log_group(ctx, f"{name}-access-logs", f"/aws/apigateway/{physical_name(settings, name)}/access",
                                  parent)
    authorizer = None
    if spec.jwt is not None:
        authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-jwt",
            api_id=api.id,
            name=f"{name}-jwt",
            authorizer_type="JWT",
            identity_sources=["$request.header.Authorization"],
            jwt_configuration={"issuer": spec.jwt.issuer, "audiences": list(spec.jwt.audience)},
            opts=ctx.options(parent),
        )
    return BuiltHttpApi(api=api, authorizer=authorizer, ctx=ctx, spec=spec, name=name, parent=parent,
                        access_logs=access_logs)


def connect_routes(ctx: StackContext, name: str, http_api: BuiltHttpApi, function: BuiltFunction,
                   routes: tuple[Route, ...], parent: pulumi.Resource) -> aws.apigatewayv2.Integration:
    """A Lambda proxy integration (payload 2.0), the invoke permission scoped to this API, and the routes."""
    for route in routes:
        if not route.public and http_api.authorizer is None:
            raise HttpApiConfigError(f"route '{route.key}' is protected but the API has no authorizer")
    integration = aws.apigatewayv2.Integration(
        f"{name}-integration",
        api_id=http_api.api.id,
        integration_type="AWS_PROXY",
        integration_method="POST",
        integration_uri=function.target_arn,
        payload_format_version="2.0",
        timeout_milliseconds=min(30_000, (function.timeout_seconds + 1) * 1000),
        opts=ctx.options(parent),
    )
    allow_invoke(ctx, f"{name}-invoke", function, "apigateway.amazonaws.com",
                 pulumi.Output.concat(http_api.api.execution_arn, "/*/*"), parent)
    if http_api.stage is not None:
        raise HttpApiConfigError(f"API '{http_api.name}' is already deployed: connect {routes[0].key} before deploy()")
    for route in routes:
        protected = not route.public
        created = aws.apigatewayv2.Route(
            f"{name}-{route.method.lower()}{_slug(route.path)}",
            api_id=http_api.api.id,
            route_key=route.key,
            target=pulumi.Output.concat("integrations/", integration.id),
            authorization_type="JWT" if protected else "NONE",
            authorizer_id=http_api.authorizer.id if protected and http_api.authorizer else None,
            operation_name=f"{AUTHENTICATED_BY}{route.authenticated_by}" if route.authenticated_by else None,
            opts=ctx.options(parent),
        )
        if route.detailed_metrics:
            http_api.detailed_routes.append((route.key, created))
    return integration


def _slug(path: str) -> str:
    """``/orders/{orderId}/cancel`` -> ``-orders-orderId-cancel``: unique, readable resource names."""
    parts = re.findall(r"[A-Za-z0-9]+", path)
    return "-" + "-".join(parts) if parts else "-root"


def api_alarm_specs(alarms: AlarmSettings, api_id: pulumi.Input[str]) -> dict[str, AlarmSpec]:
    """The whole API: 5xx rate and p90 latency."""
    dimensions = {"ApiId": api_id, "Stage": STAGE}
    return {
        "5xx-rate": _rate_spec("5xx", dimensions, alarms.api_5xx_rate_percent, "api_errors", "fail with a 5xx"),
        "latency-p90": AlarmSpec(
            family="api_latency", namespace="AWS/ApiGateway", metric_name="Latency", dimensions=dimensions,
            statistic=None, extended_statistic="p90", threshold=alarms.api_latency_p90_ms,
            description=f"API p90 latency is at or above {alarms.api_latency_p90_ms} ms.",
        ),
    }


def route_alarm_specs(alarms: AlarmSettings, api_id: pulumi.Input[str], route: Route) -> dict[str, AlarmSpec]:
    """One route (detailed metrics): 4xx and 5xx rates. For a webhook a 4xx spike means bad
    signatures: an attack, or a secret that does not match the sender's."""
    # HTTP APIs publish route metrics under ApiId, Stage, Route ("POST /webhooks/x"), and only with
    # detailed metrics on; Method + Resource are REST APIs' dimensions and would never have data.
    dimensions = {"ApiId": api_id, "Stage": STAGE, "Route": route.key}
    return {
        "4xx-rate": _rate_spec("4xx", dimensions, alarms.api_4xx_rate_percent, "api_errors",
                               f"on {route.key} are refused with a 4xx (bad signatures or a secret mismatch?)"),
        "5xx-rate": _rate_spec("5xx", dimensions, alarms.api_5xx_rate_percent, "api_errors", f"on {route.key} fail with a 5xx"),
    }


def _rate_spec(metric: str, dimensions: dict[str, pulumi.Input[str]], percent: int, family: str, what: str) -> AlarmSpec:
    return AlarmSpec(
        family=family, namespace="AWS/ApiGateway", metric_name=metric, dimensions=dimensions, statistic="Average",
        threshold=percent / 100, comparison="GreaterThanThreshold",
        description=f"More than {percent}% of requests {what}.",
    )
