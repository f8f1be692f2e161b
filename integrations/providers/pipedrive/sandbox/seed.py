"""Deterministic seed datasets for the sandbox: the same name, size and date give the same account.

Dates are relative to the day the account is built, so the demo never ages.
``coeo`` is a Swedish, Coeo-like account (SEK, negative stages, a second "Event" pipeline);
``acme`` an English one in EUR. Any size from a handful to 100,000 deals; persons and
organizations grow with the deals up to a cap so large datasets stay light.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .store import ACTIVITY_CONSTANTS, DealRow, Store, format_time


def seed_now(today: date | None = None) -> datetime:
    """Seeded records are dated up to the start of `today` (UTC), so the demo always looks like a
    live account and the same date gives the same data; later mutations get the real time."""
    return datetime.combine(today or datetime.now(UTC).date(), time(0, 0), tzinfo=UTC)


MAX_ORGANIZATIONS = 5000
# Activities are seeded for the first deals only, so that large datasets stay light.
MAX_DEALS_WITH_ACTIVITIES = 5000
ACTIVITY_TYPES = (
    ("call", "Intro call"),
    ("call", "Follow-up call"),
    ("meeting", "Demo meeting"),
    ("meeting", "Contract review"),
    ("email", "Send proposal"),
    ("task", "Check references"),
)


@dataclass(frozen=True)
class StageSpec:
    name: str
    probability: int
    rot_days: int | None = None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    company_id: int
    company_name: str
    country: str
    currency: str
    locale: str
    timezone: str
    users: tuple[str, ...]
    pipelines: tuple[tuple[str, tuple[StageSpec, ...]], ...]
    won_stages: tuple[str, ...]
    org_prefixes: tuple[str, ...]
    org_suffixes: tuple[str, ...]
    org_form: str
    streets: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    phone_prefix: str
    email_tld: str
    products: tuple[str, ...]
    lost_reasons: tuple[str, ...]
    source_options: tuple[str, ...]
    custom_field_names: tuple[str, str, str]
    default_deals: int
    max_value: int


COEO = DatasetSpec(
    name="coeo",
    company_id=7001,
    company_name="Coeo AB",
    country="SE",
    currency="SEK",
    locale="sv_SE",
    timezone="Europe/Stockholm",
    users=("Anna Lindqvist", "Erik Johansson", "Sara Nilsson"),
    pipelines=(
        (
            "Försäljning",
            (
                StageSpec("Lead - ännu ej kontaktade", 5),
                StageSpec("Prospekt - kontaktade", 10),
                StageSpec("Dialog/demo", 20, rot_days=14),
                StageSpec("Bokat möte", 30),
                StageSpec("Offert", 40),
                StageSpec("Offert lämnad", 50, rot_days=21),
                StageSpec("Förhandling", 70, rot_days=30),
                StageSpec("Nästan där", 85),
                StageSpec("OK verbal acceptans", 95),
                StageSpec("Genomfört", 100),
                StageSpec("Nej tack", 0),
                StageSpec("Inte nu", 0, rot_days=90),
                StageSpec("Fel typ av org", 0),
                StageSpec("Irrelevant", 0),
                StageSpec("Avvakta", 0, rot_days=60),
            ),
        ),
        (
            "Event",
            (
                StageSpec("Inbjuden", 10),
                StageSpec("Anmäld", 40),
                StageSpec("Deltog", 70),
                StageSpec("Uppföljning", 90, rot_days=7),
            ),
        ),
    ),
    won_stages=("Genomfört", "OK verbal acceptans", "Uppföljning"),
    org_prefixes=(
        "Nordisk",
        "Svea",
        "Göta",
        "Norrlands",
        "Väst",
        "Öst",
        "Skandia",
        "Fjäll",
        "Sjö",
        "Berg",
        "Dal",
        "Ljus",
        "Stads",
        "Kust",
        "Älv",
        "Mälar",
        "Åre",
        "Vätter",
    ),
    org_suffixes=(
        "bygg",
        "fastigheter",
        "energi",
        "logistik",
        "konsult",
        "vård",
        "media",
        "teknik",
        "data",
        "revision",
        "transport",
        "handel",
    ),
    org_form="AB",
    streets=(
        "Storgatan",
        "Drottninggatan",
        "Kungsgatan",
        "Sveavägen",
        "Vasagatan",
        "Järnvägsgatan",
        "Skolgatan",
        "Östra Hamngatan",
        "Södra vägen",
        "Åsögatan",
    ),
    cities=(
        ("Stockholm", "111"),
        ("Göteborg", "411"),
        ("Malmö", "211"),
        ("Uppsala", "753"),
        ("Umeå", "903"),
        ("Örebro", "702"),
        ("Linköping", "582"),
        ("Västerås", "722"),
    ),
    first_names=(
        "Anders",
        "Maria",
        "Johan",
        "Karin",
        "Lars",
        "Eva",
        "Per",
        "Lena",
        "Mikael",
        "Sofia",
        "Fredrik",
        "Emma",
        "Oskar",
        "Ingrid",
        "Björn",
        "Åsa",
    ),
    last_names=(
        "Andersson",
        "Johansson",
        "Karlsson",
        "Nilsson",
        "Eriksson",
        "Larsson",
        "Olsson",
        "Persson",
        "Svensson",
        "Gustafsson",
        "Pettersson",
        "Jönsson",
        "Lindberg",
        "Öberg",
    ),
    phone_prefix="+46 70",
    email_tld="se",
    products=("Licens", "Pilot", "Utbildning", "Konsultstöd", "Årsavtal"),
    lost_reasons=("För dyrt", "Valde konkurrent", "Ingen budget", "Fel tidpunkt"),
    source_options=("Webb", "Mässa", "Referens", "Kall kontakt"),
    custom_field_names=("Källa", "Antal licenser", "Avtalsstart"),
    default_deals=230,
    max_value=350_000,
)

ACME = DatasetSpec(
    name="acme",
    company_id=7002,
    company_name="Acme Ltd",
    country="IE",
    currency="EUR",
    locale="en_IE",
    timezone="Europe/Dublin",
    users=("Alice Walker", "Brian O'Neill"),
    pipelines=(
        (
            "Sales",
            (
                StageSpec("Lead In", 10),
                StageSpec("Contact Made", 20),
                StageSpec("Demo Scheduled", 40, rot_days=10),
                StageSpec("Proposal Made", 60),
                StageSpec("Negotiations Started", 80, rot_days=20),
                StageSpec("On Hold", 0),
                StageSpec("Not Interested", 0),
            ),
        ),
    ),
    won_stages=("Negotiations Started",),
    org_prefixes=("Atlantic", "Liffey", "Harbour", "Summit", "Granite", "Emerald", "Northern", "Bright"),
    org_suffixes=("Foods", "Systems", "Logistics", "Health", "Media", "Energy"),
    org_form="Ltd",
    streets=("Main Street", "High Street", "Church Road", "Station Road", "Mill Lane"),
    cities=(("Dublin", "D02"), ("Cork", "T12"), ("Galway", "H91"), ("Limerick", "V94")),
    first_names=("Aoife", "Conor", "Niamh", "Sean", "Ciara", "Liam", "Emma", "James"),
    last_names=("Murphy", "Kelly", "Byrne", "Ryan", "Walsh", "O'Brien", "Smith"),
    phone_prefix="+353 87",
    email_tld="ie",
    products=("Subscription", "Pilot", "Training", "Support plan"),
    lost_reasons=("Price", "Chose competitor", "No budget"),
    source_options=("Website", "Trade show", "Referral"),
    custom_field_names=("Lead source", "Seats", "Contract start"),
    default_deals=60,
    max_value=80_000,
)

DATASETS = {spec.name: spec for spec in (COEO, ACME)}

STANDARD_DEAL_FIELDS = (
    ("title", "Title", "varchar"),
    ("value", "Value", "monetary"),
    ("currency", "Currency", "varchar"),
    ("pipeline_id", "Pipeline", "enum"),
    ("stage_id", "Stage", "stage"),
    ("status", "Status", "status"),
    ("owner_id", "Owner", "user"),
    ("org_id", "Organization", "org"),
    ("person_id", "Contact person", "people"),
    ("expected_close_date", "Expected close date", "date"),
)


def field_hash(dataset: str, name: str) -> str:
    """A 40-character key like Pipedrive's custom field hashes, stable per dataset and name."""
    return hashlib.sha1(f"{dataset}:{name}".encode()).hexdigest()


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace("'", "")


