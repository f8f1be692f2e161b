"""Write a git-ignored `.env` with freshly generated keys for local use.

Run by the README's run and test commands (`python -m config.local_env`). It never
overwrites an existing file, so keys that encrypted stored tokens are kept.
"""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent


def local_env_text() -> str:
    return (
        "# Written by `python -m config.local_env` for local use. Never commit this file.\n"
        "DEBUG=True\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"FERNET_KEYS={Fernet.generate_key().decode()}\n"
        "# The demo's Pipedrive sandbox is plain http on loopback; production allows none of it.\n"
        "PIPEDRIVE_ALLOWED_BASE_URLS=http://127.0.0.1:*\n"
    )


def ensure_local_env(path: Path = BASE_DIR / ".env") -> bool:
    """Create `path` if missing; return True when it was created."""
    if path.exists():
        return False
    path.write_text(local_env_text())
    path.chmod(0o600)
    return True


if __name__ == "__main__":
    if ensure_local_env():
        print("Wrote .env with fresh SECRET_KEY and FERNET_KEYS (git-ignored).", file=sys.stderr)
