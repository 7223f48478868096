"""loglens.ui.web."""
