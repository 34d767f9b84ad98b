"""Offline tools: synth, plan and friends (``python -m tools.<name>``)."""
