"""loglens.ui.console."""
