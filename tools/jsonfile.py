"""A JSON file a user hands a tool, read with one clear line for each way it can be wrong."""

from __future__ import annotations

import json
from typing import Any


def load_json(path: str, expected: str) -> Any:
    """The parsed file, or ValueError naming the path and what was ``expected`` of it."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not JSON ({error.msg} at line {error.lineno}); expected {expected}") from None
