"""Keyword rules that suggest a standard stage for a company's stage name (Swedish and English).

Matching ignores case and accents ("MÖTE", "mote" and "möte" are the same word) and works on
whole words or phrases. Exclusion words win over everything else ("Inte nu - lead" is excluded);
otherwise the keyword that appears first in the name decides ("Lead - ännu ej kontaktade" is a
lead, "Prospekt - kontaktade" is qualified). A name no rule matches gets no suggestion.
"""

import re
import unicodedata
from functools import lru_cache

from dealflow.stages import MappingTarget

EXCLUSION_KEYWORDS = (
    "nej tack",
    "inte nu",
    "inte intresserad",
    "ej intresserad",
    "fel typ",
    "irrelevant",
    "avvakta",
    "forlorad",
    "forlorat",
    "tappad",
    "lost",
    "not interested",
    "not now",
    "disqualified",
    "unqualified",
    "wrong fit",
    "on hold",
    "junk",
    "spam",
)

STAGE_KEYWORDS: tuple[tuple[MappingTarget, tuple[str, ...]], ...] = (
    (
        MappingTarget.CLOSED_WON,
        (
            "ok verbal",
            "verbal acceptans",
            "acceptans",
            "genomfort",
            "vunnen",
            "vunnet",
            "vunna",
            "signerat",
            "signerad",
            "avtal klart",
            "kund",
            "won",
            "closed won",
            "signed",
            "contract signed",
        ),
    ),
    (
        MappingTarget.PROPOSAL,
        (
            "forhandling",
            "forhandlingar",
            "nastan dar",
            "proposal",
            "negotiation",
            "negotiations",
            "negotiating",
            "contract sent",
            "closing",
        ),
    ),
    (
        MappingTarget.DUE_DILIGENCE,
        (
            "offert",
            "offerter",
            "offert lamnad",
            "due diligence",
            "utvardering",
            "quote",
            "quotation",
            "evaluation",
            "review",
        ),
    ),
    (
        MappingTarget.MEETING,
        (
            "dialog",
            "demo",
            "mote",
            "moten",
            "bokat mote",
            "presentation",
            "meeting",
            "meetings",
            "demo scheduled",
            "call scheduled",
            "discovery",
        ),
    ),
    (
        MappingTarget.QUALIFIED,
        (
            "prospekt",
            "prospect",
            "kontaktad",
            "kontaktade",
            "kvalificerad",
            "kvalificerade",
            "qualified",
            "contact made",
            "contacted",
        ),
    ),
    (
        MappingTarget.LEAD,
        (
            "lead",
            "leads",
            "lead in",
            "ny",
            "nya",
            "inkommande",
            "new",
            "inbound",
        ),
    ),
)


def normalise(text: str) -> str:
    """Lower case, accents stripped, anything that is not a letter or digit turned into one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.findall(r"[a-z0-9]+", plain))


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[MappingTarget, re.Pattern], ...]:
    def compile_words(words) -> re.Pattern:
        alternatives = sorted((normalise(word) for word in words), key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(re.escape(word) for word in alternatives) + r")\b")

    return ((MappingTarget.EXCLUDED, compile_words(EXCLUSION_KEYWORDS)),) + tuple(
        (target, compile_words(words)) for target, words in STAGE_KEYWORDS
    )


def suggest_target(stage_name: str) -> MappingTarget | None:
    """The standard stage (or EXCLUDED) the name suggests, or None when no rule matches."""
    name = normalise(stage_name)
    exclusion, *stages = _patterns()
    if exclusion[1].search(name):
        return MappingTarget.EXCLUDED
    best: tuple[int, int, MappingTarget] | None = None
    for priority, (target, pattern) in enumerate(stages):
        match = pattern.search(name)
        if match and (best is None or (match.start(), priority) < best[:2]):
            best = (match.start(), priority, target)
    return best[2] if best else None
