"""The part of Lambda, API Gateway and Scheduler that moto does not play: running the functions.

What it plays: each function in a process of its own (one warm instance, started on first use,
reused after), with its synthesized environment and its role's temporary credentials; HTTP routes
in API Gateway's payload format 2.0 (JWT authorizers check issuer, audience, expiry and scopes of the
bearer token's claims; the signature is not verified locally); event source mappings with batch size,
batching window, filter criteria, partial batch responses, bisect, maximum retry attempts and record
age, and on-failure destinations; schedules fired on demand with their target's input, retries and DLQ.
What it does not play: cold starts, concurrency limits and throttling (one instance per function,
one batch at a time per mapping), exact retry timing (a failed SQS batch is visible again after
``retry_delay_seconds``, not the queue's visibility timeout; a failed stream batch is retried at once),
and X-Ray. EventBridge delivers to queue targets itself (moto); a Lambda target is delivered to a
queue of the runtime's, which invokes the function asynchronously: the rule's permission, retries,
event age and the on-failure destination of its event invoke config.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tools.local.deploy import Deployed
from tools.local.emulator import REGION, Emulator, stop_child
from tools.local.worker import ANSWER_FD_ENV, resource_params

ROOT = Path(__file__).resolve().parents[2]
PASSED_THROUGH = ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")


@dataclass
class Invocation:
    function: str
    result: Any = None
    error: dict[str, Any] | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0
    event: Any = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class Hop:
    at: float
    where: str
    what: str


class Trace:
    """What happened, hop by hop, for ``make demo`` and the e2e tests."""

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self.hops: list[Hop] = []
        self._echo = echo
        self._lock = threading.Lock()
        self._started = time.monotonic()

    def add(self, where: str, what: str) -> None:
        with self._lock:
            hop = Hop(time.monotonic() - self._started, where, what)
            self.hops.append(hop)
        if self._echo:
            self._echo(f"  {hop.at:7.2f}s  {where:<38} {what}")


@dataclass(frozen=True)
class FunctionSpec:
    logical: str
    name: str
    arn: str
    handler: str
    role_arn: str
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    log_group: str


class LocalFunction:
    """One function's process: started on first use, one invocation at a time."""

    def __init__(self, spec: FunctionSpec, emulator: Emulator, log_dir: Path, trace: Trace,
                 on_activity: Callable[[], None] = lambda: None) -> None:
        self.spec = spec
        self._on_activity = on_activity
        self._emulator = emulator
        self._log_path = log_dir / f"{spec.name}.log"
        self._trace = trace
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._answers: Any = None
        self._started_at = 0.0
        self.invocations: list[Invocation] = []
        self.service_calls: list[dict[str, Any]] = []

    def _start(self) -> None:
        credentials = self._emulator.assume_role(self.spec.role_arn, self.spec.name)
        environment = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
        environment.update(self.spec.environment)
        environment.update(self._emulator.environment())
        environment.update(credentials.as_environment())
        environment.update({
            "AWS_LAMBDA_FUNCTION_NAME": self.spec.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": self.spec.log_group, "LOCAL_CLOUD_FUNCTION_ARN": self.spec.arn,
            "POWERTOOLS_TRACE_DISABLED": "true",  # X-Ray is not played locally
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"})
        read_end, write_end = os.pipe()
        environment[ANSWER_FD_ENV] = str(write_end)
        log = self._log_path.open("ab")
        self._process = subprocess.Popen([sys.executable, "-m", "tools.local.worker", self.spec.handler], cwd=ROOT,
                                         env=environment, stdin=subprocess.PIPE, stdout=log, stderr=log,
                                         pass_fds=(write_end,))
        os.close(write_end)
        log.close()
        self._answers = os.fdopen(read_end, "rb")
        self._started_at = time.monotonic()
        ready = self._read_answer(60)
        if ready is None:
            self.stop()
            raise RuntimeError(f"{self.spec.name} did not start; see {self._log_path}")
        self.invocations.append(Invocation(self.spec.name, result="init", calls=ready.get("calls", [])))

    def _read_answer(self, timeout: float) -> dict[str, Any] | None:
        readable, _, _ = select.select([self._answers], [], [], timeout)
        if not readable:
            return None
        line = self._answers.readline()
        return json.loads(line) if line else None

    def invoke(self, event: Any) -> Invocation:
        self._on_activity()
        try:
            return self._invoke(event)
        finally:
            self._on_activity()

    def _invoke(self, event: Any) -> Invocation:
        with self._lock:
            # Temporary credentials last an hour: a fresh sandbox before they run out.
            if self._process is not None and time.monotonic() - self._started_at > 3000:
                self.stop()
            if self._process is None:
                self._start()
            assert self._process is not None and self._process.stdin is not None
            request = {"event": event, "requestId": str(uuid.uuid4()), "timeoutSeconds": self.spec.timeout_seconds}
            self._process.stdin.write((json.dumps(request) + "\n").encode())
            self._process.stdin.flush()
            answer = self._read_answer(self.spec.timeout_seconds + 1)
            if answer is None:
                self.stop()
                invocation = Invocation(self.spec.name, error={
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {self.spec.timeout_seconds} seconds"})
            else:
                invocation = Invocation(self.spec.name, result=answer.get("result"), error=answer.get("error"),
                                        calls=answer.get("calls", []), duration_ms=answer.get("durationMs", 0.0))
            invocation.event = event
            self.invocations.append(invocation)
            return invocation

    def service_client(self, service: str) -> Any:
        """A client for what Lambda does with this function's role (poll its sources, send to its
        on-failure destination); its calls are recorded with the function's own."""
        credentials = self._emulator.assume_role(self.spec.role_arn, f"{self.spec.name}-lambda-service")
        client = self._emulator.client(service, credentials=credentials)
        client.meta.events.register("before-parameter-build", self._record_service_call)
        return client

    def _record_service_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.service_calls.append({"service": model.service_model.service_name, "operation": model.name,
                                   "params": resource_params(params)})

    def warm(self) -> None:
        with self._lock:
            if self._process is None:
                self._start()

    def close_input(self) -> None:
        if self._process is not None and self._process.stdin and not self._process.stdin.closed:
            self._process.stdin.close()

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_child(process, timeout=5)
        if self._answers:
            self._answers.close()
            self._answers = None


def _epoch(value: Any) -> Any:
    return value.timestamp() if isinstance(value, dt.datetime) else value


def matches_filters(filters: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Lambda's filter criteria: a record is passed on when any filter's pattern matches it
    (EventBridge pattern syntax; moto's implementation of it)."""
    if not filters:
        return True
    from moto.events.models import EventPattern

    return any(EventPattern.load(f["pattern"]).matches_event(record) for f in filters)


class Poller(threading.Thread):
    """Base of the event source mappings (and of what EventBridge does with a target): polls until
    stopped, invoking its function."""

    def __init__(self, mapping: dict[str, Any], function: LocalFunction | None, runtime: LocalRuntime) -> None:
        super().__init__(daemon=True, name=f"poller-{mapping['name']}")
        self.mapping = mapping
        self.inputs = mapping["inputs"]
        self.function = function
        self.runtime = runtime
        self.batch_size = int(float(self.inputs.get("batchSize", 10)))
        self.window = float(self.inputs.get("maximumBatchingWindowInSeconds", 0))
        self.filters = (self.inputs.get("filterCriteria") or {}).get("filters") or []
        self.partial = "ReportBatchItemFailures" in (self.inputs.get("functionResponseTypes") or [])
        self.stopping = threading.Event()
        self.idle = threading.Event()  # set while the source had nothing for us

    def _working(self) -> None:
        self.idle.clear()
        self.runtime.touch()

    def renew(self) -> None:
        """New clients for the role's temporary credentials (they last an hour)."""

    def run(self) -> None:
        renewed = time.monotonic()
        while not self.stopping.is_set():
            if time.monotonic() - renewed > 3000:
                self.renew()
                renewed = time.monotonic()
            try:
                worked = self.poll_once()
            except Exception as error:  # a poller keeps going, as Lambda's does
                self.runtime.trace.add(self.name, f"poll failed: {error}")
                worked = False
            if worked:
                self._working()
            else:
                self.idle.set()
                self.stopping.wait(0.2)

    def poll_once(self) -> bool:
        raise NotImplementedError


class SqsPoller(Poller):
    def __init__(self, mapping: dict[str, Any], function: LocalFunction, runtime: LocalRuntime) -> None:
        super().__init__(mapping, function, runtime)
        self.queue_arn = self.inputs["eventSourceArn"]
        self.sqs = function.service_client("sqs")
        self.queue_url = runtime.emulator.queue_url(self.queue_arn)
        # Lambda reads the queue's attributes with the function's role when the mapping is created.
        self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["All"])
        self._local = runtime.emulator.client("sqs")  # the runtime's own shortcut (retry delay), not Lambda's

    def renew(self) -> None:
        self.sqs = self.function.service_client("sqs")

    def _receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.window
        while len(messages) < self.batch_size:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url, WaitTimeSeconds=0,
                                              MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                                              AttributeNames=["All"], MessageAttributeNames=["All"])
            received = answer.get("Messages", [])
            if received:
                self._working()
            messages += received
            if not received and (not messages or time.monotonic() >= deadline):
                break
            if not received:
                time.sleep(0.05)
        return messages

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
                "attributes": message.get("Attributes", {}), "md5OfBody": message.get("MD5OfBody", ""),
                "messageAttributes": {k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType")}
                                      for k, v in message.get("MessageAttributes", {}).items()},
                "eventSource": "aws:sqs", "eventSourceARN": self.queue_arn, "awsRegion": REGION}

    def _passes(self, record: dict[str, Any]) -> bool:
        try:
            body = json.loads(record["body"])
        except ValueError:
            body = record["body"]
        return matches_filters(self.filters, {**record, "body": body})

    def poll_once(self) -> bool:
        messages = self._receive()
        if not messages:
            return False
        self._working()
        records = [self._record(m) for m in messages]
        dropped = [r for r in records if not self._passes(r)]
        records = [r for r in records if r not in dropped]
        self._acknowledge(dropped)  # Lambda deletes what its filters drop
        if not records:
            return True
        where = f"{self.queue_arn.rsplit(':', 1)[-1]} -> {self.function.spec.logical}"
        invocation = self.function.invoke({"Records": records})
        if invocation.failed:
            self.runtime.trace.add(where, f"{len(records)} message(s): function error {invocation.error['errorType']}; "
                                          "all stay on the queue")
            self._retry_later(records)
            return True
        failed_ids = set()
        if self.partial and isinstance(invocation.result, dict):
            failed_ids = {f.get("itemIdentifier") for f in invocation.result.get("batchItemFailures") or []}
        self._acknowledge([r for r in records if r["messageId"] not in failed_ids])
        self._retry_later([r for r in records if r["messageId"] in failed_ids])
        self.runtime.trace.add(where, f"{len(records)} message(s), {len(failed_ids)} failed"
                               + (f" {sorted(failed_ids)}" if failed_ids else ""))
        return True

    def _acknowledge(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start:start + 10]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)])

    def _retry_later(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start:start + 10]
            self._local.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": self.runtime.retry_delay_seconds}
                for i, r in enumerate(chunk)])


