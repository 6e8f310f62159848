"""The local stack: broker, Kafka Connect, databases and Redis on 127.0.0.1."""
