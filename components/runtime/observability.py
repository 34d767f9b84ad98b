"""The Powertools logger, tracer and metrics every handler shares, and the one decorator that applies them.

Service name, metrics namespace and log level come from the environment the function builder
sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

# The Lambda runtime sets the root logger to the function's level; at DEBUG botocore would log
# every request and response body (a secret fetched from Secrets Manager, order data). Library
# loggers stay at INFO or above, whatever the function's level.
QUIET_LIBRARIES = ("botocore", "boto3", "urllib3", "s3transfer", "aws_xray_sdk", "aws_lambda_powertools")


def quiet_library_loggers(function_level: str | None = None) -> None:
    level = logging.getLevelName((function_level or os.environ.get("POWERTOOLS_LOG_LEVEL") or "INFO").upper())
    floor = max(logging.INFO, level if isinstance(level, int) else logging.INFO)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(floor)


quiet_library_loggers()
logger = Logger()
# Only AWS SDK calls need subsegments; patching every supported library costs ~25 ms of cold start.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()



def observed(handler: Callable[..., Any] | None = None, *, correlation_id_path: str | None = None,
             capture_cold_start_metric: bool = False) -> Any:
    """The one decorator of every handler: Lambda context in the logs (and a correlation id from
    ``correlation_id_path``), a trace of the invocation, and metrics flushed at the end."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        wrapped = metrics.log_metrics(function, capture_cold_start_metric=capture_cold_start_metric)
        wrapped = tracer.capture_lambda_handler(wrapped)
        return logger.inject_lambda_context(wrapped, correlation_id_path=correlation_id_path)

    return decorate(handler) if handler is not None else decorate


__all__ = ["QUIET_LIBRARIES", "logger", "metrics", "observed", "quiet_library_loggers", "tracer"]
