"""loglens.push."""
