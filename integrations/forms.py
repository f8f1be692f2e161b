from django import forms
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

from integrations.models import Integration
from integrations.providers.pipedrive.connection_rules import (
    normalise_company_domain,
    validate_api_token,
    validate_base_url,
    validate_company_domain,
)

# Where the token goes: changing either means typing the token again, so a user who may edit the
# integration but never sees its token cannot send the stored one to a server of their choosing.
TOKEN_DESTINATION_FIELDS = ("company_domain", "api_base_url")


class IntegrationForm(forms.ModelForm):
    """The API token is write-only: never rendered from the database, blank on edit keeps it.

    What was typed is shown again when another field has an error (render_value with bound data
    only: the stored token is never in `initial`), so the next save does not lose it.
    """

    api_token = forms.CharField(
        label="API token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Integration
        fields = [
            "provider",
            "company_domain",
            "api_token",
            "api_base_url",
            "is_enabled",
            "sync_interval_minutes",
        ]
        labels = {"api_base_url": "API base URL", "is_enabled": "Enabled"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.pop("api_token", None)
        if self.instance.pk:
            self.fields["api_token"].help_text = (
                f"Stored: {self.instance.token_hint}. Leave blank to keep it; paste a new token to "
                "replace it. Changing the domain or the API base URL needs the token again."
            )
        else:
            self.fields["api_token"].help_text = (
                "Pipedrive → Personal preferences → API. Stored encrypted and never shown again."
            )

    def clean_company_domain(self):
        domain = normalise_company_domain(self.cleaned_data.get("company_domain", ""))
        validate_company_domain(domain)
        return domain

    @method_decorator(sensitive_variables())
    def clean_api_token(self):
        token = self.cleaned_data.get("api_token", "")
        if token:
            validate_api_token(token)
            return token
        if self.instance.pk and self.instance.token_is_readable:
            return self.instance.api_token
        if self.instance.pk and self.instance.api_token:
            raise forms.ValidationError(
                "The stored token cannot be decrypted with the current FERNET_KEYS; paste it again."
            )
        raise forms.ValidationError("Paste the Pipedrive API token for this company.")

    @method_decorator(sensitive_variables())
    def clean(self):
        cleaned = super().clean()
        domain = cleaned.get("company_domain")
        if domain and "api_base_url" in cleaned:
            try:
                validate_base_url(
                    cleaned["api_base_url"] or f"https://{domain}.pipedrive.com", company_domain=domain
                )
            except forms.ValidationError as error:
                self.add_error("api_base_url", error)
        if self._destination_changed(cleaned) and not self.data.get(self.add_prefix("api_token"), "").strip():
            self.add_error(
                "api_token",
                "You changed where the token is sent (the domain or the API base URL): paste the token "
                "again to confirm.",
            )
        return cleaned

    def _destination_changed(self, cleaned) -> bool:
        if not self.instance.pk:
            return False
        return any(
            name in cleaned and cleaned[name] != getattr(self.instance, name) for name in TOKEN_DESTINATION_FIELDS
        )

    def has_changed(self):
        # An inline with only the (never rendered) token typed in still counts as changed.
        return super().has_changed() or bool(self.data.get(self.add_prefix("api_token")))
