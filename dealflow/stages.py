"""The six standard board columns and the targets a company stage can map to."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StandardStage(models.TextChoices):
    LEAD = "lead", _("Lead")
    QUALIFIED = "qualified", _("Qualified")
    MEETING = "meeting", _("Meeting")
    DUE_DILIGENCE = "due_diligence", _("Due Diligence")
    PROPOSAL = "proposal", _("Proposal")
    CLOSED_WON = "closed_won", _("Closed Won")


class MappingTarget(models.TextChoices):
    LEAD = StandardStage.LEAD.value, StandardStage.LEAD.label
    QUALIFIED = StandardStage.QUALIFIED.value, StandardStage.QUALIFIED.label
    MEETING = StandardStage.MEETING.value, StandardStage.MEETING.label
    DUE_DILIGENCE = StandardStage.DUE_DILIGENCE.value, StandardStage.DUE_DILIGENCE.label
    PROPOSAL = StandardStage.PROPOSAL.value, StandardStage.PROPOSAL.label
    CLOSED_WON = StandardStage.CLOSED_WON.value, StandardStage.CLOSED_WON.label
    EXCLUDED = "excluded", _("Excluded (hidden from the board)")
    UNMAPPED = "unmapped", _("Unmapped (staff to choose)")
