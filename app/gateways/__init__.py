"""Thin adapters to outside services; the only modules that import their client libraries."""
