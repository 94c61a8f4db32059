"""Accounts, memberships, passwords, signed tokens, API tokens, access policy and the audit log.

Modules (import them directly; this package imports nothing so that importing it stays cheap):
``settings`` (AuthSettings), ``errors`` (AuthError and its nouns), ``models`` (tables),
``passwords`` (Argon2id), ``tokens`` (access and download tokens, signed documents: the only
python-jose import in the project), ``users`` (accounts, sign-in with lockout, memberships),
``api_tokens`` (long-lived tokens stored as SHA-256), ``audit`` (hash-chained log, queries,
CSV export, anomalies), ``ratelimit`` (in-process limiter), ``policy`` / ``grants`` /
``applications`` / ``inbox`` (who may do what, approved access).
"""
