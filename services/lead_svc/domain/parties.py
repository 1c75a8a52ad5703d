"""lead_svc's parties: the person a lead names, the accounts and contacts qualification links
(master data, with the fields each system owns), and how they are recognised.

Folding text for matching: two spellings of one company, one person or one email fold to the
same key, in any script. Pure: standard library only. What folds together:
- compatibility forms (NFKC): full-width "ＡＣＭＥ" is "acme", the ligature "ﬁ" is "fi";
- case, by Unicode case folding: "ß" is "ss", "ΣΟΦΊΑ" is "σοφία" (final sigma included),
  and the Turkish dotless "ı" is "i" (its capital is "I");
- optional diacritics: Latin, Greek and Cyrillic accents ("Café" is "cafe"), Hebrew points and
  Arabic vowel marks (written or not, the same name). Marks that change the letter stay (the
  Japanese voicing mark: "が" is not "か"; Indic vowel signs);
- punctuation and spacing: anything that is not a letter, a digit or a kept mark separates words;
- legal forms: "ACME, Inc.", "ООО «Ромашка»", "株式会社テスト商事" name the company without them.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Final
from uuid import UUID

# Deleted after decomposition. U+0300-036F: the diacritics of Latin, Greek and Cyrillic;
# U+0591-05C7: Hebrew cantillation and points; U+0610-061A, 064B-065F, 0670, 06D6-06ED: Arabic
# vowel and Quranic marks; U+0640: the Arabic elongation stroke (tatweel), pure typography.
_OPTIONAL_MARKS: Final[dict[int, None]] = dict.fromkeys(
    itertools.chain(
        range(0x0300, 0x0370),
        range(0x0591, 0x05BE),
        (0x05BF, 0x05C1, 0x05C2, 0x05C4, 0x05C5, 0x05C7),
        range(0x0610, 0x061B),
        range(0x064B, 0x0660),
        (0x0640, 0x0670),
        range(0x06D6, 0x06DD),
        range(0x06DF, 0x06E9),
        range(0x06EA, 0x06EE),
    )
)
# Turkish dotless "ı" upper-cases to "I", which folds to "i": written either way, one name
# ("İ" folds to "i" plus a dot above, an optional mark).
_FOLDED_ALIKE: Final[dict[int, int | None]] = {**_OPTIONAL_MARKS, ord("ı"): ord("i")}
_ASCII_NON_ALNUM: Final = re.compile(r"[^0-9a-z]+")

# Legal forms, folded, matched as whole words at the end (or the start, where a language puts
# them first: Russian "ООО Ромашка", Arabic "شركة ..."). Multi-word forms are tuples of words.
_TRAILING_FORMS: Final[frozenset[tuple[str, ...]]] = frozenset(
    (form,) if isinstance(form, str) else form
    for form in (
        *("inc", "incorporated", "ltd", "limited", "llc", "gmbh", "ag", "sa", "sarl", "bv"),
        *("nv", "plc", "corp", "corporation", "co", "company", "oy", "ab", "as", "spa", "srl"),
        *("kg", "llp", "pty", "kk", "ooo", "ооо", "зао", "оао", "пао", "ао", "тов"),
        ("בע", "מ"),  # Hebrew בע"מ: the quote folds to a space
        ("s", "a"),
        ("b", "v"),
        ("pty", "ltd"),
        ("co", "ltd"),
    )
)
# The word counts of the trailing forms, longest first ("co ltd" before "ltd").
_TRAILING_LENGTHS: Final[tuple[int, ...]] = tuple(
    sorted({len(form) for form in _TRAILING_FORMS}, reverse=True)
)
# "주" is "(주)", the brackets folded away.
_LEADING_FORMS: Final[frozenset[str]] = frozenset(
    {"ооо", "зао", "оао", "пао", "ао", "тов", "ип", "شركة", "주식회사", "주"}
)
# Japanese, Chinese and Korean write the legal form onto the name without a space.
_AFFIXED_FORMS: Final[tuple[str, ...]] = (
    "株式会社",
    "有限会社",
    "合同会社",
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "주식회사",
)


# Names repeat across a batch and across batches (a company's many leads, a contact's many
# updates), and folding is pure: the keys of recent names are kept rather than computed again.
@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """The matching key of a name (module docstring); "" when nothing is left."""
    if text.isascii():
        # Most names are ASCII: the same result as below, without the per-character work.
        return " ".join(_ASCII_NON_ALNUM.sub(" ", text.lower()).split())
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(_FOLDED_ALIKE)
    words = "".join(
        ch if ch.isalnum() or unicodedata.category(ch)[0] == "M" else " " for ch in decomposed
    )
    # Composing again after the case fold: a few folded characters decompose further.
    return " ".join(unicodedata.normalize("NFKC", words).casefold().split())


def fold_email(email: str | None) -> str | None:
    """An email's matching key: compatibility forms and case folded, nothing else removed."""
    if not email:
        return None
    key = unicodedata.normalize("NFKC", email.strip()).casefold()
    return key or None


