"""``loglens watch``: the monitor (data), the Textual app and the plain-text report that show it."""
