"""loglens.anomaly."""
