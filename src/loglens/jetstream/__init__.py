"""NATS JetStream between agents and processors: the settings, the batch messages and the client link."""
