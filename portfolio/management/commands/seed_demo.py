from django.core.management.base import BaseCommand

from portfolio.services import ensure_demo_companies, ensure_demo_login


class Command(BaseCommand):
    help = "Create demo portfolio companies and a demo login (its password is printed once)."

    def handle(self, *args, **options):
        companies = ensure_demo_companies()
        self.stdout.write(f"Demo companies: {', '.join(c.name for c in companies)}")
        password = ensure_demo_login()
        if password:
            self.stdout.write(self.style.SUCCESS(f"Demo login: demo / {password}  (shown once)"))
        else:
            self.stdout.write(
                "Demo login: demo (password as printed on the first run; "
                "reset with `python manage.py changepassword demo`)"
            )
