"""Join: stateful per-key logic that turns change events into current state."""
