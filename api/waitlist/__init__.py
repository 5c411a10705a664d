"""Waiting lists of full times."""
