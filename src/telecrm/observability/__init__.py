"""Metrics (/metrics), structured logs with a request or task id, and readiness."""
