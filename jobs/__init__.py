"""RQ job functions and the worker entry point. Thin: each calls one service."""
