"""Capture: Debezium connector configs, Kafka Connect and the captured tables."""
