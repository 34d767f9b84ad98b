"""Each function's archive is all its handler has in Lambda: unpack it alone (the archive's files,
nothing of the repository) and import the handler as the Lambda runtime would, with the function's
synthesized environment. Fails when a handler imports a module its component did not package, e.g.
a ``components.runtime`` module missing from ``runtime_modules`` or a ``shared`` helper left out, and
when anything deploy-time (Pulumi, the builders, the application's infrastructure code) is imported at
runtime: handlers may import the library's runtime package only, which imports nothing of Pulumi."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDAS = ROOT / "lambdas"


def source_of(archive_path: str) -> Path:
    """Where an archive entry comes from: the library's files keep their package path, the
    application's are relative to lambdas/."""
    return ROOT / archive_path if archive_path.startswith("components/") else LAMBDAS / archive_path


def test_every_handler_imports_from_its_archive_alone(synth_stack, tmp_path: Path) -> None:
    functions = synth_stack("prod").of_type("aws:lambda/function:Function")
    assert len(functions) == 11
    running = {}
    for function in functions:
        inputs = function["inputs"]
        unpacked = tmp_path / function["name"]
        for entry in inputs["code"]["archive"]["files"]:
            target = unpacked / entry
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source_of(entry), target)
        module = inputs["handler"].rsplit(".", 1)[0]
        env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "POWERTOOLS_TRACE_DISABLED": "1",
               **{k: str(v) for k, v in inputs["environment"]["variables"].items()}}
        # -P: the script's directory is not put first on sys.path; the archive root is the only code there.
        # Pulumi is deploy-time only: a handler (or a library runtime module) that imports it fails here.
        script = (f"import sys; sys.path.insert(0, {str(unpacked)!r}); import importlib; "
                  f"importlib.import_module({module!r}); "
                  "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'system', "
                  "'tools', 'lambdas') or m in ('components.core', 'components.platform')); "
                  "assert not loaded, f'deploy-time modules imported at runtime: {loaded}'")
        running[function["name"]] = subprocess.Popen([sys.executable, "-P", "-c", script], cwd=unpacked, env=env,
                                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    failures = {}
    for name, process in running.items():
        _, stderr = process.communicate(timeout=120)
        if process.returncode != 0:
            failures[name] = stderr.strip().splitlines()[-1]
    assert failures == {}
