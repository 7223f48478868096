"""The one HTTP app of ``loglens run``: metrics, health, status, insights, push and ingest routes."""
