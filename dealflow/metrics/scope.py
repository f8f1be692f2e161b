"""Which deals a metrics computation reads: the CRM integrations of some companies, and their stages
as the board maps them (dealflow.selectors.stage_map: one statement whatever the number of deals)."""

from dataclasses import dataclass

from dealflow.models import Deal
from dealflow.selectors import StageMap, crm_integrations, stage_map


@dataclass(frozen=True)
class Scope:
    companies: list
    company_of: dict[int, int]  # integration id -> company id
    stages: StageMap

    @classmethod
    def of(cls, companies) -> "Scope":
        companies = list(companies)
        company_of = dict(crm_integrations(companies).values_list("id", "company_id"))
        return cls(companies=companies, company_of=company_of, stages=stage_map(companies))

    @property
    def integration_ids(self) -> set[int]:
        return set(self.company_of)

    def integrations_of(self, company) -> set[int]:
        return {integration for integration, owner in self.company_of.items() if owner == company.pk}

    def deals(self):
        return Deal.objects.filter(integration_id__in=list(self.company_of))


def rows_of(rows, integration_ids: set[int]):
    """The grouped rows (dicts with an integration_id) of some integrations."""
    return (row for row in rows if row["integration_id"] in integration_ids)
