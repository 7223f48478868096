"""loglens.state."""
