"""Webhooks in: the receiver, the webhook endpoints (URL key, credentials, registration) and the
processing of stored events through the one write path (integrations/sync/apply.py)."""