def build_store(dataset: str = "coeo", deals: int | None = None, *, today: date | None = None) -> Store:
    try:
        spec = DATASETS[dataset]
    except KeyError:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {', '.join(DATASETS)}") from None
    count = spec.default_deals if deals is None else deals
    return _Builder(spec, count, now=seed_now(today)).build()


class _Builder:
    def __init__(self, spec: DatasetSpec, deals: int, *, now: datetime) -> None:
        self.spec = spec
        self.now = now
        self.deal_count = deals
        self.rng = random.Random(f"{spec.name}:{deals}")
        self.store = Store(
            company={"id": spec.company_id, "name": spec.company_name, "domain": spec.name, "country": spec.country},
            currency=spec.currency,
            last_stamp=now,
        )

    def build(self) -> Store:
        self._users()
        self._pipelines()
        self._deal_fields()
        org_count = max(8, min(self.deal_count // 3, MAX_ORGANIZATIONS))
        self._organizations(org_count)
        self._persons(org_count * 3 // 2)
        self._deals()
        self._activities()
        return self.store

    def _past(self, max_days: int) -> datetime:
        return self.now - timedelta(seconds=self.rng.randrange(max_days * 86400))

    def _between(self, start: datetime, end: datetime) -> datetime:
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=self.rng.randrange(span + 1))

    def _users(self) -> None:
        domain = f"{self.spec.name}.{self.spec.email_tld}"
        for user_id, name in enumerate(self.spec.users, start=1):
            first, last = name.split(" ", 1)
            self.store.users[user_id] = {
                "id": user_id,
                "name": name,
                "email": f"{_ascii(first)}.{_ascii(last)}@{domain}",
                "default_currency": self.spec.currency,
                "locale": self.spec.locale,
                "lang": 1,
                "phone": None,
                "activated": True,
                "last_login": format_time(self.now - timedelta(hours=8 * user_id)),
                "created": format_time(self.now - timedelta(days=900)),
                "modified": None,
                "has_created_company": user_id == 1,
                "access": [{"app": "sales", "admin": user_id == 1, "permission_set_id": f"perm-{user_id}"}],
                "active_flag": True,
                "timezone_name": self.spec.timezone,
                "timezone_offset": "+01:00",
                "role_id": 1,
                "icon_url": None,
                "is_you": user_id == 1,
                "is_deleted": False,
            }

    def _pipelines(self) -> None:
        created = format_time(self.now - timedelta(days=800))
        stage_id = 0
        for pipeline_id, (name, stages) in enumerate(self.spec.pipelines, start=1):
            self.store.pipelines[pipeline_id] = {
                "id": pipeline_id,
                "name": name,
                "order_nr": pipeline_id,
                "is_deleted": False,
                "is_deal_probability_enabled": True,
                "add_time": created,
                "update_time": created,
            }
            for order_nr, stage in enumerate(stages, start=1):
                stage_id += 1
                self.store.stages[stage_id] = {
                    "id": stage_id,
                    "order_nr": order_nr,
                    "name": stage.name,
                    "is_deleted": False,
                    "deal_probability": stage.probability,
                    "pipeline_id": pipeline_id,
                    "is_deal_rot_enabled": stage.rot_days is not None,
                    "days_to_rotten": stage.rot_days,
                    "add_time": created,
                    "update_time": created,
                }

    def _deal_fields(self) -> None:
        source, seats, start = self.spec.custom_field_names
        custom = (
            (source, "enum", [{"id": i, "label": label} for i, label in enumerate(self.spec.source_options, 1)]),
            (seats, "int", None),
            (start, "date", None),
        )
        standard = ((code, name, kind, None, False) for code, name, kind in STANDARD_DEAL_FIELDS)
        hashed = ((field_hash(self.spec.name, name), name, kind, options, True) for name, kind, options in custom)
        for code, name, kind, options, is_custom in (*standard, *hashed):
            self.store.deal_fields[code] = {
                "field_name": name,
                "field_code": code,
                "field_type": kind,
                "options": options,
                "subfields": None,
                "is_custom_field": is_custom,
                "is_optional_response_field": False,
            }
        self.custom_keys = tuple(field_hash(self.spec.name, name) for name, _, _ in custom)

    def _organizations(self, count: int) -> None:
        spec, rng = self.spec, self.rng
        for org_id in range(1, count + 1):
            name = f"{rng.choice(spec.org_prefixes)}{rng.choice(spec.org_suffixes)} {spec.org_form}"
            if org_id > len(spec.org_prefixes) * len(spec.org_suffixes) // 2:
                name = f"{name} {org_id}"
            city, postcode = rng.choice(spec.cities)
            street, number = rng.choice(spec.streets), str(rng.randint(1, 80))
            added = self._past(800)
            self.store.organizations[org_id] = {
                "id": org_id,
                "name": name,
                "owner_id": rng.choice(tuple(self.store.users)),
                "add_time": format_time(added),
                "update_time": format_time(self._between(added, self.now)),
                "is_deleted": False,
                "visible_to": 3,
                "address": {
                    "value": f"{street} {number}, {postcode} {rng.randint(10, 99)} {city}",
                    "country": spec.country,
                    "locality": city,
                    "route": street,
                    "street_number": number,
                    "postal_code": f"{postcode} {rng.randint(10, 99)}",
                },
                "label_ids": [],
                "website": None,
                "linkedin": None,
                "industry": None,
                "annual_revenue": None,
                "employee_count": None,
                "custom_fields": {},
            }

    def _persons(self, count: int) -> None:
        spec, rng = self.spec, self.rng
        orgs = self.store.organizations
        for person_id in range(1, count + 1):
            first, last = rng.choice(spec.first_names), rng.choice(spec.last_names)
            org_id = rng.randint(1, len(orgs)) if rng.random() < 0.9 else None
            domain = _ascii(orgs[org_id]["name"].split(" ")[0]) if org_id else f"mail{person_id % 7}"
            added = self._past(700)
            phone = f"{spec.phone_prefix} {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
            self.store.persons[person_id] = {
                "id": person_id,
                "name": f"{first} {last}",
                "first_name": first,
                "last_name": last,
                "owner_id": rng.choice(tuple(self.store.users)),
                "org_id": org_id,
                "add_time": format_time(added),
                "update_time": format_time(self._between(added, self.now)),
                "emails": [
                    {
                        "value": f"{_ascii(first)}.{_ascii(last)}@{domain}.{spec.email_tld}",
                        "primary": True,
                        "label": "work",
                    }
                ],
                "phones": [{"value": phone, "primary": True, "label": "mobile"}],
                "is_deleted": False,
                "visible_to": 3,
                "label_ids": [],
                "custom_fields": {},
            }

    def _deals(self) -> None:
        spec, rng, store = self.spec, self.rng, self.store
        stages_by_pipeline: dict[int, list[dict]] = {}
        for stage in store.stages.values():
            stages_by_pipeline.setdefault(stage["pipeline_id"], []).append(stage)
        won_stages = {
            pipeline_id: [s for s in stages if s["name"] in spec.won_stages] or stages[-1:]
            for pipeline_id, stages in stages_by_pipeline.items()
        }
        pipeline_ids = sorted(stages_by_pipeline)
        users = tuple(store.users)
        persons, orgs = store.persons, store.organizations
        source_key, seats_key, start_key = self.custom_keys
        for deal_id in range(1, self.deal_count + 1):
            pipeline_id = pipeline_ids[0] if rng.random() < 0.85 else rng.choice(pipeline_ids)
            roll = rng.random()
            status = "open" if roll < 0.62 else "won" if roll < 0.78 else "lost" if roll < 0.94 else "deleted"
            stage = rng.choice(won_stages[pipeline_id] if status == "won" else stages_by_pipeline[pipeline_id])
            person = persons[rng.randint(1, len(persons))] if rng.random() < 0.92 else None
            org_id = person["org_id"] if person else (rng.randint(1, len(orgs)) if rng.random() < 0.5 else None)
            # Open deals look worked on: added this year, touched in the last three weeks, in their
            # stage for about a month at most. Closed ones spread over two years (the won period filter).
            is_open = status == "open"
            added = self._past(240 if is_open else 720)
            updated = self._between(max(added, self.now - timedelta(days=21)) if is_open else added, self.now)
            stage_changed = self._between(max(added, updated - timedelta(days=30)) if is_open else added, updated)
            closed = format_time(updated) if status in ("won", "lost") else None
            party = orgs[org_id]["name"] if org_id else (person["name"] if person else f"Deal {deal_id}")
            store.deals[deal_id] = DealRow(
                id=deal_id,
                title=f"{party} – {rng.choice(spec.products)}",
                owner_id=rng.choice(users),
                person_id=person["id"] if person else None,
                org_id=org_id,
                pipeline_id=pipeline_id,
                stage_id=stage["id"],
                value=round(rng.uniform(0, spec.max_value) / 500) * 500,
                currency=spec.currency,
                add_time=format_time(added),
                update_time=format_time(updated),
                stage_change_time=format_time(stage_changed),
                is_deleted=status == "deleted",
                is_archived=status != "open" and rng.random() < 0.12,
                status=status,
                probability=None,
                lost_reason=rng.choice(spec.lost_reasons) if status == "lost" else None,
                close_time=closed,
                won_time=closed if status == "won" else None,
                lost_time=closed if status == "lost" else None,
                expected_close_date=(self.now + timedelta(days=rng.randint(-14, 100))).date().isoformat()
                if is_open
                else None,
                label_ids=[rng.randint(1, 3)] if rng.random() < 0.2 else [],
                custom_fields={
                    source_key: rng.randint(1, len(spec.source_options)) if rng.random() < 0.7 else None,
                    seats_key: rng.randint(1, 200) if rng.random() < 0.5 else None,
                    start_key: (updated + timedelta(days=30)).date().isoformat() if status == "won" else None,
                },
            )

    def _activities(self) -> None:
        """Done activities in each deal's past; for most open deals one upcoming activity, some of
        them overdue; and open deals with none at all. A random stream of its own, so the deals
        above come out the same as before activities were seeded."""
        rng = random.Random(f"{self.spec.name}:{self.deal_count}:activities")
        users = tuple(self.store.users)
        for deal in list(self.store.deals.values())[:MAX_DEALS_WITH_ACTIVITIES]:
            if deal.status == "deleted":
                continue
            added = datetime.fromisoformat(deal.add_time)
            updated = datetime.fromisoformat(deal.update_time)
            is_open = deal.status == "open"
            if is_open and rng.random() < 0.15:
                continue  # an open deal nobody has planned anything for
            for _ in range(rng.randint(1, 3)):
                due = added + (updated - added) * rng.random()
                self._activity(rng, deal, users, due, done=True, now=updated)
            if is_open and rng.random() < 0.8:
                days = rng.randint(-10, -1) if rng.random() < 0.25 else rng.randint(0, 20)
                due = self.now + timedelta(days=days, hours=rng.randint(8, 16))
                self._activity(rng, deal, users, due, done=False, now=min(updated, self.now))

    def _activity(self, rng: random.Random, deal: DealRow, users: tuple, due: datetime, *, done: bool, now) -> None:
        kind, subject = rng.choice(ACTIVITY_TYPES)
        activity_id = len(self.store.activities) + 1
        timed = rng.random() < 0.5
        stamp = format_time(min(due, now) if done else now)
        self.store.activities[activity_id] = {
            **ACTIVITY_CONSTANTS,
            "id": activity_id,
            "subject": subject,
            "type": kind,
            "owner_id": rng.choice(users),
            "creator_user_id": deal.owner_id,
            "deal_id": deal.id,
            "person_id": deal.person_id,
            "org_id": deal.org_id,
            "due_date": due.date().isoformat(),
            "due_time": due.strftime("%H:%M") if timed else None,
            "done": done,
            "marked_as_done_time": stamp if done else None,
            "is_deleted": False,
            "add_time": deal.add_time,
            "update_time": stamp,
        }