class StreamPoller(Poller):
    """DynamoDB Streams and Kinesis: in order per shard, a batch retried until it succeeds, its
    retries run out or its records are too old (then its description goes to the on-failure
    destination), halved on error when bisect is on, resumed after the last success reported."""

    def __init__(self, mapping: dict[str, Any], function: LocalFunction, runtime: LocalRuntime) -> None:
        super().__init__(mapping, function, runtime)
        self.source_arn = self.inputs["eventSourceArn"]
        self.kinesis = ":kinesis:" in self.source_arn
        self.client = function.service_client("kinesis" if self.kinesis else "dynamodbstreams")
        self.retries = int(float(self.inputs.get("maximumRetryAttempts", -1)))
        self.max_age = float(self.inputs.get("maximumRecordAgeInSeconds", -1))
        self.bisect = bool(self.inputs.get("bisectBatchOnFunctionError", False))
        self.on_failure = ((self.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn")
        self.position = self.inputs.get("startingPosition", "LATEST")
        self.iterators: dict[str, str] = {}
        self.last_sequence: dict[str, str] = {}
        # What Lambda checks with the function's role when the mapping is created.
        if self.kinesis:
            self.client.describe_stream_summary(StreamARN=self.source_arn)
            self.client.describe_stream(StreamARN=self.source_arn)

    def renew(self) -> None:
        self.client = self.function.service_client("kinesis" if self.kinesis else "dynamodbstreams")

    def _shards(self) -> list[str]:
        if self.kinesis:
            return [s["ShardId"] for s in self.client.list_shards(StreamARN=self.source_arn)["Shards"]]
        return [s["ShardId"] for s in self.client.describe_stream(StreamArn=self.source_arn)["StreamDescription"]["Shards"]]

    def _iterator(self, shard: str) -> str:
        if shard not in self.iterators:
            position: dict[str, str] = {"ShardIteratorType": self.position}
            if shard in self.last_sequence:
                position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.last_sequence[shard]}
            source = {"StreamARN": self.source_arn} if self.kinesis else {"StreamArn": self.source_arn}
            self.iterators[shard] = self.client.get_shard_iterator(ShardId=shard, **source, **position)["ShardIterator"]
        return self.iterators[shard]

    def _record(self, shard: str, raw: dict[str, Any]) -> dict[str, Any]:
        if self.kinesis:
            return {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": raw["PartitionKey"],
                                "sequenceNumber": raw["SequenceNumber"],
                                "data": base64.b64encode(raw["Data"]).decode(),
                                "approximateArrivalTimestamp": _epoch(raw.get("ApproximateArrivalTimestamp"))},
                    "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard}:{raw['SequenceNumber']}",
                    "eventName": "aws:kinesis:record", "invokeIdentityArn": self.function.spec.role_arn,
                    "awsRegion": REGION, "eventSourceARN": self.source_arn}
        record = {key: raw[key] for key in ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion")
                  if key in raw}
        record["dynamodb"] = {k: _epoch(v) for k, v in raw["dynamodb"].items()}
        record["eventSourceARN"] = self.source_arn
        return record

    @staticmethod
    def _sequence(record: dict[str, Any]) -> str:
        return record["kinesis"]["sequenceNumber"] if "kinesis" in record else record["dynamodb"]["SequenceNumber"]

    def _arrival(self, record: dict[str, Any]) -> float:
        value = (record["kinesis"].get("approximateArrivalTimestamp") if "kinesis" in record
                 else record["dynamodb"].get("ApproximateCreationDateTime"))
        return float(value or time.time())

    def _read(self, shard: str) -> list[dict[str, Any]]:
        """One GetRecords on the shard: its records that pass the mapping's filters."""
        arguments = {"StreamARN": self.source_arn} if self.kinesis else {}  # moto finds the stream by ARN
        answer = self.client.get_records(ShardIterator=self._iterator(shard), Limit=1000, **arguments)
        raw_records = answer.get("Records", [])
        if raw_records or self.kinesis:
            self.iterators[shard] = answer.get("NextShardIterator") or self.iterators[shard]
        else:
            # moto gap: a cancelled transaction restores a copy of the table, and iterators taken
            # before it never see another record. A fresh one after the last record does.
            self.iterators.pop(shard, None)
        if raw_records:
            last = raw_records[-1]
            self.last_sequence[shard] = last["SequenceNumber"] if self.kinesis else last["dynamodb"]["SequenceNumber"]
        records = [self._record(shard, raw) for raw in raw_records]
        return [r for r in records if matches_filters(self.filters, self._filterable(r))]

    def poll_once(self) -> bool:
        worked = False
        for shard in self._shards():
            records = self._read(shard)
            if not records:
                continue
            self._working()
            deadline = time.monotonic() + self.window  # a batch waits up to the window to fill
            while len(records) < self.batch_size and time.monotonic() < deadline:
                time.sleep(0.05)
                records += self._read(shard)
            worked = True
            while records:
                batch, records = records[:self.batch_size], records[self.batch_size:]
                self._process(shard, batch)
        return worked

    def _filterable(self, record: dict[str, Any]) -> dict[str, Any]:
        if "kinesis" not in record:
            return record
        try:  # Kinesis filters match the decoded data when it is JSON
            data = json.loads(base64.b64decode(record["kinesis"]["data"]))
        except ValueError:
            return record
        return {**record, "data": data}

    def _process(self, shard: str, batch: list[dict[str, Any]], attempts: int = 0) -> None:
        """One batch until it succeeds or is given up. Splitting a failed batch in two does not
        count towards the retry quota (Lambda's bisect); a retry of what is left does."""
        where = f"{self.source_arn.split('/')[1]} -> {self.function.spec.logical}"
        while batch:
            if self.max_age >= 0 and time.time() - self._arrival(batch[0]) > self.max_age:
                self._give_up(shard, batch, "RecordAgeExceeded")
                return
            invocation = self.function.invoke({"Records": batch})
            if not invocation.failed:
                failures = []
                if self.partial and isinstance(invocation.result, dict):
                    failures = [f.get("itemIdentifier") for f in invocation.result.get("batchItemFailures") or []]
                if not failures:
                    self.runtime.trace.add(where, f"{len(batch)} record(s) processed")
                    return
                sequences = [self._sequence(r) for r in batch]
                known = [sequences.index(f) for f in failures if f in sequences]
                first = min(known) if known else 0  # an unknown identifier retries the whole batch
                self.runtime.trace.add(where, f"{len(batch)} record(s), retried from #{first + 1}")
                batch = batch[first:]
            else:
                self.runtime.trace.add(where, f"{len(batch)} record(s): function error {invocation.error['errorType']}")
                if self.bisect and len(batch) > 1:
                    half = len(batch) // 2
                    self._process(shard, batch[:half], attempts)
                    self._process(shard, batch[half:], attempts)
                    return
            attempts += 1
            if self.retries >= 0 and attempts > self.retries:
                self._give_up(shard, batch, "RetryAttemptsExhausted")
                return

    def _give_up(self, shard: str, batch: list[dict[str, Any]], condition: str) -> None:
        info_key = "KinesisBatchInfo" if self.kinesis else "DDBStreamBatchInfo"
        description = {
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": self.function.spec.arn,
                               "condition": condition, "approximateInvokeCount": 1},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0", "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            info_key: {"shardId": shard, "startSequenceNumber": self._sequence(batch[0]),
                       "endSequenceNumber": self._sequence(batch[-1]), "batchSize": len(batch),
                       "streamArn": self.source_arn}}
        where = f"{self.source_arn.split('/')[1]} -> {self.function.spec.logical}"
        if self.on_failure:
            self.function.service_client("sqs").send_message(
                QueueUrl=self.runtime.emulator.queue_url(self.on_failure), MessageBody=json.dumps(description))
            self.runtime.trace.add(where, f"{len(batch)} record(s) given up ({condition}): described on "
                                          f"{self.on_failure.rsplit(':', 1)[-1]}")
        else:
            self.runtime.trace.add(where, f"{len(batch)} record(s) given up ({condition}), no destination: lost")


