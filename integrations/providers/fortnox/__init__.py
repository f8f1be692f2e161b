"""Fortnox provider (accounting): OAuth (authorization code and service accounts), token refresh
under a row lock, a paced API client, SIE reading, and a Fortnox stand-in (``sandbox``)."""
