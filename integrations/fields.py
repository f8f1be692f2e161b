"""Encrypted fields (text, and a JSON object) that follow FERNET_KEYS changes and survive bad ciphertext."""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.encoding import force_bytes, force_str
from fernet_fields import EncryptedTextField
from fernet_fields.hkdf import derive_fernet_key


class UndecryptableSecret(str):
    """Loaded in place of a value that no key in FERNET_KEYS decrypts.

    Raising in `from_db_value` would break every page that lists integrations; this
    marker lets the admin and the sync say which integration needs its token again.
    """

    undecryptable = True

    def __new__(cls):
        return super().__new__(cls, "")


@lru_cache(maxsize=8)
def fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(derive_fernet_key(key)) for key in keys])


class SecretTextField(EncryptedTextField):
    """EncryptedTextField reading FERNET_KEYS on each use (the parent caches them once)."""

    @property
    def fernet(self) -> MultiFernet:
        return fernet_for(tuple(settings.FERNET_KEYS))

    def from_db_value(self, value, expression, connection, *args):
        if value is None:
            return None
        try:
            return force_str(self.fernet.decrypt(bytes(value)))
        except InvalidToken:
            return UndecryptableSecret()

    def get_db_prep_save(self, value, connection):
        if isinstance(value, UndecryptableSecret):
            raise ValueError("Refusing to save an undecryptable secret; enter the value again.")
        if value is None:
            return None
        return connection.Database.Binary(self.fernet.encrypt(force_bytes(value)))


class UndecryptableSecrets(dict):
    """An empty dict loaded in place of a JSON object that no key in FERNET_KEYS decrypts."""

    undecryptable = True


class SecretJSONField(SecretTextField):
    """A JSON object, encrypted as a whole (credentials: an API token, or OAuth tokens and expiry)."""

    def from_db_value(self, value, expression, connection, *args):
        text = super().from_db_value(value, expression, connection, *args)
        if text is None:
            return None
        if is_undecryptable(text):
            return UndecryptableSecrets()
        return json.loads(text)

    def get_db_prep_save(self, value, connection):
        if isinstance(value, UndecryptableSecrets):
            raise ValueError("Refusing to save undecryptable secrets; enter them again.")
        return super().get_db_prep_save(None if value is None else json.dumps(value, sort_keys=True), connection)


def is_undecryptable(value) -> bool:
    return isinstance(value, UndecryptableSecret | UndecryptableSecrets)