class AsyncInvoker(Poller):
    """A rule's Lambda target: EventBridge hands each event over asynchronously (if the function's
    resource policy lets the rule invoke it; else the event goes to the target's DLQ), then Lambda
    retries a failed invocation (``maximumRetryAttempts`` of the function's event invoke config,
    2 by default), drops events older than ``maximumEventAgeInSeconds`` and sends what it gave up
    on to the on-failure destination with the invocation record AWS documents."""

    def __init__(self, tap_arn: str, tap: dict[str, Any], function: LocalFunction, runtime: LocalRuntime) -> None:
        super().__init__({"name": f"async-{function.spec.logical}", "inputs": {"eventSourceArn": tap_arn}}, function,
                         runtime)
        self.tap, self.url = tap, runtime.emulator.queue_url(tap_arn)
        self.sqs = runtime.emulator.client("sqs")  # EventBridge's own delivery
        config = next((c["inputs"] for c in runtime.deployed.of_type(
            "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
            if function.spec.name == c["inputs"]["functionName"].split(":function:")[-1].split(":")[0]), {})
        self.retries = int(float(config.get("maximumRetryAttempts", 2)))
        self.max_age = float(config.get("maximumEventAgeInSeconds", 21600))
        self.on_failure = ((config.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
        self.permitted = any(
            p["inputs"].get("principal") == "events.amazonaws.com"
            and function.spec.name == p["inputs"]["function"].split(":function:")[-1].split(":")[0]
            and p["inputs"].get("sourceArn", "").endswith(f"rule/{tap['bus']}/{tap['rule']}")
            for p in runtime.deployed.of_type("aws:lambda/permission:Permission"))

    def poll_once(self) -> bool:
        messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return False
        self._working()
        for message in messages:
            self._deliver(json.loads(message["Body"]))
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return True

    def _deliver(self, event: dict[str, Any]) -> None:
        where = f"rule {self.tap['rule']} -> {self.function.spec.logical}"
        if not self.permitted:
            if self.tap.get("deadLetterArn"):
                self.sqs.send_message(QueueUrl=self.runtime.emulator.queue_url(self.tap["deadLetterArn"]),
                                      MessageBody=json.dumps(event))
            self.trace.add(where, "no resource policy lets the rule invoke the function: event on the target's DLQ")
            return
        invocation = None
        for attempt in range(1 + max(self.retries, 0)):
            age = time.time() - dt.datetime.fromisoformat(event.get("time", dt.datetime.now(dt.UTC).isoformat())
                                                          .replace("Z", "+00:00")).timestamp()
            if age > self.max_age:
                self._give_up(event, invocation, "EventAgeExceeded", attempt)
                return
            invocation = self.function.invoke(event)
            if not invocation.failed:
                self.trace.add(where, f"async invocation ok (attempt {attempt + 1})")
                return
        self._give_up(event, invocation, "RetriesExhausted", 1 + max(self.retries, 0))

    @property
    def trace(self) -> Trace:
        return self.runtime.trace

    def _give_up(self, event: dict[str, Any], invocation: Invocation | None, condition: str, attempts: int) -> None:
        where = f"rule {self.tap['rule']} -> {self.function.spec.logical}"
        record = {"version": "1.0", "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                  "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": self.function.spec.arn,
                                     "condition": condition, "approximateInvokeCount": attempts},
                  "requestPayload": event,
                  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                  "responsePayload": (invocation.error if invocation else None)}
        if self.on_failure:
            self.function.service_client("sqs").send_message(
                QueueUrl=self.runtime.emulator.queue_url(self.on_failure), MessageBody=json.dumps(record, default=str))
            self.trace.add(where, f"gave up ({condition}, {attempts} attempt(s)): on "
                                  f"{self.on_failure.rsplit(':', 1)[-1]}")
        else:
            self.trace.add(where, f"gave up ({condition}), no destination: lost")


class WorkflowStarter(Poller):
    """A rule's state machine target: EventBridge starts one execution per event with the target's
    role (the event is the input; EventBridge names the execution, moto would leave it unnamed).
    A start the role may not make goes to the target's DLQ, as EventBridge does after its retries."""

    def __init__(self, tap_arn: str, tap: dict[str, Any], runtime: LocalRuntime) -> None:
        super().__init__({"name": f"starter-{tap['rule']}", "inputs": {"eventSourceArn": tap_arn}}, None, runtime)
        self.tap = tap
        self.url = runtime.emulator.queue_url(tap_arn)
        self.sqs = runtime.emulator.client("sqs")
        self.executions: list[str] = []
        self.renew()

    def renew(self) -> None:
        credentials = self.runtime.emulator.assume_role(self.tap["roleArn"], f"events-{self.tap['rule']}")
        self.states = self.runtime.emulator.client("stepfunctions", credentials=credentials)

    def poll_once(self) -> bool:
        messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        for message in messages:
            self._start(message["Body"])
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return bool(messages)

    def _start(self, body: str) -> None:
        where = f"rule {self.tap['rule']} -> {self.tap['stateMachine'].rsplit(':', 1)[-1]}"
        try:
            execution = self.states.start_execution(stateMachineArn=self.tap["stateMachine"], name=str(uuid.uuid4()),
                                                    input=body)["executionArn"]
        except Exception as error:  # refused (the role), or the machine is gone: the target's DLQ keeps it
            if self.tap.get("deadLetterArn"):
                self.sqs.send_message(QueueUrl=self.runtime.emulator.queue_url(self.tap["deadLetterArn"]), MessageBody=body)
            self.runtime.trace.add(where, f"could not start an execution ({error}): event on the target's DLQ")
            return
        self.executions.append(execution)
        self.runtime.trace.add(where, f"execution {execution.rsplit(':', 1)[-1]} started")


def _invoke_handler_class(runtime: LocalRuntime) -> type[BaseHTTPRequestHandler]:
    """Lambda's Invoke API (``POST /2015-03-31/functions/<name>/invocations``), for the emulator's
    Step Functions tasks: the answer, or Lambda's error payload with ``X-Amz-Function-Error``."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = unquote(self.path.split("?", 1)[0])
            name = path.removeprefix("/2015-03-31/functions/").removesuffix("/invocations")
            headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"}
            try:
                function = runtime.function_for(name)
            except KeyError:
                status, data = 404, json.dumps({"Type": "User", "message": f"Function not found: {name}"}).encode()
                headers["X-Amzn-ErrorType"] = "ResourceNotFoundException"
            else:
                invocation = function.invoke(json.loads(body or b"{}"))
                status, data = 200, json.dumps(invocation.error if invocation.failed else invocation.result).encode()
                if invocation.failed:
                    headers["X-Amz-Function-Error"] = "Unhandled"
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return
    return Handler


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class Route:
    def __init__(self, route_key: str, function: LocalFunction, authorizer: dict[str, Any] | None,
                 scopes: list[str]) -> None:
        self.key = route_key
        self.method, template = route_key.split(" ", 1)
        self.function = function
        self.authorizer = authorizer
        self.scopes = scopes
        pattern = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", template)
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self.pattern = re.compile(f"^{pattern}$")


def unsigned_jwt(claims: dict[str, Any]) -> str:
    """A bearer token carrying these claims, for the local authorizer (which reads, not verifies)."""
    def encode(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{encode({'alg': 'none', 'typ': 'JWT'})}.{encode(claims)}.local"


class LocalRuntime:
    """Functions, routes, mappings and schedules of one deployed stack."""

    def __init__(self, deployed: Deployed, emulator: Emulator, log_dir: Path, *,
                 echo: Callable[[str], None] | None = None, retry_delay_seconds: int = 1) -> None:
        self.deployed = deployed
        self.emulator = emulator
        self.trace = Trace(echo)
        self.retry_delay_seconds = retry_delay_seconds
        self.last_activity = time.monotonic()
        log_dir.mkdir(parents=True, exist_ok=True)
        self.functions: dict[str, LocalFunction] = {}
        for resource in deployed.of_type("aws:lambda/function:Function"):
            inputs = resource["inputs"]
            spec = FunctionSpec(
                logical=resource["name"], name=inputs["name"], arn=deployed.outputs[resource["name"]]["arn"],
                handler=inputs["handler"], role_arn=inputs["role"],
                environment=dict((inputs.get("environment") or {}).get("variables") or {}),
                timeout_seconds=int(float(inputs.get("timeout", 3))), memory_mb=int(float(inputs.get("memorySize", 128))),
                log_group=(inputs.get("loggingConfig") or {}).get("logGroup", f"/aws/lambda/{inputs['name']}"))
            self.functions[spec.name] = LocalFunction(spec, emulator, log_dir, self.trace, self.touch)
        self.pollers: list[Poller] = []
        for mapping in deployed.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
            function = self.function_for(mapping["inputs"]["functionName"])
            kind = SqsPoller if ":sqs:" in mapping["inputs"]["eventSourceArn"] else StreamPoller
            self.pollers.append(kind(mapping, function, self))
        self.starters: list[WorkflowStarter] = []
        for tap_arn, tap in deployed.taps.items():
            if "stateMachine" in tap:
                self.starters.append(WorkflowStarter(tap_arn, tap, self))
                self.pollers.append(self.starters[-1])
            else:
                self.pollers.append(AsyncInvoker(tap_arn, tap, self.function_for(tap["function"]), self))
        self._tasks: ThreadingHTTPServer | None = None
        self.routes = self._routes()
        self._http: ThreadingHTTPServer | None = None
        self.api_url = ""

    def function_for(self, name_or_arn: str) -> LocalFunction:
        """A function by name, ARN, or alias ARN (an alias runs the code it points at)."""
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        return self.functions[name]

    def function(self, logical: str) -> LocalFunction:
        return next(f for f in self.functions.values() if f.spec.logical == logical)

    def _routes(self) -> list[Route]:
        integrations = {r["name"]: r for r in self.deployed.of_type("aws:apigatewayv2/integration:Integration")}
        by_id = {self.deployed.outputs[name]["id"]: r for name, r in integrations.items()}
        authorizers = {self.deployed.outputs[r["name"]]["id"]: r["inputs"]
                       for r in self.deployed.of_type("aws:apigatewayv2/authorizer:Authorizer")}
        routes = []
        for resource in self.deployed.of_type("aws:apigatewayv2/route:Route"):
            inputs = resource["inputs"]
            integration = by_id[inputs["target"].removeprefix("integrations/")]
            authorizer = authorizers.get(inputs.get("authorizerId", "")) if inputs.get("authorizationType") == "JWT" else None
            routes.append(Route(inputs["routeKey"], self.function_for(integration["inputs"]["integrationUri"]),
                                authorizer, inputs.get("authorizationScopes") or []))
        return routes

    # --- lifecycle
    def prewarm(self) -> None:
        """Starts every function's sandbox at once (the first request then finds it warm)."""
        threads = [threading.Thread(target=f.warm, daemon=True) for f in self.functions.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def start(self, *, http: bool = True, pollers: bool = True) -> LocalRuntime:
        """``pollers=False``: the mappings poll only when a test calls their ``poll_once``."""
        for poller in self.pollers if pollers else ():
            poller.start()
        if self.deployed.of_type("aws:sfn/stateMachine:StateMachine"):  # where the emulator sends their tasks
            self._tasks = ThreadingHTTPServer(("127.0.0.1", self.emulator.lambda_tasks_port), _invoke_handler_class(self))
            threading.Thread(target=self._tasks.serve_forever, daemon=True, name="local-lambda-tasks").start()
        if http and self.routes:
            self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
            threading.Thread(target=self._http.serve_forever, daemon=True, name="local-http-api").start()
            self.api_url = f"http://127.0.0.1:{self._http.server_address[1]}"
        return self

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stopping.set()
        for poller in self.pollers:
            if poller.is_alive():
                poller.join(timeout=10)
        if self._tasks:
            self._tasks.shutdown()
            self._tasks.server_close()
            self._tasks = None
        if self._http:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        for function in self.functions.values():  # every sandbox is told first, then each is waited for
            function.close_input()
        for function in self.functions.values():
            function.stop()

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def quiet_for(self, seconds: float) -> bool:
        """Nothing ran and no source had anything for ``seconds``: nothing more will happen by itself."""
        return (time.monotonic() - self.last_activity >= seconds and all(p.idle.is_set() for p in self.pollers)
                and not any(f.busy for f in self.functions.values()))

    def settle(self, timeout: float = 30.0, quiet_for: float = 0.6) -> bool:
        """Waits until every poller has found its source empty for ``quiet_for`` seconds."""
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            if all(p.idle.is_set() for p in self.pollers) and not any(f.busy for f in self.functions.values()):
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= quiet_for:
                    return True
            else:
                quiet_since = None
            time.sleep(0.05)
        return False

    # --- HTTP API, payload format 2.0
    def http_event(self, method: str, raw_path: str, headers: dict[str, str], body: bytes,
                   route: Route, path_parameters: dict[str, str], claims: dict[str, Any] | None) -> dict[str, Any]:
        path, _, query = raw_path.partition("?")
        is_text = True
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            is_text, text = False, base64.b64encode(body).decode()
        query_parameters: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            query_parameters[key] = f"{query_parameters[key]},{value}" if key in query_parameters else value
        event: dict[str, Any] = {
            "version": "2.0", "routeKey": route.key, "rawPath": path, "rawQueryString": query,
            "headers": {k.lower(): v for k, v in headers.items()},
            "requestContext": {
                "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1", "domainPrefix": "127",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                         "userAgent": headers.get("User-Agent", headers.get("user-agent", ""))},
                "requestId": str(uuid.uuid4()), "routeKey": route.key, "stage": "$default",
                "time": dt.datetime.now(dt.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(time.time() * 1000)},
            "isBase64Encoded": not is_text}
        if query_parameters:
            event["queryStringParameters"] = query_parameters
        if path_parameters:
            event["pathParameters"] = path_parameters
        if body:
            event["body"] = text
        if claims is not None:
            scopes = str(claims.get("scope", "")).split() or None
            event["requestContext"]["authorizer"] = {"jwt": {"claims": {k: v if isinstance(v, str) else json.dumps(v)
                                                                        for k, v in claims.items()}, "scopes": scopes}}
        return event

    def _authorize(self, route: Route, headers: dict[str, str]) -> tuple[dict[str, Any] | None, int]:
        if route.authorizer is None:
            return None, 0
        token = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        token = token.removeprefix("Bearer ").strip()
        try:
            claims = json.loads(_b64url(token.split(".")[1]))
        except (IndexError, ValueError):
            return None, 401
        jwt = route.authorizer.get("jwtConfiguration") or {}
        audience = claims.get("aud") or claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        if (jwt.get("issuer") and claims.get("iss") != jwt["issuer"]) or (
                jwt.get("audiences") and not set(audiences) & set(jwt["audiences"])) or (
                "exp" in claims and float(claims["exp"]) < time.time()):
            return None, 401
        if route.scopes and not set(str(claims.get("scope", "")).split()) & set(route.scopes):
            return None, 403
        return claims, 0

    def request(self, method: str, raw_path: str, headers: dict[str, str] | None = None,
                body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        """One HTTP request through the routes, as API Gateway would answer it."""
        headers = headers or {}
        path = urlsplit(raw_path).path
        for route in self.routes:
            match = route.pattern.match(path)
            if route.method in (method, "ANY") and match:
                claims, status = self._authorize(route, headers)
                if status:
                    message = "Unauthorized" if status == 401 else "Forbidden"
                    return status, {"content-type": "application/json"}, json.dumps({"message": message}).encode()
                event = self.http_event(method, raw_path, headers, body, route, match.groupdict(), claims)
                invocation = route.function.invoke(event)
                self.trace.add(f"{method} {path}", f"-> {route.function.spec.logical}: "
                               + ("error " + invocation.error["errorType"] if invocation.failed else
                                  str(invocation.result.get("statusCode", 200) if isinstance(invocation.result, dict) else 200)))
                return _http_response(invocation)
        return 404, {"content-type": "application/json"}, json.dumps({"message": "Not Found"}).encode()

    # --- Scheduler, played on demand
    def fire_schedule(self, name: str) -> Invocation:
        schedule = next(r for r in self.deployed.of_type("aws:scheduler/schedule:Schedule")
                        if r["inputs"]["name"] == name or r["name"] == name)
        target = schedule["inputs"]["target"]
        event = json.loads(target.get("input", "{}"))
        function = self.function_for(target["arn"])
        attempts = 1 + min(int(float((target.get("retryPolicy") or {}).get("maximumRetryAttempts", 0))), 2)
        for _ in range(attempts):
            invocation = function.invoke(event)
            if not invocation.failed:
                break
        where = f"schedule {schedule['inputs']['name']}"
        if invocation.failed and target.get("deadLetterConfig"):
            sqs = self.emulator.client("sqs")
            url = sqs.get_queue_url(QueueName=target["deadLetterConfig"]["arn"].rsplit(":", 1)[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
            self.trace.add(where, f"-> {function.spec.logical}: failed {attempts}x, event on its DLQ")
        else:
            self.trace.add(where, f"-> {function.spec.logical}: " + ("failed" if invocation.failed else "ok"))
        return invocation

    def calls_by_function(self) -> dict[str, list[dict[str, Any]]]:
        return {name: [call for invocation in function.invocations for call in invocation.calls]
                for name, function in self.functions.items()}


def _http_response(invocation: Invocation) -> tuple[int, dict[str, str], bytes]:
    if invocation.failed:
        status = 503 if invocation.error and invocation.error.get("errorType") == "Sandbox.Timedout" else 500
        return status, {"content-type": "application/json"}, json.dumps(
            {"message": "Service Unavailable" if status == 503 else "Internal Server Error"}).encode()
    result = invocation.result
    if not (isinstance(result, dict) and "statusCode" in result):  # format 2.0 infers a 200 JSON answer
        return 200, {"content-type": "application/json"}, json.dumps(result).encode()
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    return int(result["statusCode"]), headers, data


def _handler_class(runtime: LocalRuntime) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, data = runtime.request(self.command, self.path, dict(self.headers.items()), body)
            self.send_response(status)
            for key, value in headers.items():
                if key != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server names them

        def log_message(self, format: str, *args: Any) -> None:  # the trace says it once
            return
    return Handler
