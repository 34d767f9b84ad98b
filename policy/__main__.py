"""The CrossGuard policy pack: pulumi preview --policy-pack policy (see README).

Building PolicyPack starts the analyzer server and blocks, so it happens only here; the rules and
their adapters are importable (policy/rules.py, policy/pack.py) for tests and tools.policy.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pack import policies
from pulumi_policy import PolicyPack

PolicyPack(name="serverless-defaults", policies=policies())
