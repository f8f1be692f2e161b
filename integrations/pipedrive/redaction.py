"""Keep secrets out of anything the client raises and a sync stores or logs."""

REDACTED = "[redacted]"


def redact(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
