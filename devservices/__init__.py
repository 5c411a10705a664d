"""Local stand-ins for outside services, for development and tests; not used in production."""
