"""Where lines come from: files read whole or followed, HTTP ingest, NATS. One module per source."""
