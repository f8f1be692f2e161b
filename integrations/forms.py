"""The integration form: the Integration's own fields plus the fields its provider declares for
its settings and credentials (Provider.form_fields), stored in `settings` and `credentials`."""

from functools import cache

from django import forms
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

from integrations.fields import is_undecryptable
from integrations.models import Integration
from integrations.providers.registry import get_provider
from integrations.services.sync_state import clear_attention

MODEL_FIELDS = ["provider", "is_enabled", "sync_interval_minutes"]


class IntegrationForm(forms.ModelForm):
    """Credentials are write-only: never rendered from the database, blank on edit keeps them.

    What was typed is shown again when another field has an error (render_value with bound data
    only: stored credentials are never in `initial`), so the next save does not lose it.
    Use form_for(provider_key): this base class has no provider fields.
    """

    provider_key = ""

    class Meta:
        model = Integration
        fields = MODEL_FIELDS
        labels = {"is_enabled": "Enabled"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        provider = self.provider
        for name in provider.settings_fields:
            self.initial.setdefault(name, self.instance.settings.get(name, ""))
        for name in provider.credential_fields:
            self.initial.pop(name, None)
            if self.instance.pk and name in self.fields:
                self.fields[name].help_text = (
                    f"Stored: {self.instance.token_hint}. Leave blank to keep it; paste a new one to replace it. "
                    f"Changing the {self._destination_labels()} needs it again."
                )
        if "provider" in self.fields:  # the fields below belong to this provider
            self.fields["provider"].choices = [(provider.key, provider.label)]

    @property
    def provider(self):
        return get_provider(self.provider_key)

    @method_decorator(sensitive_variables())
    def clean(self):
        cleaned = super().clean()
        provider = self.provider
        for name, message in provider.clean_form(cleaned).items():
            self.add_error(name, message)
        for name in provider.credential_fields:
            if name in self.fields and not cleaned.get(name) and name not in self.errors:
                self._keep_stored(name)
        if self._destination_changed(cleaned) and not any(self._typed(name) for name in provider.credential_fields):
            self.add_error(
                provider.credential_fields[0],
                f"You changed where the token is sent (the {self._destination_labels()}): paste the token again "
                "to confirm.",
            )
        return cleaned

    def _keep_stored(self, name: str) -> None:
        stored = self.instance.credentials if self.instance.pk else {}
        if is_undecryptable(stored):
            self.add_error(name, "The stored token cannot be decrypted with the current FERNET_KEYS; paste it again.")
        elif stored.get(name):
            self.cleaned_data[name] = stored[name]
        else:
            self.add_error(name, f"Paste the {self.provider.label} {self.fields[name].label} for this company.")

    def _destination_labels(self) -> str:
        return " or the ".join(str(self.fields[name].label) for name in self.provider.credential_destination_fields)

    def _typed(self, name: str) -> bool:
        return bool(self.data.get(self.add_prefix(name), "").strip())

    def _destination_changed(self, cleaned) -> bool:
        if not self.instance.pk:
            return False
        return any(
            name in cleaned and cleaned[name] != self.instance.settings.get(name, "")
            for name in self.provider.credential_destination_fields
        )

    def _post_clean(self):
        super()._post_clean()
        provider, cleaned = self.provider, self.cleaned_data
        self.instance.provider = provider.key
        settings = {name: cleaned[name] for name in provider.settings_fields if name in cleaned}
        self.instance.settings = {**self.instance.settings, **settings}
        kept = {} if is_undecryptable(self.instance.credentials) else self.instance.credentials
        typed = {name: cleaned[name] for name in provider.credential_fields if cleaned.get(name)}
        self.instance.credentials = {**kept, **typed}

    def save(self, commit=True):
        """Saving changed settings or credentials clears "needs attention": the dispatcher queues the
        integration again (after the admin's save_model with commit=False, via save_m2m)."""
        instance = super().save(commit)
        if self.instance.pk and self._connection_changed():
            if commit:
                clear_attention(instance.pk)
            else:
                save_m2m = self.save_m2m

                def save_m2m_and_clear():
                    save_m2m()
                    clear_attention(instance.pk)

                self.save_m2m = save_m2m_and_clear
        return instance

    def _connection_changed(self) -> bool:
        provider = self.provider
        return any(name in self.changed_data for name in provider.settings_fields) or any(
            self._typed(name) for name in provider.credential_fields
        )

    def has_changed(self):
        # An inline with only the (never rendered) token typed in still counts as changed.
        return super().has_changed() or any(self._typed(name) for name in self.provider.credential_fields)


@cache
def form_for(provider_key: str) -> type[IntegrationForm]:
    """IntegrationForm with the provider's fields declared, so the admin can list them by name."""
    fields = get_provider(provider_key).form_fields()
    attrs = {"provider_key": provider_key, **fields}
    return type(IntegrationForm)(f"{provider_key.title()}IntegrationForm", (IntegrationForm,), attrs)
