"""`manage.py rebuild_metric_totals`: remake the metrics' day and month totals (dealflow_dealdaytotal,
dealflow_dealmonthtotal) and open deal totals (dealflow_dealopentotal) and the triggers that keep
them, from the deals.

The triggers keep the table on every write to a deal, so this is for repair: a database restored
from elsewhere, a TIME_ZONE change (days are the studio's calendar days), or triggers dropped by
hand (`migrate` already makes again those a table rebuild dropped: dealflow/triggers.py). `--check`
only compares the table with a GROUP BY over the deals and looks for the triggers. Both do the same
for the deals' planned activity flags (Deal.has_planned_activity: dealflow/metrics/activity_flags.py),
and look for the overview marks' and stage stays' triggers (made again, with what they keep, when
missing).
"""

from django.core.management.base import BaseCommand, CommandError

from dealflow import triggers
from dealflow.metrics import activity_flags, month_totals, open_totals
from dealflow.metrics.day_totals import grouped_deals, rebuild, table_rows

# The trigger sets the metrics read (dealflow/triggers.py).
METRIC_TRIGGERS = ("day_totals", "month_totals", "open_totals", "activity_flags", "overview_marks", "stage_stays")


class Command(BaseCommand):
    help = "Recompute the metrics' day totals (dealflow_dealdaytotal) and remake their triggers."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only compare the table with the deals")

    def handle(self, *args, check, **options):
        if check:
            differing = set(table_rows().items()) ^ set(grouped_deals().items())
            if differing:
                raise CommandError(f"The metric day totals differ from the deals in {len(differing)} rows.")
            self.stdout.write("The metric day totals equal a GROUP BY over the deals.")
            for name, totals in (("month totals", month_totals), ("open deal totals", open_totals)):
                differing = set(totals.table_rows().items()) ^ set(totals.grouped_deals().items())
                if differing:
                    raise CommandError(f"The {name} differ from the deals in {len(differing)} rows.")
                self.stdout.write(f"The {name} equal a GROUP BY over the deals.")
            self.check_planned_activity_flags()
            missing = [trigger_set.name for trigger_set in triggers.missing(METRIC_TRIGGERS)]
            if missing:
                raise CommandError(f"Triggers missing ({', '.join(missing)}): run rebuild_metric_totals.")
            return
        self.stdout.write(f"Rebuilt the metric day totals and their triggers: {rebuild()} rows.")
        self.stdout.write(f"Rebuilt the month totals and their triggers: {month_totals.rebuild()} rows.")
        self.stdout.write(f"Rebuilt the open deal totals and their triggers: {open_totals.rebuild()} rows.")
        wrong = activity_flags.rebuild()
        self.stdout.write(f"Remade the deals' planned activity flags and their triggers: {wrong} were wrong.")
        for name in triggers.ensure_triggers(METRIC_TRIGGERS):
            self.stdout.write(f"Made the missing triggers of {name} again.")

    def check_planned_activity_flags(self):
        """Deal.has_planned_activity (dealflow/metrics/activity_flags.py) against the activities."""
        differing = activity_flags.differing()
        if differing:
            raise CommandError(f"{len(differing)} deals' planned activity flags differ from their activities.")
        self.stdout.write("Every deal's planned activity flag equals its activities.")
