"""loglens.generate."""
