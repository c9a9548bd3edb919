"""Hypothesis strategies for V1 check-ins (every field of the contract, extras, PHQ-4), shared by the SQL and
HTTP round-trip properties, and the PHQ-4 scores a check-in's items imply."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

PHQ_ITEMS = ("phq4_feeling_nervous", "phq4_stop_worrying", "phq4_little_interest", "phq4_feeling_down")
RESERVED = {"id", "user_id", "created_at", "updated_at", "date_submitted", "checkin_type", "idempotency_key"}

# Text PostgreSQL can store: no NUL, no lone surrogates. Newlines, tabs, emoji and any script are fine.
chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


def text(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    """Strings up to max_size characters; often of a random exact length, so long ones (the limit) occur too."""
    exact = st.integers(min_size, max_size).flatmap(lambda n: st.text(chars, min_size=n, max_size=n))
    return st.one_of(st.text(chars, min_size=min_size, max_size=max_size), exact)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value, or null ("not answered")."""
    return st.one_of(st.none(), strategy)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    text(40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text(20), inner, max_size=4)),
    max_leaves=12,
)
string_list = st.lists(text(60), max_size=5)
int_or_text = st.one_of(st.integers(min_value=1, max_value=10), text(200))

# Every check-in field (public.checkin_fields) and the "also accepted" ones, with a strategy for valid values.
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "medication_taken": st.sampled_from(["yes", "no", "partial", "not_applicable", "not tracked"]),
    "user_note": maybe(text(5000)),
    "primary_concern_today": maybe(text(100)),
    "anxiety_level": maybe(st.integers(1, 10)),
    "side_effects": maybe(string_list),
    "missed_doses": maybe(st.integers(0, 50)),
    "injection_confidence": maybe(st.integers(1, 10)),
    "appointment_within_3_days": maybe(st.booleans()),
    "appointment_anxiety": maybe(st.integers(1, 10)),
    "coping_strategies_used": maybe(string_list),
    "partner_involved_today": maybe(st.booleans()),
    "wish_knew_more_about": maybe(string_list),
    **{item: maybe(st.integers(0, 3)) for item in PHQ_ITEMS},
    "phq4_score": maybe(st.integers(0, 12)),
    "phq4_anxiety": maybe(st.integers(0, 6)),
    "phq4_depression": maybe(st.integers(0, 6)),
    "journey_reflection_today": maybe(int_or_text),
    "medication_confidence_today": maybe(int_or_text),
    "medication_readiness_today": maybe(int_or_text),
    "financial_confidence_today": maybe(int_or_text),
    "journey_confidence_today": maybe(int_or_text),
    "financial_stress_today": maybe(int_or_text),
    "journey_readiness_today": maybe(int_or_text),
    "medication_concern_today": maybe(text(200)),
    "financial_concern_today": maybe(text(200)),
    "top_concern_today": maybe(text(200)),
    "medication_momentum": maybe(text(100)),
    "financial_momentum": maybe(text(100)),
    "journey_momentum": maybe(text(100)),
    "cycle_stage_update": maybe(text(100)),
    "physical_symptoms": maybe(st.lists(json_values, max_size=5)),
    "symptom_severity": maybe(st.dictionaries(text(20), json_values, max_size=4)),
    "sentiment_analysis": maybe(
        st.fixed_dictionaries(
            {"sentiment": st.sampled_from(["positive", "neutral", "negative"])},
            optional={"confidence": st.floats(0, 1), "note": text(30)},
        )
    ),
}
KNOWN = {"mood_today", "confidence_today", *FIELDS}

extra_keys = text(100, min_size=1).filter(lambda k: k not in KNOWN and k not in RESERVED)


@st.composite
def checkins(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {
        "mood_today": draw(text(100, min_size=1).filter(lambda s: s.strip(" ") != "")),
        "confidence_today": draw(st.integers(1, 10)),
    }
    everything = sorted(FIELDS)
    chosen = draw(st.one_of(st.just(everything), st.lists(st.sampled_from(everything), unique=True)))
    for name in chosen:
        body[name] = draw(FIELDS[name])
    if draw(st.booleans()):  # all four PHQ-4 items answered: the scores are derived
        body.update({item: draw(st.integers(0, 3)) for item in PHQ_ITEMS})
    body.update(draw(st.dictionaries(extra_keys, json_values, max_size=8)))
    if draw(st.booleans()):
        day = draw(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date.today() - dt.timedelta(days=1)))
        body["date_submitted"] = day.isoformat()
    return body


def expected_phq4(body: dict[str, Any]) -> dict[str, int] | None:
    items = [body.get(item) for item in PHQ_ITEMS]
    if not all(isinstance(v, int) for v in items):
        return None
    n, w, i, d = items
    return {"phq4_score": n + w + i + d, "phq4_anxiety": n + w, "phq4_depression": i + d}
