"""Aggregate state built from batches: counters, capped label values, per-second windows, insights."""
