"""python -m tools.local <stack> [--demo]: the stack in a local cloud (moto server on 127.0.0.1).

Without --demo it deploys the stack, prints what it created and the local URLs, and serves until
Ctrl-C. With --demo it drives every flow of the reference system, prints the trace, then the
grants no flow used, and exits non-zero on the first mismatch. No AWS account, no Docker.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

from tools.local import runtime


def _description() -> str:
    plays = runtime.__doc__.split("\n", 1)[1].strip() if runtime.__doc__ else ""
    return __doc__.split("\n", 1)[0] + "\n\n" + plays


def main(argv: list[str] | None = None) -> int:
    from tools.synth import known_stacks

    parser = argparse.ArgumentParser(prog="python -m tools.local", description=_description(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", help="stack name: " + ", ".join(known_stacks()))
    parser.add_argument("--demo", action="store_true", help="drive every flow, print the trace, then stop")
    parser.add_argument("--credentials", action="store_true",
                        help="print the local administrator's credentials to use the AWS CLI against the emulator")
    parser.add_argument("--quiet", action="store_true", help="no per-resource deploy progress")
    args = parser.parse_args(argv)
    if args.stack not in known_stacks():
        print(f"unknown stack '{args.stack}'; one of: {', '.join(known_stacks())}", file=sys.stderr)
        return 2
    from system.settings import SettingsError
    from tools.local.cloud import LocalCloud
    from tools.local.deploy import DeployError

    def progress(line: str) -> None:
        if not (args.quiet and line.startswith("[")):
            print(f">> {line}", flush=True)

    cloud = LocalCloud(args.stack, progress=progress, echo=lambda line: print(line, flush=True))
    try:
        cloud.start()
    except (SettingsError, DeployError) as error:
        print(f"the local cloud could not deploy {args.stack}: {error}", file=sys.stderr)
        return 1
    try:
        print(f">> ready in {cloud.ready_seconds:.1f}s")
        for line in cloud.summary():
            print(f"   {line}")
        if args.credentials:
            _print_credentials(cloud)
        if args.demo:
            return _demo(cloud)
        print(">> serving; Ctrl-C stops everything")
        stop = threading.Event()
        try:
            while not stop.wait(3600):
                pass
        except KeyboardInterrupt:
            print("\n>> stopping")
        return 0
    finally:
        cloud.stop()


def _print_credentials(cloud: Any) -> None:
    admin = cloud.emulator.admin
    print(f"   export AWS_ENDPOINT_URL={cloud.emulator.url} AWS_REGION=us-east-1 "
          f"AWS_ACCESS_KEY_ID={admin.access_key_id} AWS_SECRET_ACCESS_KEY={admin.secret_access_key}")


def _demo(cloud: Any) -> int:
    from tools.local import demo, grants

    started = time.monotonic()
    try:
        results = demo.run(cloud)
    except demo.FlowMismatchError as mismatch:
        print(f"\nMISMATCH: {mismatch}", file=sys.stderr)
        return 1
    print(f"\n>> {len(results)} flows ok in {time.monotonic() - started:.1f}s")
    report = grants.unused_grants(cloud)
    print(grants.render(report))
    unexplained = grants.unexplained(report)
    if unexplained:
        print(f"\n{len(unexplained)} granted action(s) no flow used and no reason keeps: remove them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
