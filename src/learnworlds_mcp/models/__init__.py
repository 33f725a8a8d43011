"""Pydantic models of what the tools return, one module per resource."""
