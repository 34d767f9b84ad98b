"""One function's sandbox: ``python -m tools.local.worker <handler>`` in a process of its own.

The local runtime starts it with the function's synthesized environment and its role's temporary
credentials, then sends one invocation per line on stdin. The answer goes back on the file
descriptor given by ``LOCAL_CLOUD_ANSWER_FD`` (stdout and stderr are the function's logs, as in
Lambda). Every AWS call the handler makes is recorded (operation and the resources it names) and
returned with the answer, so the runtime can compare what a role grants with what was used.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ANSWER_FD_ENV = "LOCAL_CLOUD_ANSWER_FD"


class LocalContext:
    """What Lambda passes as the context object (the fields our handlers and Powertools read)."""

    def __init__(self, request_id: str, deadline: float) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ["LOCAL_CLOUD_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = "local"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


calls: list[dict[str, Any]] = []


def _record_calls() -> None:
    """Every boto3 client in this process reports its calls here, whoever created it."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def recorded(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        entry = {"service": service, "operation": operation_name, "params": resource_params(api_params)}
        try:
            return original(self, operation_name, api_params)
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
            # moto answers a denial in XML, which a JSON-protocol client reports as its status code
            entry["error"] = "AccessDenied" if "AccessDenied" in str(error) else code
            raise
        finally:
            calls.append(entry)

    BaseClient._make_api_call = recorded  # type: ignore[method-assign]


_RESOURCE_KEYS = ("TableName", "IndexName", "QueueUrl", "QueueName", "StreamName", "StreamARN", "SecretId", "TopicArn",
                  "EventBusName", "StreamArn", "ShardIterator")


def resource_params(params: dict[str, Any]) -> dict[str, Any]:
    """Only the parameters that name resources (never an item, a message body or a secret)."""
    named: dict[str, Any] = {key: params[key] for key in _RESOURCE_KEYS if isinstance(params.get(key), str)}
    if "TransactItems" in params:
        named["TransactItems"] = [{kind: {"TableName": operation.get("TableName")} for kind, operation in item.items()}
                                  for item in params["TransactItems"]]
    if isinstance(params.get("RequestItems"), dict):
        named["RequestItems"] = sorted(params["RequestItems"])
    if isinstance(params.get("Entries"), list):
        named["EventBusNames"] = sorted({entry.get("EventBusName") or "default" for entry in params["Entries"]
                                         if isinstance(entry, dict)})
    return named


def main() -> None:
    handler_path = sys.argv[1]
    answers = os.fdopen(int(os.environ[ANSWER_FD_ENV]), "w", buffering=1)
    sys.path[:0] = [str(ROOT / "lambdas"), str(ROOT)]
    _record_calls()
    module_name, function_name = handler_path.rsplit(".", 1)
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        init_error = None
    except Exception as error:  # Lambda reports an init failure on every invocation
        handler, init_error = None, {"errorType": type(error).__name__, "errorMessage": str(error),
                                     "trace": traceback.format_exc()}
    answers.write(json.dumps({"ready": True, "calls": calls}) + "\n")
    calls.clear()
    for line in sys.stdin:
        request = json.loads(line)
        started = time.monotonic()
        context = LocalContext(request["requestId"], started + request["timeoutSeconds"])
        if handler is None:
            answer: dict[str, Any] = {"error": init_error}
        else:
            try:
                answer = {"result": handler(request["event"], context)}
            except Exception as error:
                answer = {"error": {"errorType": type(error).__name__, "errorMessage": str(error),
                                    "trace": traceback.format_exc()}}
        sys.stdout.flush()
        sys.stderr.flush()
        answer["calls"] = list(calls)
        answer["durationMs"] = round((time.monotonic() - started) * 1000, 1)
        calls.clear()
        answers.write(json.dumps(answer, default=str) + "\n")


if __name__ == "__main__":
    main()
