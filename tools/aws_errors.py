"""One clear line for an AWS call the operator tools could not make: no credentials, no endpoint,
or AWS saying no. Exit code 2 for the environment (fix it and rerun), 1 for a refusal."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def describe(error: Exception) -> tuple[str, int]:
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return ("no AWS credentials: configure a profile (AWS_PROFILE) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "then rerun"), 2
    if isinstance(error, NoRegionError):
        return "no AWS region: set AWS_REGION (or the stack's region setting)", 2
    if isinstance(error, EndpointConnectionError):
        endpoint = getattr(error, "kwargs", {}).get("endpoint_url") or "(unknown)"
        return f"cannot reach the AWS endpoint {endpoint}: check AWS_ENDPOINT_URL and the network", 2
    if isinstance(error, ClientError):
        details: dict[str, Any] = error.response.get("Error", {})
        return f"AWS refused {error.operation_name}: {details.get('Code')}: {details.get('Message')}", 1
    return f"AWS call failed: {error}", 2


def run_reporting_aws_errors(action: Callable[[], int]) -> int:
    """Run an operator tool's AWS part; a botocore failure becomes one line on stderr and its exit code."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return action()
    except (BotoCoreError, ClientError) as error:
        message, code = describe(error)
        print(message, file=sys.stderr)
        return code
