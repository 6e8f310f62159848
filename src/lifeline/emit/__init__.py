"""Emit: the Redis lookup cache, dead letters and (later) output topics."""
