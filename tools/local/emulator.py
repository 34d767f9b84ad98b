"""moto server on a free loopback port, with IAM enforced the way AWS enforces it for our calls.

moto checks an identity policy's ``Resource`` only for the services that tell it which resource a
request is for (SQS, IAM, STS, S3); for DynamoDB, Kinesis, EventBridge and Secrets Manager it
evaluates against ``*``, so a role granted one table is refused every table. It also names a
transaction's permission ``dynamodb:TransactWriteItems``, which IAM does not have: AWS checks
each item's own action (PutItem, UpdateItem, DeleteItem, ConditionCheckItem) on its table; and
SQS's batch calls ``sqs:SendMessageBatch`` etc., which IAM authorizes as ``sqs:SendMessage``.
``_authorize_each_resource`` is the one adapter for both: it works out the (action, resource)
pairs of such a request and has moto check each one. moto also lacks SQS message move tasks
(``tools.redrive``): ``_install_message_move_tasks`` plays them. tests/e2e/test_emulator_gaps.py
shows each gap on plain moto and the adapter closing it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]

ACCOUNT_ID = "123456789012"  # moto's default account, the one the synth's mock ARNs use
REGION = "us-east-1"
ADMIN_USER = "local-admin"
PLAIN_MOTO_ENV = "LOCAL_CLOUD_PLAIN_MOTO"
LAMBDA_TASKS_ENV = "LOCAL_CLOUD_LAMBDA_TASKS_URL"
# Who plays the Lambda service locally: the deployer lets it assume every role that trusts Lambda.
LAMBDA_SERVICE_USER = "local-lambda-service"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
CLIENT_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)

_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def as_client_kwargs(self) -> dict[str, str]:
        kwargs = {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key}
        if self.session_token:
            kwargs["aws_session_token"] = self.session_token
        return kwargs

    def as_environment(self) -> dict[str, str]:
        environment = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            environment["AWS_SESSION_TOKEN"] = self.session_token
        return environment


def _arn(service: str, resource: str, region: str, account: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def _table(name: str, region: str, account: str, index: str | None = None) -> str:
    if name.startswith("arn:"):
        return name
    return _arn("dynamodb", f"table/{name}" + (f"/index/{index}" if index else ""), region, account)


def requested_resources(service: str, action: str, body: dict[str, Any], region: str,
                        account: str) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs AWS authorizes for one request of a JSON-protocol
    service; empty when the request names no resource (moto's own ``*`` check then applies)."""
    pairs: list[tuple[str, str]] = []
    if service == "dynamodb":
        if action in ("TransactWriteItems", "TransactGetItems"):
            for item in body.get("TransactItems") or []:
                for kind, operation in item.items():
                    pairs.append((_TRANSACT_ACTIONS[kind], _table(operation["TableName"], region, account)))
        elif "RequestItems" in body:
            pairs += [(action, _table(name, region, account)) for name in body["RequestItems"]]
        elif "TableName" in body:
            pairs.append((action, _table(body["TableName"], region, account, body.get("IndexName"))))
    elif service == "dynamodbstreams" and "StreamArn" in body:
        pairs.append((action, body["StreamArn"]))
    elif service == "dynamodbstreams" and str(body.get("ShardIterator", "")).startswith("arn:"):
        pairs.append((action, body["ShardIterator"].split("|")[0]))  # moto's iterators start with the stream ARN
    elif service == "kinesis":
        stream = body.get("StreamARN") or body.get("StreamName")
        if stream:
            pairs.append((action, stream if stream.startswith("arn:") else
                          _arn("kinesis", f"stream/{stream}", region, account)))
    elif service == "events" and action == "PutEvents":
        for entry in body.get("Entries") or []:
            bus = entry.get("EventBusName") or "default"
            pairs.append((action, bus if bus.startswith("arn:") else _arn("events", f"event-bus/{bus}", region, account)))
    elif service == "secretsmanager" and "SecretId" in body:
        pairs.append((action, _secret_arn(body["SecretId"], region, account)))
    elif service == "stepfunctions":
        resource = body.get("stateMachineArn") or body.get("executionArn")
        if isinstance(resource, str) and resource.startswith("arn:"):
            pairs.append((action, resource))
    return list(dict.fromkeys(pairs))


def _secret_arn(secret_id: str, region: str, account: str) -> str:
    if secret_id.startswith("arn:"):
        return secret_id
    from moto.secretsmanager.models import secretsmanager_backends

    try:
        return secretsmanager_backends[account][region].describe_secret(secret_id)["ARN"]
    except Exception:  # an unknown secret: let moto answer ResourceNotFound after authorizing its name
        return _arn("secretsmanager", f"secret:{secret_id}", region, account)


