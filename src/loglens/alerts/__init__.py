"""loglens.alerts."""
