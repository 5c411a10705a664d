"""Business rules as plain functions. Services own the transaction; nothing below commits."""
