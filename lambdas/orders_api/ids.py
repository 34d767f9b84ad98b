"""Identifier formats, kept apart from the pydantic models so read paths never import pydantic."""

from __future__ import annotations

import re

CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ORDER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