def normalise_company(name: str | None) -> str | None:
    """'ACME, Inc.' and 'Acme Inc' are one account: folded, and the legal form left out."""
    if not name:
        return None
    return _company_key(name)


@lru_cache(maxsize=8192)
def _company_key(name: str) -> str | None:
    words = fold(name).split()
    stripped = True
    while stripped and len(words) > 1:
        stripped = False
        for length in _TRAILING_LENGTHS:
            if len(words) > length and tuple(words[-length:]) in _TRAILING_FORMS:
                del words[-length:]
                stripped = True
                break
        if len(words) > 1 and words[0] in _LEADING_FORMS:
            del words[0]
            stripped = True
    key: str = " ".join(words)
    for form in _AFFIXED_FORMS:
        if key.startswith(form) and len(key) > len(form):
            key = key[len(form) :].strip()
        if key.endswith(form) and len(key) > len(form):
            key = key[: -len(form)].strip()
    return key or None


@dataclass(frozen=True, slots=True)
class Person:
    """A contact's own details, as captured or sent by a CRM."""

    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    job_title: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


# --- master data ----------------------------------------------------------------------------

# Names on the wire are at most 200 characters (contracts' ShortText); a person's own account is
# named after them, and first and last name may each be that long.
NAME_LIMIT: Final = 200


class Authority(StrEnum):
    """The system a master-data command comes from."""

    CRM = "crm"
    ERP = "erp"


@dataclass(frozen=True, slots=True)
class Address:
    lines: tuple[str, ...]
    city: str
    country: str
    postal_code: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class AccountData:
    """An account's master data. On a command, None means "not sent" (left as it is)."""

    name: str | None = None
    legal_name: str | None = None
    tax_id: str | None = None
    erp_customer_number: str | None = None
    bill_to: Address | None = None
    ship_to: Address | None = None
    default_currency: str | None = None
    payment_terms: str | None = None

    def sent(self) -> dict[str, object]:
        """The fields given a value, by name."""
        values = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: value for name, value in values if value is not None}


# Who owns which field when a CRM and the ERP both send updates (README "Master data"). The ERP
# bills, so it owns what an invoice needs; sales owns how the customer is named and reached.
FIELD_OWNERS: Final[Mapping[str, Authority]] = MappingProxyType(
    {
        "name": Authority.CRM,
        "ship_to": Authority.CRM,
        "legal_name": Authority.ERP,
        "tax_id": Authority.ERP,
        "erp_customer_number": Authority.ERP,
        "bill_to": Authority.ERP,
        "default_currency": Authority.ERP,
        "payment_terms": Authority.ERP,
    }
)


@dataclass(frozen=True, slots=True)
class Account:
    account_id: UUID
    data: AccountData
    version: int = 1
    personal: bool = False
    """A person's own account (a lead without a company): never matched by name."""
    set_by: Mapping[str, Authority] = field(default_factory=dict)
    """Which system set each field last: a field is kept from the other system only when its
    owner set it (FIELD_OWNERS)."""

    @property
    def display_name(self) -> str:
        return self.data.name or self.data.legal_name or ""

    @property
    def company_key(self) -> str | None:
        """What qualification matches a lead's company against."""
        return None if self.personal else normalise_company(self.display_name)


@dataclass(frozen=True, slots=True)
class Contact:
    contact_id: UUID
    account_id: UUID
    person: Person

    @property
    def email_key(self) -> str | None:
        return fold_email(self.person.email)


@dataclass(frozen=True, slots=True)
class Directory:
    """What qualification may link to: accounts by normalised company name, contacts by email,
    and both by the id qualification would mint (the record may carry another name since)."""

    accounts: dict[str, Account] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    accounts_by_id: dict[UUID, Account] = field(default_factory=dict)
    contacts_by_id: dict[UUID, Contact] = field(default_factory=dict)
