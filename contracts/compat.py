"""Is a new JSON Schema a compatible evolution of an old one? ("Contracts only grow", rule 6.)

A change is breaking when a message valid under the old schema may be refused under the new one,
or when a consumer written against the old schema loses something it could rely on:

* a property removed (consumers read it);
* a property's type changed or narrowed (e.g. no longer nullable);
* a new required property, or an optional one becoming required (old producers omit it);
* an enum value removed;
* any other tightening: a new or changed pattern/format/const, a larger minimum, a smaller
  maximum or length, ``additionalProperties: false``, a new or changed rule across a model's
  fields (its own anyOf/oneOf/allOf/not: "invoice_id or external_invoice_id").

Adding optional properties and adding enum values are compatible: consumers are tolerant readers.
Only the keywords pydantic emits are understood; annotations (title, description, examples,
default) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

__all__ = ["breaking_changes"]

Schema = Mapping[str, Any] | bool

# keyword -> True when a larger new value is stricter (lower bounds), False when a smaller one is.
_BOUNDS: Final[Mapping[str, bool]] = {
    "minLength": True,
    "minimum": True,
    "exclusiveMinimum": True,
    "minItems": True,
    "minProperties": True,
    "maxLength": False,
    "maximum": False,
    "exclusiveMaximum": False,
    "maxItems": False,
    "maxProperties": False,
}
_EXACT: Final = ("pattern", "format", "multipleOf")
# Keywords of a model that combine its fields (one of several required, not two at once).
_RULES: Final = ("anyOf", "oneOf", "allOf", "not")


def breaking_changes(old_schema: Mapping[str, Any], new_schema: Mapping[str, Any]) -> list[str]:
    """Human-readable breaking changes from ``old_schema`` to ``new_schema``; empty if none."""
    walker = _Walker(old_schema, new_schema)
    walker.compare(old_schema, new_schema, "")
    return walker.problems


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _types(node: Mapping[str, Any]) -> frozenset[str] | None:
    """JSON types the node admits, or None when it does not restrict the type."""
    declared = node.get("type")
    if isinstance(declared, str):
        return frozenset((declared,))
    if isinstance(declared, list):
        return frozenset(declared)
    if "enum" in node:
        return frozenset(_json_type(v) for v in node["enum"])
    if "const" in node:
        return frozenset((_json_type(node["const"]),))
    if "properties" in node:
        return frozenset(("object",))
    return None


def _admits(new: frozenset[str], old: frozenset[str]) -> bool:
    widened = new | {"integer"} if "number" in new else new
    return old <= widened


def _label(path: str) -> str:
    return path or "<root>"


class _Walker:
    def __init__(self, old_root: Mapping[str, Any], new_root: Mapping[str, Any]) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.problems: list[str] = []
        # $ref pairs being compared further up: recursive schemas must not recurse forever.
        self._active: set[tuple[str, str]] = set()

    def _report(self, path: str, message: str) -> None:
        self.problems.append(f"{_label(path)}: {message}")

    @staticmethod
    def _resolve(node: Schema, root: Mapping[str, Any]) -> Mapping[str, Any]:
        if node is True:
            return {}
        if node is False:
            return {"not": {}}
        seen: set[str] = set()
        while "$ref" in node or ("allOf" in node and len(node["allOf"]) == 1):
            siblings = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
            if "$ref" in node:
                ref = node["$ref"]
                if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
                    raise ValueError(f"unsupported or cyclic $ref {ref!r}")
                seen.add(ref)
                target: Any = root
                for part in ref[2:].split("/"):
                    target = target[part.replace("~1", "/").replace("~0", "~")]
            else:
                target = node["allOf"][0]
            if isinstance(target, bool):
                target = {} if target else {"not": {}}
            node = {**target, **siblings}
        return node

    def _branches(self, node: Mapping[str, Any], root: Mapping[str, Any]) -> Iterator[Any]:
        if "properties" in node:
            # A model's own anyOf/oneOf are rules across its fields (contracts.base.any_present),
            # not alternative types; `_compare_rules` holds them.
            yield node
            return
        for key in ("anyOf", "oneOf"):
            if key in node:
                for branch in node[key]:
                    yield from self._branches(self._resolve(branch, root), root)
                return
        yield node

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        refs = (
            old.get("$ref", "") if isinstance(old, Mapping) else "",
            new.get("$ref", "") if isinstance(new, Mapping) else "",
        )
        if refs[0] and refs[1]:
            if refs in self._active:
                return
            self._active.add(refs)
        try:
            self._compare_resolved(
                self._resolve(old, self.old_root), self._resolve(new, self.new_root), path
            )
        finally:
            self._active.discard(refs)

    def _compare_resolved(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        old_branches = list(self._branches(old, self.old_root))
        new_branches = list(self._branches(new, self.new_root))
        if len(old_branches) > 1 or len(new_branches) > 1:
            self._compare_unions(old_branches, new_branches, path)
            return
        self._compare_types(old, new, path)
        self._compare_keywords(old, new, path)
        if "properties" in old or "properties" in new:
            self._compare_objects(old, new, path)
        if "items" in old or "items" in new:
            self.compare(old.get("items", True), new.get("items", True), f"{path}[]")

    def _compare_unions(
        self,
        old_branches: list[Mapping[str, Any]],
        new_branches: list[Mapping[str, Any]],
        path: str,
    ) -> None:
        # Each old alternative must still be accepted by some new one; pair them by type (a model
        # with a model, null with null) and compare the pairs.
        for old_branch in old_branches:
            old_types = _types(old_branch)
            match = None
            for new_branch in new_branches:
                new_types = _types(new_branch)
                if new_types is None or (old_types is not None and _admits(new_types, old_types)):
                    match = new_branch
                    break
            if match is None:
                shown = "/".join(sorted(old_types)) if old_types else "any"
                self._report(path, f"type narrowed: {shown} is no longer accepted")
            else:
                self.compare(old_branch, match, path)

    def _compare_types(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        old_types, new_types = _types(old), _types(new)
        if new_types is None:
            return
        if old_types is None:
            self._report(path, f"type restricted to {'/'.join(sorted(new_types))}")
        elif not _admits(new_types, old_types):
            verb = "narrowed" if old_types & new_types else "changed"
            self._report(
                path,
                f"type {verb} from {'/'.join(sorted(old_types))} to {'/'.join(sorted(new_types))}",
            )

    def _compare_keywords(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        if "enum" in new:
            if "enum" not in old:
                self._report(path, "restricted to an enum")
            else:
                removed = [v for v in old["enum"] if v not in new["enum"]]
                if removed:
                    self._report(path, f"enum values removed: {removed}")
        if "const" in new and ("const" not in old or old["const"] != new["const"]):
            self._report(path, f"restricted to the constant {new['const']!r}")
        for keyword in _EXACT:
            if keyword in new and old.get(keyword) != new[keyword]:
                self._report(
                    path, f"{keyword} changed from {old.get(keyword)!r} to {new[keyword]!r}"
                )
        for keyword, lower in _BOUNDS.items():
            if keyword not in new:
                continue
            before, after = old.get(keyword), new[keyword]
            if before is None or (after > before if lower else after < before):
                self._report(path, f"{keyword} tightened from {before!r} to {after!r}")

    def _compare_objects(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        prefix = f"{path}." if path else ""
        for name, old_prop in old_props.items():
            if name not in new_props:
                self._report(f"{prefix}{name}", "property removed")
            else:
                self.compare(old_prop, new_props[name], f"{prefix}{name}")
        self._compare_rules(old, new, path)
        old_required = set(old.get("required", ()))
        for name in new.get("required", ()):
            if name not in old_required:
                what = "property became required" if name in old_props else "new required property"
                self._report(f"{prefix}{name}", what)
        if (
            new.get("additionalProperties") is False
            and old.get("additionalProperties") is not False
        ):
            self._report(path, "additional properties no longer allowed")

    def _compare_rules(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        # A rule across fields that is new or different may refuse what the old schema accepted;
        # whether it only loosens is beyond this check, so any change is reported.
        for keyword in _RULES:
            if keyword in new and old.get(keyword) != new[keyword]:
                verb = "changed" if keyword in old else "added"
                self._report(path, f"rule across fields {verb} ({keyword})")
