"""The cost model: monthly estimates per resource and service from the synth output and the workload."""
