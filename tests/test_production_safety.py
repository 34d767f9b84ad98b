"""Production is closed by default: no unauthenticated API unless a deliberately named setting
opens it, customers scoped to their own orders, and the plan saying which routes anyone may call."""

from __future__ import annotations

import pytest

from system.settings import SettingsError
from tests.conftest import settings_for

OPEN = {"apiJwtIssuer": "", "apiJwtAudience": []}


def test_production_without_a_jwt_authorizer_is_refused_naming_the_way_out() -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for("prod", **OPEN)
    assert "apiJwtIssuer: a production stack must not serve an unauthenticated API" in str(caught.value)
    assert "apiPublicInProduction" in str(caught.value)


def test_a_deliberate_setting_opens_production_and_dev_stays_open() -> None:
    assert settings_for("prod", **OPEN, apiPublicInProduction=True).api.jwt_issuer is None
    assert settings_for("dev").api.jwt_issuer is None  # dev: routes deliberately public, as before


def test_the_reference_prod_stack_protects_every_order_route(synth_stack) -> None:
    template = synth_stack("prod")
    routes = {r["inputs"]["routeKey"]: r["inputs"] for r in template.of_type("aws:apigatewayv2/route:Route")}
    assert len(routes) == 5
    for key, route in routes.items():
        if key.startswith("POST /webhooks/"):
            assert route["authorizationType"] == "NONE"  # verified by signature instead
            assert route["operationName"] == "authenticated by standard webhook signature"
        else:
            assert route["authorizationType"] == "JWT" and route["authorizerId"], key
    orders = template.named("api-orders", "aws:lambda/function:Function")["inputs"]["environment"]["variables"]
    assert (orders["API_AUTHORIZER"], orders["CALLER_CLAIM"], orders["OPERATOR_SCOPE"]) == ("jwt", "sub", "orders/operator")
    dev = synth_stack("dev").named("api-orders", "aws:lambda/function:Function")["inputs"]["environment"]["variables"]
    assert dev["API_AUTHORIZER"] == "none"


def test_the_plan_says_when_production_is_open(synth_stack) -> None:
    from tools.plan import render

    opened = render(synth_stack("prod", {**OPEN, "apiPublicInProduction": True}), production=True)
    assert "WARNING: this production stack serves 4 route(s) to anyone (apiPublicInProduction)" in opened
    assert "POST /webhooks/payments             authenticated by standard webhook signature" in opened
    assert "WARNING" not in render(synth_stack("prod"), production=True)


@pytest.mark.parametrize(("key", "value"), [("apiCallerClaim", "has space"), ("apiOperatorScope", "two scopes")])
def test_caller_settings_are_checked(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        settings_for("dev", **{key: value})
