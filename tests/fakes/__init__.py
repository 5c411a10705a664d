"""Local stand-ins for outside services, spoken to by the real client libraries."""
