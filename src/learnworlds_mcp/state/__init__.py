"""Shared state: one interface per kind of shared state, in-process and Redis implementations."""
