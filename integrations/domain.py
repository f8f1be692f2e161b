"""Normalise and validate Pipedrive company domains ("coeo" for coeo.pipedrive.com)."""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

DOMAIN_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def normalise_company_domain(value: str) -> str:
    """Turn "https://Coeo.pipedrive.com/deals" or "coeo.pipedrive.com" into "coeo"."""
    text = (value or "").strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.split("/", 1)[0]
    if text.endswith(".pipedrive.com"):
        text = text[: -len(".pipedrive.com")]
    return text


def validate_company_domain(value: str) -> None:
    if not DOMAIN_PATTERN.match(value or ""):
        raise ValidationError(
            "Enter the Pipedrive company domain: lowercase letters, digits and hyphens, "
            "such as “coeo” for coeo.pipedrive.com (a pasted https://coeo.pipedrive.com/ "
            "is fine too).",
            code="invalid_domain",
        )
