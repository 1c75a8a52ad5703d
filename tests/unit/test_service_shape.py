"""One shape for every stage: the service packages list the same files, each with one role.

`SKELETON` is what every service fills (docs/architecture.md says what each file is for; the
import-linter contracts in pyproject.toml hold the layers between them). Past it, a service holds
modules of its own subjects in two places only, declared here: `domain/decisions/` (its rules by
subject: the stages decide different things, so these names differ) and `store/` (invoice_svc's
loads of what is read ahead of what it names). A file anywhere else, a skeleton file missing from
one service, or an undeclared subject fails until the tree, this table and the docs agree again.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from contracts.stages import SERVICES

REPO = Path(__file__).resolve().parents[2]
SERVICES_DIR = REPO / "services"

SKELETON = frozenset(
    {
        "__init__.py",  # what the service owns, consumes, publishes
        "main.py",  # the composition root
        "settings.py",  # its settings, SALESFLOW_<STAGE>_*
        "wire.py",  # contract <-> domain, both directions
        "handlers/__init__.py",  # HANDLERS and the pure touches_of
        "handlers/commands.py",  # commands from people and outside systems
        "handlers/events.py",  # facts from other stages, upstream systems and the clock
        "handlers/replies.py",  # a decision taken into the book, the events it publishes
        "domain/__init__.py",  # the domain's public names
        "domain/model.py",  # values and entities
        "domain/parties.py",  # the customers and people it names
        "domain/decisions/__init__.py",  # the decisions' public names
        "domain/decisions/outcomes.py",  # what decisions answer (refusals included)
        "store/__init__.py",
        "store/book.py",  # the batch's unit of work, the unit tests' fake
        "store/erasure.py",  # what it holds about a person, erased
        "store/postgres.py",  # load and save
        "store/tables.py",  # its schema
        "store/rows.py",  # its documents <-> rows
        "store/parties.py",  # its parties <-> rows
        "migrations/__init__.py",
        "migrations/env.py",
        "migrations/script.py.mako",
    }
)

# Each service's own subjects, and only in the two homes (`HOMES`).
SUBJECTS: dict[str, frozenset[str]] = {
    "lead_svc": frozenset({"domain/decisions/leads.py", "domain/decisions/accounts.py"}),
    "quote_svc": frozenset(
        {
            "domain/decisions/quotes.py",
            "domain/decisions/opportunities.py",
            "domain/decisions/pricing.py",
            "domain/decisions/currencies.py",
            "domain/decisions/expiry.py",
        }
    ),
    "order_svc": frozenset(
        {
            "domain/decisions/orders.py",
            "domain/decisions/billing.py",
            "domain/decisions/erp.py",
            "domain/decisions/handoffs.py",
        }
    ),
    "invoice_svc": frozenset(
        {
            "domain/decisions/billing.py",
            "domain/decisions/books.py",
            "domain/decisions/credits.py",
            "domain/decisions/settlement.py",
            "domain/decisions/orders.py",
            "domain/decisions/remittances.py",
            "domain/decisions/dunning.py",
            "domain/decisions/handoffs.py",
            "store/orders.py",
            "store/remittances.py",
        }
    ),
}
HOMES = ("domain/decisions/", "store/")


def _files(service: str) -> set[str]:
    """Every file of the service package, migration versions and caches aside."""
    root = SERVICES_DIR / service
    found = set()
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        in_versions = rel.parts[:2] == ("migrations", "versions")
        if path.is_dir() or in_versions or "__pycache__" in rel.parts:
            continue
        found.add(rel.as_posix())
    return found


def test_the_shape_names_every_service_of_the_registry() -> None:
    assert set(SUBJECTS) == set(SERVICES)
    on_disk = {p.name for p in SERVICES_DIR.iterdir() if p.is_dir() and p.name.endswith("_svc")}
    assert on_disk == set(SERVICES)


def test_every_service_lists_the_skeleton_and_only_its_declared_subjects() -> None:
    for service in SERVICES:
        files = _files(service)
        assert sorted(SKELETON - files) == [], f"{service} lacks skeleton files"
        assert sorted(files - SKELETON) == sorted(SUBJECTS[service]), (
            f"{service}: files beyond the skeleton differ from its declared subjects"
        )


def test_subjects_live_in_their_homes_and_never_shadow_the_skeleton() -> None:
    for service, subjects in SUBJECTS.items():
        for path in subjects:
            homes = [home for home in HOMES if path.startswith(home)]
            assert homes, f"{service}/{path}: not in a subject home {HOMES}"
            # One module right in its home, not a package of its own beside the skeleton.
            assert path.endswith(".py"), f"{service}/{path}: a subject is a module"
            assert path.count("/") == homes[0].count("/"), f"{service}/{path}: one level"
        assert not subjects & SKELETON


def test_no_module_of_the_shape_is_an_empty_placeholder() -> None:
    """The same files, filled honestly: each module defines or imports something beyond its
    docstring; the package's own `__init__.py` is its docstring (what the service owns,
    consumes, publishes), the migrations package marker is empty."""
    empty = []
    for service in SERVICES:
        assert ast.get_docstring(ast.parse((SERVICES_DIR / service / "__init__.py").read_text()))
        for rel in sorted(_files(service)):
            if not rel.endswith(".py") or rel in {"__init__.py", "migrations/__init__.py"}:
                continue
            tree = ast.parse((SERVICES_DIR / service / rel).read_text())
            body = [
                node
                for node in tree.body
                if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
                and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
            ]
            if not body:
                empty.append(f"{service}/{rel}")
    assert empty == []


def test_the_architecture_notes_name_every_module_of_the_shape() -> None:
    """docs/architecture.md describes the tree: every module's name appears in it."""
    notes = (REPO / "docs" / "architecture.md").read_text()
    words = set(re.findall(r"[a-z_]+", notes))
    stems = {
        Path(rel).stem
        for rel in SKELETON.union(*SUBJECTS.values())
        if rel.endswith(".py") and Path(rel).stem != "__init__"
    }
    assert sorted(stems - words) == []