# IAM authorizes SQS's batch calls as their single-message action; moto asks for e.g. sqs:SendMessageBatch.
BATCH_ACTIONS = {("sqs", "SendMessageBatch"): "SendMessage", ("sqs", "DeleteMessageBatch"): "DeleteMessage",
                  ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility"}
_RESOLVED_SERVICES = {"dynamodb", "dynamodbstreams", "kinesis", "events", "secretsmanager", "stepfunctions"}


def _install_resource_authorization() -> None:
    from moto.core.responses import BaseResponse

    if getattr(BaseResponse, "_local_cloud_authorization", False):
        return
    original = BaseResponse._authenticate_and_authorize_normal_action

    def _authorize_each_resource(self: Any, resource: str = "*") -> None:
        service = getattr(self, "service_name", None)
        batch_action = BATCH_ACTIONS.get((service, self._get_action()))
        if batch_action:
            try:
                self._get_action = lambda: batch_action  # type: ignore[method-assign]
                return original(self, resource)
            finally:
                self.__dict__.pop("_get_action", None)
        if resource != "*" or service not in _RESOLVED_SERVICES:
            return original(self, resource)
        action = self._get_action()
        body = self.body  # moto has already parsed some services' JSON
        if isinstance(body, str | bytes):
            try:
                body = json.loads(body or "{}")
            except ValueError:
                body = {}
        pairs = requested_resources(service, action, body if isinstance(body, dict) else {},
                                    getattr(self, "region", REGION), getattr(self, "current_account", ACCOUNT_ID))
        if not pairs:
            return original(self, resource)
        try:
            for iam_action, arn in pairs:
                self._get_action = lambda iam_action=iam_action: iam_action  # type: ignore[method-assign]
                original(self, arn)
        finally:
            self.__dict__.pop("_get_action", None)

    BaseResponse._authenticate_and_authorize_normal_action = _authorize_each_resource
    BaseResponse._local_cloud_authorization = True


def stop_child(process: subprocess.Popen[Any] | None, timeout: float) -> None:
    """A child that serves until its stdin closes: close it, wait, kill if it does not go."""
    if process is None:
        return
    if process.stdin and not process.stdin.closed:
        process.stdin.close()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve() -> None:
    """The emulator's own process: moto keeps its state (and its IAM switch) per process, so the
    local cloud never shares them with a test's ``mock_aws`` in the caller."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    # moto's ASL interpreter logs every failed state at ERROR: failures a saga handles are its normal paths.
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    if not os.environ.get(PLAIN_MOTO_ENV):  # plain moto: tests/e2e/test_emulator_gaps.py shows each gap
        _install_resource_authorization()
        _install_message_move_tasks()
        _install_step_functions_tasks(os.environ.get(LAMBDA_TASKS_ENV, ""))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"ready http://{host}:{port}", flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin (or dies)
    server.stop()


def _install_message_move_tasks() -> None:
    """moto has no SQS message move tasks (what ``tools.redrive`` starts): this one moves every
    message of the source (a DLQ) to the destination at once and reports the task as completed."""
    import datetime as dt
    import uuid

    from moto.core.responses import ActionResult
    from moto.sqs.responses import SQSResponse

    tasks: dict[str, list[dict[str, Any]]] = {}

    def start_message_move_task(self: Any) -> ActionResult:
        source, destination = self._get_param("SourceArn"), self._get_param("DestinationArn")
        source_name, destination_name = source.rsplit(":", 1)[-1], destination.rsplit(":", 1)[-1]
        moved = 0
        while messages := self.sqs_backend.receive_message(source_name, 10, 0, 30):
            for message in messages:
                self.sqs_backend.send_message(destination_name, message.body,
                                              message_attributes=message.message_attributes)
                self.sqs_backend.delete_message(source_name, message.receipt_handle)
                moved += 1
        handle = str(uuid.uuid4())
        tasks.setdefault(source, []).insert(0, {
            "TaskHandle": handle, "Status": "COMPLETED", "SourceArn": source, "DestinationArn": destination,
            "ApproximateNumberOfMessagesMoved": moved, "ApproximateNumberOfMessagesToMove": moved,
            "StartedTimestamp": int(dt.datetime.now(dt.UTC).timestamp() * 1000)})
        return ActionResult({"TaskHandle": handle})

    def list_message_move_tasks(self: Any) -> ActionResult:
        return ActionResult({"Results": tasks.get(self._get_param("SourceArn"), [])[:self._get_int_param("MaxResults", 1)]})

    SQSResponse.start_message_move_task = start_message_move_task
    SQSResponse.list_message_move_tasks = list_message_move_tasks


def _install_step_functions_tasks(tasks_url: str) -> None:
    """moto runs state machines itself (its ASL interpreter); their Lambda tasks would go to moto's
    Lambda, which needs Docker. Here they go to the local runtime's Lambda Invoke endpoint
    (``tasks_url``, the same REST API as Lambda's), which runs the real handler in its sandbox."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    real = lambda_eval_utils.boto_client_for

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if service != "lambda" or not tasks_url:
            return real(region=region, service=service, state_credentials=state_credentials)
        return boto3.session.Session().client("lambda", endpoint_url=tasks_url, region_name=region,
                                              aws_access_key_id="states", aws_secret_access_key="states",
                                              config=Config(retries={"max_attempts": 1}, read_timeout=960))

    lambda_eval_utils.boto_client_for = client_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Emulator:
    """moto server in a child process, on 127.0.0.1 and a free port."""

    def __init__(self, *, plain: bool = False) -> None:
        self._plain = plain
        # Where the local runtime will serve Lambda's Invoke API for Step Functions' tasks: chosen
        # now, because the emulator starts before the runtime and reads it at start.
        self.lambda_tasks_port = free_port()
        self._session = boto3.session.Session()
        self._session_lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.admin: Credentials | None = None
        self.lambda_service: Credentials | None = None
        self.enforcing = False

    def start(self) -> Emulator:
        environment = {**os.environ, **({PLAIN_MOTO_ENV: "1"} if self._plain else {}),
                       LAMBDA_TASKS_ENV: f"http://127.0.0.1:{self.lambda_tasks_port}"}
        self._process = subprocess.Popen([sys.executable, "-m", "tools.local.emulator"], cwd=ROOT, env=environment,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(f"moto server did not start (said {line!r})")
        self.url = line.removeprefix("ready ")
        # moto executes state machines only when asked (its "execute_state_machine" setting).
        self._post("/moto-api/config", json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode())
        self.admin = self._user_with_all_actions(ADMIN_USER)
        self.lambda_service = self._user_with_all_actions(LAMBDA_SERVICE_USER)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_child(process, timeout=10)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _post(self, path: str, data: bytes) -> bytes:
        request = urllib.request.Request(self.url + path, data=data, method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def _user_with_all_actions(self, name: str) -> Credentials:
        iam = self.client("iam", credentials=Credentials("local", "local"))
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def enforce_iam(self) -> None:
        """From now on every request is signed by a known key and checked against its policies
        (moto's INITIAL_NO_AUTH_ACTION_COUNT, set through its reset-auth endpoint)."""
        self._post("/moto-api/reset-auth", b"0")
        self.enforcing = True

    def client(self, service: str, credentials: Credentials | None = None) -> Any:
        credentials = credentials or self.admin
        assert credentials is not None, "start() the emulator first"
        with self._session_lock:  # one session: its loader parses each service model once (a session is not thread-safe)
            return self._session.client(service, endpoint_url=self.url, region_name=REGION, config=CLIENT_CONFIG,
                                        **credentials.as_client_kwargs())

    def assume_role(self, role_arn: str, session_name: str) -> Credentials:
        """The temporary credentials Lambda would give a function of this role."""
        sts = self.client("sts", credentials=self.lambda_service)
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64], DurationSeconds=3600)
        issued = answer["Credentials"]
        return Credentials(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])

    def queue_url(self, queue_arn: str) -> str:
        """The URL moto gives a queue (Lambda knows its sources by ARN and never asks for it)."""
        _, _, _, _, account, name = queue_arn.split(":")
        return f"{self.url}/{account}/{name}"

    def environment(self) -> dict[str, str]:
        """What a process needs to reach this emulator with boto3 (credentials come separately).
        Account-based endpoints are off: botocore would send DynamoDB Streams calls to
        ``<account>.streams-ddb.<region>.amazonaws.com``, which moto's URL patterns do not match."""
        return {"AWS_ENDPOINT_URL": self.url, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}


def iter_statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    statements = document.get("Statement") or []
    yield from (statements if isinstance(statements, list) else [statements])


if __name__ == "__main__":
    serve()
