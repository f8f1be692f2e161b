from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Logos are shown (and served) only when they are one of these images.
LOGO_CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}


def logo_content_type(name: str | None) -> str | None:
    """The content type of a logo file by its name, or None when it is not an image we show."""
    return LOGO_CONTENT_TYPES.get(PurePath(name).suffix.lower()) if name else None


currency_code_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 code in capitals, such as SEK or EUR.")
)


# First path segments under /dealflow/ that are pages, not companies (dealflow/urls.py): a company
# with one of these slugs could never open its board.
RESERVED_SLUGS = frozenset({"overview", "metrics", "column"})


def validate_slug_not_reserved(value: str) -> None:
    if value.lower() in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is the name of a page; choose another slug."), code="reserved_slug", params={"slug": value}
        )


class PortfolioCompanyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def visible_to(self, user):
        """Companies whose board `user` may see: all for staff and view-all users."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff or user.has_perm("dealflow.view_all_companies"):
            return self
        # An editor may see what they may change; distinct: a user can be both viewer and editor.
        return self.filter(models.Q(viewers=user) | models.Q(editors=user)).distinct()

    def editable_by(self, user):
        """Companies whose deals `user` may change in the CRM from the board: staff and editors."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(editors=user)


class PortfolioCompany(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True, validators=[validate_slug_not_reserved])
    reporting_currency = models.CharField(
        _("reporting currency"), max_length=3, default="SEK", validators=[currency_code_validator]
    )
    website = models.URLField(_("website"), blank=True)
    # A FileField, not ImageField: no Pillow dependency just to store a logo.
    logo = models.FileField(_("logo"), upload_to="logos/", blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    viewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="visible_companies",
        verbose_name=_("viewers"),
        help_text=_("Users who may see this company's board without the view-all permission."),
    )
    editors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="editable_companies",
        verbose_name=_("editors"),
        help_text=_(
            "Users who may see this company's board and change its deals in the CRM from it (stage, won,"
            " lost, value, new deals). Staff always may."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PortfolioCompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("portfolio company")
        verbose_name_plural = _("portfolio companies")

    def __str__(self):
        return self.name

    @property
    def logo_content_type(self) -> str | None:
        return logo_content_type(self.logo.name)
