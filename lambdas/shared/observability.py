"""The shared Powertools logger, tracer and metrics.

Service name, metrics namespace and log level come from the environment the function builder
sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Only AWS SDK calls need subsegments; patching every supported library costs ~25 ms of cold start.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()

__all__ = ["logger", "metrics", "tracer"]
