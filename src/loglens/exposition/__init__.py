"""Prometheus collectors: read-only views of the runtime state, read at scrape time."""
