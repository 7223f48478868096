"""loglens.ui."""
