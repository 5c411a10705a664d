"""The worker and scheduler entry points and their CLI commands.

Job bodies live in ``app.job_registry`` under stable names. The modules named after areas
(``jobs.payments`` ...) only keep the import paths an older release queued in Redis
resolving to the same work; new jobs never use them.
"""
