"""`make run`: the whole app on one machine with demo data."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create demo data and serve the app on http://127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, port, **options):
        call_command("seed_demo", stdout=self.stdout)
        self.stdout.write(f"Admin: http://127.0.0.1:{port}/admin/")
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
