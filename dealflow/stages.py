"""The six standard board columns and the targets a company stage can map to."""

from django.db import models


class StandardStage(models.TextChoices):
    LEAD = "lead", "Lead"
    QUALIFIED = "qualified", "Qualified"
    MEETING = "meeting", "Meeting"
    DUE_DILIGENCE = "due_diligence", "Due Diligence"
    PROPOSAL = "proposal", "Proposal"
    CLOSED_WON = "closed_won", "Closed Won"


class MappingTarget(models.TextChoices):
    LEAD = StandardStage.LEAD.value, StandardStage.LEAD.label
    QUALIFIED = StandardStage.QUALIFIED.value, StandardStage.QUALIFIED.label
    MEETING = StandardStage.MEETING.value, StandardStage.MEETING.label
    DUE_DILIGENCE = StandardStage.DUE_DILIGENCE.value, StandardStage.DUE_DILIGENCE.label
    PROPOSAL = StandardStage.PROPOSAL.value, StandardStage.PROPOSAL.label
    CLOSED_WON = StandardStage.CLOSED_WON.value, StandardStage.CLOSED_WON.label
    EXCLUDED = "excluded", "Excluded (hidden from the board)"
    UNMAPPED = "unmapped", "Unmapped (staff to choose)"
