"""Sinks: where folded batches go, and the runner that counts and retries them."""
