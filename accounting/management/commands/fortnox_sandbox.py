"""`manage.py fortnox_sandbox`: serve the Fortnox stand-in on 127.0.0.1 (OAuth and /3/)."""

from django.core.management.base import BaseCommand, CommandError

from integrations.providers.fortnox.sandbox import CLIENT_ID, FortnoxSandbox
from integrations.providers.fortnox.sandbox.server import make


class Command(BaseCommand):
    help = (
        "Serve the Fortnox sandbox (authorize, token, /3/ resources, SIE export) on 127.0.0.1 with two"
        " Swedish companies: TenantId 100001 (Nordljus AB) and 100002 (Fjällvind Robotics AB). Its client id"
        f" is {CLIENT_ID}; the client secret is in integrations/providers/fortnox/sandbox/core.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8766)

    def handle(self, *args, port, **options):
        sandbox = FortnoxSandbox()
        try:
            server = make(sandbox, port)
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {exc}") from None
        self.stdout.write(f"Fortnox sandbox at http://127.0.0.1:{server.server_address[1]}")
        for tenant, company in sandbox.companies.items():
            self.stdout.write(f"  TenantId {tenant}: {company.name}, {len(company.invoices)} invoices")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
