"""Decode: Kafka records carrying Debezium change events into ChangeEvents."""
