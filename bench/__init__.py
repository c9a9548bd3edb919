"""Benchmarks: every route's cost beside the database's own limit (pgbench) at growing data sizes."""
