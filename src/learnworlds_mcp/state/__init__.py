"""One interface per kind of shared state, in-process and Redis implementations."""
