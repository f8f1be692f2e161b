from django import forms

from integrations.domain import normalise_company_domain, validate_company_domain
from integrations.models import Integration


class IntegrationForm(forms.ModelForm):
    """The API token is write-only: never rendered back, blank on edit keeps it."""

    api_token = forms.CharField(
        label="API token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.pop("api_token", None)
        if self.instance.pk:
            self.fields["api_token"].help_text = (
                f"Stored: {self.instance.token_hint}. Leave blank to keep it; paste a new "
                "token to replace it."
            )
        else:
            self.fields["api_token"].help_text = (
                "Pipedrive → Personal preferences → API. Stored encrypted and never shown again."
            )

    def clean_company_domain(self):
        domain = normalise_company_domain(self.cleaned_data.get("company_domain", ""))
        validate_company_domain(domain)
        return domain

    def clean_api_token(self):
        token = self.cleaned_data.get("api_token", "")
        if token:
            return token
        if self.instance.pk and self.instance.token_is_readable:
            return self.instance.api_token
        if self.instance.pk and self.instance.api_token:
            raise forms.ValidationError(
                "The stored token cannot be decrypted with the current FERNET_KEYS; paste it again."
            )
        raise forms.ValidationError("Paste the Pipedrive API token for this company.")

    def has_changed(self):
        # An inline with only the (never rendered) token typed in still counts as changed.
        return super().has_changed() or bool(self.data.get(self.add_prefix("api_token")))
