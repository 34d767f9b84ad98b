"""Step Functions' Lambda tasks, served by the real handlers instead of moto's Docker-based Lambda.

moto runs ASL itself when asked (``mock_aws(config={"stepfunctions": {"execute_state_machine":
True}})``, or the same setting of a moto server); a Lambda task then calls
``lambda.invoke`` through ``boto_client_for`` in moto's ``lambda_eval_utils``, and moto's Lambda
needs Docker to run a function. The one adapter: that lookup returns a client whose ``invoke``
answers with the handler's result, or with Lambda's own error shape when it raises
(``FunctionError: Unhandled`` and ``{"errorType", "errorMessage"}``), which is what the state
machine's retriers and catchers match on.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

__all__ = ["Invoke", "LambdaTaskClient", "function_error", "serve_lambda_tasks"]

# (function name or ARN, the event) -> the handler's answer; raises what the handler raises.
Invoke = Callable[[str, Any], Any]


def function_error(error: BaseException) -> dict[str, Any]:
    """What Lambda returns for a handler that raised (the Python runtime's error payload)."""
    return {"errorType": type(error).__name__, "errorMessage": str(error)}


class LambdaTaskClient:
    """The part of a Lambda client the ASL interpreter uses: ``invoke``."""

    def __init__(self, invoke: Invoke) -> None:
        self._invoke = invoke
        self.calls: list[tuple[str, Any]] = []

    def invoke(self, FunctionName: str, Payload: bytes | str | None = None, **_: Any) -> dict[str, Any]:  # noqa: N803
        event = json.loads(Payload or "{}")
        self.calls.append((FunctionName, event))
        try:
            answer = self._invoke(FunctionName, event)
        except Exception as error:  # the handler's failure is the task's failure, as in Lambda
            return {"StatusCode": 200, "FunctionError": "Unhandled",
                    "Payload": io.BytesIO(json.dumps(function_error(error)).encode())}
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": io.BytesIO(json.dumps(answer).encode())}


@contextmanager
def serve_lambda_tasks(invoke: Invoke) -> Iterator[LambdaTaskClient]:
    """While open, every Lambda task of every execution in this process is answered by ``invoke``."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    client = LambdaTaskClient(invoke)
    real = lambda_eval_utils.boto_client_for

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return client if service == "lambda" else real(region=region, service=service, state_credentials=state_credentials)

    with mock.patch.object(lambda_eval_utils, "boto_client_for", client_for):
        yield client
