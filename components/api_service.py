"""ApiService: an HTTP API (API Gateway v2) in front of Lambda functions and the tables they own."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.core.alarms import build_alarms
from components.core.context import StackContext
from components.core.errors import ComponentConfigError
from components.core.function import BuiltFunction, FunctionSpec, build_function
from components.core.http_api import (
    METHODS,
    BuiltHttpApi,
    HttpApiSpec,
    JwtAuthorizer,
    Route,
    api_alarm_specs,
    build_http_api,
    connect_routes,
)
from components.core.rollout import build_rollout
from components.core.table import BuiltTable, TableAccess, TableSpec, build_table, table_wiring

COMPONENT_TYPE = "serverless:index:ApiService"

__all__ = [
    "ApiConfigError",
    "ApiFunction",
    "ApiService",
    "ApiServiceArgs",
    "HttpApiSpec",
    "JwtAuthorizer",
    "Route",
    "TableAccess",
    "TableSpec",
    "validate_args",
]


class ApiConfigError(ComponentConfigError):
    """An API that would expose a route by accident or point at something that does not exist."""


@dataclass(frozen=True)
class ApiFunction:
    """One function behind ``routes`` (profile ``api``), with ``tables`` of its service it may use."""

    name: str
    function: FunctionSpec
    routes: tuple[Route, ...]
    tables: tuple[TableAccess, ...] = ()


@dataclass(frozen=True)
class ApiServiceArgs:
    functions: tuple[ApiFunction, ...]
    """Each function and its routes; at least one."""
    tables: tuple[TableSpec, ...] = ()
    """@default (): DynamoDB tables the service owns (on-demand, encrypted, alarmed)."""
    api: HttpApiSpec = field(default_factory=HttpApiSpec)
    """@default no CORS, 100 requests/s (burst 50), no JWT authorizer (every route must be public)."""
    shared: bool = False
    """@default False. True when other components add routes to this API (e.g. a WebhookIngestion):
    the program then calls :meth:`ApiService.deploy` after them, because the stage must come after
    every route it configures."""
    stack: StackContext = field(default_factory=StackContext)
    """@default the code defaults, no alarm actions (see :class:`StackContext`)."""


def validate_args(args: ApiServiceArgs, has_authorizer: bool | None = None) -> None:
    """Every problem with the service's shape at once, before anything is registered."""
    if has_authorizer is None:
        has_authorizer = args.api.jwt is not None
    problems: list[str] = []
    table_names = [t.name for t in args.tables]
    seen: set[str] = set()
    if not args.functions:
        problems.append("an API needs at least one function")
    for fn in args.functions:
        if fn.function.function_class not in (None, "api"):
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
                    f"route '{route.key}' is protected but the API has no JWT authorizer: give ApiServiceArgs.api "
                    "a jwt (issuer and audience), or mark the route public on purpose"
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
    http_api: BuiltHttpApi
    """The API itself, for components that add routes to it (``WebhookIngestionArgs.api``)."""

    def __init__(self, name: str, args: ApiServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        validate_args(args)
        ctx = args.stack.resolved(self)

        self.tables: dict[str, BuiltTable] = {
            spec.name: build_table(ctx, f"{name}-{spec.name}", spec, self) for spec in args.tables
        }
        self.table_names = {key: built.table.name for key, built in self.tables.items()}
        self.http_api = build_http_api(ctx, name, self, args.api)
        self.functions: dict[str, BuiltFunction] = {fn.name: self._create_function(name, ctx, fn) for fn in args.functions}
        self.alarms = build_alarms(ctx, name, api_alarm_specs(ctx.defaults.alarms, self.http_api.api.id), self)
        for fn_name, built in self.functions.items():  # a new version rolls back when the API's 5xx rate rises
            built.rollout = build_rollout(ctx, f"{name}-{fn_name}", built, [self.alarms["5xx-rate"]], self)

        self.url = self.http_api.url
        if not args.shared:
            self.http_api.deploy()
        self.register_outputs({"url": self.url, "tableNames": self.table_names})

    def deploy(self) -> None:
        """Create the API's stage once every component connected its routes (``shared=True``)."""
        self.http_api.deploy()

    @property
    def deployed(self) -> bool:
        """Whether the API has its stage (a ``shared`` API gets it from :meth:`deploy`)."""
        return self.http_api.stage is not None

    def table_name(self, table: str) -> pulumi.Output[str]:
        """The physical name of one of the service's tables, by its spec name."""
        return self._table(table).table.name

    def table_arn(self, table: str) -> pulumi.Output[str]:
        """The ARN of one of the service's tables, by its spec name."""
        return self._table(table).table.arn

    def index_arn(self, table: str, index: str) -> pulumi.Output[str]:
        """The ARN of one index of one of the service's tables: what a grant to query it names."""
        return self._table(table).index_arn(index)

    def _table(self, table: str) -> BuiltTable:
        if table not in self.tables:
            raise ApiConfigError(f"the service has no table '{table}'; its tables are {sorted(self.tables)}")
        return self.tables[table]

    def _create_function(self, name: str, ctx: StackContext, fn: ApiFunction) -> BuiltFunction:
        environment, grants = table_wiring(self.tables, fn.tables)
        spec = fn.function.with_class("api", f"function '{fn.name}'").connected(environment=environment, grants=grants)
        built = build_function(ctx, f"{name}-{fn.name}", spec, self)
        connect_routes(ctx, f"{name}-{fn.name}", self.http_api, built, fn.routes, self)
        return built
