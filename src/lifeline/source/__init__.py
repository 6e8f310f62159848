"""Source: reading Kafka topics into the dataflow, a batch at a time."""
