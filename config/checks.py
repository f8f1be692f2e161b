"""Deploy checks (`manage.py check --deploy`) for settings Django itself cannot judge."""

import base64
import binascii

from django.conf import settings
from django.core.checks import Tags, Warning, register

EXAMPLE_ENV = settings.BASE_DIR / ".env.example"


def example_fernet_keys() -> set[str]:
    """The placeholder keys in .env.example: copied verbatim, they protect nothing."""
    try:
        lines = EXAMPLE_ENV.read_text().splitlines()
    except OSError:
        return set()
    values = [line.partition("=")[2] for line in lines if line.startswith("FERNET_KEYS=")]
    return {key.strip() for value in values for key in value.split(",") if key.strip()}


def is_fernet_key(key: str) -> bool:
    """A key as Fernet.generate_key() makes it: 32 random bytes, url-safe base64."""
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
    except (binascii.Error, ValueError):
        return False


@register(Tags.security, deploy=True)
def check_fernet_keys(app_configs, **kwargs):
    # Only under --deploy: development and the tests may use any string as a key.
    examples = example_fernet_keys()
    problems = []
    for position, key in enumerate(settings.FERNET_KEYS, start=1):
        if key in examples:
            problems.append(f"key {position} is the placeholder from .env.example")
        elif not is_fernet_key(key):
            problems.append(f"key {position} is not a generated Fernet key (32 url-safe base64 bytes)")
    if not problems:
        return []
    return [
        Warning(
            f"FERNET_KEYS: {'; '.join(problems)}. Stored API tokens are only as safe as this key.",
            hint="Generate each key with `python -c 'from cryptography.fernet import Fernet; "
            'print(Fernet.generate_key().decode())\'` (see "Rotating encryption keys" in the README).',
            id="dealflow.W001",
        )
    ]
