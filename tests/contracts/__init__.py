"""Contract tests: one class of behaviour, run against every implementation of a port."""
