"""``loglens stack``: Prometheus and Alertmanager for loglens from local binaries, with deploy/'s configs."""
