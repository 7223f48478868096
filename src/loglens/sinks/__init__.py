"""Where aggregate state goes: the Prometheus exposition, the archive, alert notifiers."""
