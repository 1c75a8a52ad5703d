"""Name folding for matching, in every script: examples from real-world names, and properties
over arbitrary Unicode text (hypothesis)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.lead_svc import domain
from services.lead_svc.domain import Directory, Interest, Profile, fold, normalise_company

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

# Every letter and digit category, across every script Unicode assigns (surrogates excluded).
letters = st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Nd"))
names = st.text(letters | st.sampled_from(" .,-'&()«»\"\u00a0\u3000"), min_size=1, max_size=40)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ООО Ромашка", "ромашка"),
        ("ООО «Ромашка»", "ромашка"),
        ("ромашка", "ромашка"),
        ("株式会社テスト商事", "テスト商事"),
        ("テスト商事株式会社", "テスト商事"),
        ("ＡＣＭＥ Ｉｎｃ．", "acme"),
        ("北京测试有限公司", "北京测试"),
        ("(주)삼성", "삼성"),
        ("شركة الأمل", "الامل"),
        ('מוצרי חשמל בע"מ', "מוצרי חשמל"),
        ("ΑΘΗΝΑ Α.Ε.", "αθηνα α ε"),
        ("Straße GmbH", "strasse"),
        ("Société Générale SA", "societe generale"),
        ("हिन्दी उद्योग", "हिन्दी उद्योग"),
    ],
)
def test_names_in_any_script_normalise_to_a_key(name: str, key: str) -> None:
    assert normalise_company(name) == key


def test_marks_that_change_the_letter_are_kept() -> None:
    # The Japanese voicing mark makes another letter; an accent on a Latin letter does not.
    assert fold("がっこう") != fold("かっこう")
    assert fold("Café") == fold("cafe")
    # Arabic vowel marks are optional in writing: with or without, one name.
    assert fold("مُحَمَّد") == fold("محمد")


@given(names)
@example("ß")
@example("ǅ")
@example("ΣΑΣ")
@example("ﬃ")
def test_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(names)
def test_case_and_normalisation_forms_fold_together(text: str) -> None:
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        assert fold(unicodedata.normalize(form, text)) == fold(text)
    assert fold(text.casefold()) == fold(text)
    assert fold(text.upper()) == fold(text)
    assert fold(text.lower()) == fold(text)


@given(names)
def test_a_name_with_a_letter_or_digit_keeps_a_key(text: str) -> None:
    # Before: a name without ASCII letters folded to nothing (no company, never qualified).
    # (The Arabic elongation stroke counts as a letter to Python but is typography.)
    if any(ch.isalnum() for ch in unicodedata.normalize("NFKC", text).replace("\u0640", "")):
        assert fold(text)
        assert normalise_company(text)


@given(names, names)
def test_punctuation_and_spacing_do_not_matter(text: str, other: str) -> None:
    assert fold(f"{text}, {other}.") == fold(f"{text}  {other}")


@given(st.text(letters, min_size=1, max_size=20).filter(lambda s: fold(s) != ""))
def test_two_leads_of_one_company_in_any_script_are_duplicates(company: str) -> None:
    """The second lead of a company written with other case and spacing is the first's twin,
    as with Latin names."""

    def captured(lead_id: str, name: str, email: str) -> domain.Lead:
        p = Profile(
            source="web_form",
            topic="t",
            first_name="Имя",
            last_name="Фамилия",
            company_name=name,
            email=email,
            purchase_timeframe="this_quarter",
            interests=(Interest("SKU-1", Decimal(1)),),
        )
        return domain.Lead(lead_id, p, domain.LeadState.OPEN, "new", NOW, NOW)

    first = captured("L1", company, "a@example.com")
    decision = domain.capture(
        "L2",
        captured("L2", f"  {company.upper()} ", "b@example.com").profile,
        deal_id="L2",
        existing=None,
        candidates=(first,),
        directory=Directory(),
        policy=domain.QualificationPolicy(),
        event_id=UUID(int=1),
        now=NOW,
    )
    assert isinstance(decision, domain.Disqualified)
    assert decision.duplicate_of == "L1"
