"""`manage.py check --deploy` names FERNET_KEYS that are not generated Fernet keys; plain `check` does not."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.foundation.test_settings_and_health import BASE_DIR


def check(fernet_keys: str, *, deploy: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FERNET_KEYS", "DEBUG"}}
    env.update(
        {
            "ENV_FILE": "/nonexistent/.env",
            "DEBUG": "False",
            "SECRET_KEY": "a-long-random-production-secret-key-" + "q7Zx" * 10,
            "FERNET_KEYS": fernet_keys,
            "ALLOWED_HOSTS": "dealflow.example.com",
        }
    )
    command = [sys.executable, "manage.py", "check", "--fail-level", "WARNING"] + (["--deploy"] if deploy else [])
    return subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def example_line() -> str:
    lines = (BASE_DIR / ".env.example").read_text().splitlines()
    return next(line for line in lines if line.startswith("FERNET_KEYS="))


def test_the_example_placeholders_are_flagged():
    result = check(example_line().partition("=")[2])
    assert result.returncode != 0
    assert "dealflow.W001" in result.stderr
    assert "FERNET_KEYS: key 1 is the placeholder from .env.example" in result.stderr


@pytest.mark.parametrize(
    "bad_key",
    [
        "production-fernet-key",
        "k1",
        Fernet.generate_key().decode()[:-4],  # truncated
        "x" * 44,  # the right length, not 32 bytes of base64
    ],
)
def test_a_key_that_was_not_generated_is_flagged(bad_key):
    result = check(f"{Fernet.generate_key().decode()},{bad_key}")
    assert result.returncode != 0
    assert "FERNET_KEYS: key 2 is not a generated Fernet key" in result.stderr
    assert bad_key not in result.stderr  # a key is a secret: never echoed


def test_generated_keys_pass():
    result = check(f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_accepts_any_key():
    result = check("k1", deploy=False)
    assert result.returncode == 0, result.stdout + result.stderr
