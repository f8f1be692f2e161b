"""A company's books as read from its accounting provider (Fortnox): written only by
accounting/services/sync.py, in one transaction per run, read by accounting/selectors.py."""

from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 18, "decimal_places": 2}


class CompanyInformation(models.Model):
    company = models.OneToOneField(
        "portfolio.PortfolioCompany", on_delete=models.CASCADE, related_name="accounting_information"
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    organisation_number = models.CharField(_("organisation number"), max_length=40, blank=True)
    # The currency the books are kept in (Swedish companies: SEK).
    currency = models.CharField(_("currency"), max_length=3, default="SEK")
    synced_at = models.DateTimeField(_("synced at"))

    def __str__(self):
        return self.name or str(self.company)


class FinancialYear(models.Model):
    company = models.ForeignKey("portfolio.PortfolioCompany", on_delete=models.CASCADE, related_name="+")
    remote_id = models.PositiveIntegerField()
    from_date = models.DateField()
    to_date = models.DateField()

    class Meta:
        ordering = ["company", "from_date"]
        constraints = [models.UniqueConstraint(fields=["company", "remote_id"], name="one_financial_year_per_id")]

    def __str__(self):
        return f"{self.from_date}–{self.to_date}"


class Account(models.Model):
    company = models.ForeignKey("portfolio.PortfolioCompany", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["company", "number"]
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="one_account_per_number")]

    def __str__(self):
        return f"{self.number} {self.description}"


class Invoice(models.Model):
    """A customer invoice; amounts in the invoice's currency, `currency_rate` SEK per unit."""

    company = models.ForeignKey("portfolio.PortfolioCompany", on_delete=models.CASCADE, related_name="+")
    document_number = models.PositiveIntegerField()
    customer_number = models.CharField(max_length=50, blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    invoice_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    total = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    vat = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    currency_rate = models.DecimalField(max_digits=14, decimal_places=6, default=1)
    cancelled = models.BooleanField(default=False)
    credit = models.BooleanField(default=False)
    booked = models.BooleanField(default=False)
    balance = models.DecimalField(**MONEY)
    last_modified = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["company", "-invoice_date", "-document_number"]
        constraints = [models.UniqueConstraint(fields=["company", "document_number"], name="one_invoice_per_number")]
        indexes = [models.Index(fields=["company", "invoice_date"])]

    def __str__(self):
        return f"Invoice {self.document_number}"


class AccountBalance(models.Model):
    """One account's figure for one month, signed as in SIE (debit positive): for result accounts
    (3000–8999) the month's movement, for balance accounts (1000–2999) the balance at month end."""

    company = models.ForeignKey("portfolio.PortfolioCompany", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the month.")
    account = models.PositiveIntegerField()
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["company", "month", "account"]
        constraints = [
            models.UniqueConstraint(fields=["company", "month", "account"], name="one_balance_per_account_and_month")
        ]

    def __str__(self):
        return f"{self.account} {self.month:%Y-%m}: {self.amount}"
