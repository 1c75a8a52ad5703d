"""Reading dead-letter entries and picking the ones to redrive (no broker needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord

from salesflow.dead_letters import DeadLetterFilter, dead_letter_of

PARKED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _record(
    value: bytes,
    *,
    reason: str = "schema_violation",
    headers: list[tuple[str, bytes]] | None = None,
) -> ConsumerRecord[bytes, bytes]:
    info = [
        ("dlq.reason", reason.encode()),
        ("dlq.error", b"payload.currency: bad"),
        ("dlq.source_topic", b"lead.captured"),
        ("dlq.source_partition", b"3"),
        ("dlq.source_offset", b"42"),
        ("dlq.first_seen", PARKED.isoformat().encode()),
    ]
    return ConsumerRecord(
        "lead_svc.dlq", 0, 7, 0, 0, b"deal-1", value, None, 6, len(value), [*(headers or []), *info]
    )


def test_a_dead_letter_says_where_it_came_from_and_keeps_the_original_headers() -> None:
    letter = dead_letter_of(_record(b'{"event_id": "e-1"}', headers=[("event_type", b"x")]))
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        "lead.captured",
        "3",
        "42",
    )
    assert letter.reason == "schema_violation"
    assert letter.parked_at == PARKED
    assert letter.event_id == "e-1", "from the body when no event_id header"
    assert letter.original_headers == [("event_type", b"x")]


def test_the_event_id_header_wins_and_junk_has_none() -> None:
    assert dead_letter_of(_record(b"{}", headers=[("event_id", b"h-1")])).event_id == "h-1"
    assert dead_letter_of(_record(b"\xff not json")).event_id is None
    assert dead_letter_of(_record(b"[1, 2]")).event_id is None


def test_a_cloudevent_names_its_event_id_in_its_own_words() -> None:
    structured = [("content-type", b"application/cloudevents+json")]
    assert dead_letter_of(_record(b'{"id": "c-1"}', headers=structured)).event_id == "c-1"
    assert dead_letter_of(_record(b'{"id": "c-1"}')).event_id is None, "an envelope has no id"
    assert dead_letter_of(_record(b"{}", headers=[("ce_id", b"c-2")])).event_id == "c-2"


def test_filters_combine_and_an_empty_one_takes_everything() -> None:
    letter = dead_letter_of(_record(b'{"event_id": "e-1"}', reason="oversized"))
    assert DeadLetterFilter().matches(letter)
    assert DeadLetterFilter(reasons=frozenset({"oversized"})).matches(letter)
    assert not DeadLetterFilter(reasons=frozenset({"not_json"})).matches(letter)
    assert DeadLetterFilter(event_ids=frozenset({"e-1", "e-2"})).matches(letter)
    assert not DeadLetterFilter(event_ids=frozenset({"e-2"})).matches(letter)
    assert DeadLetterFilter(since=PARKED, until=datetime(2026, 12, 2, tzinfo=UTC)).matches(letter)
    assert not DeadLetterFilter(until=PARKED).matches(letter), "until is exclusive"
    assert not DeadLetterFilter(
        reasons=frozenset({"oversized"}), sources=frozenset({"lead.commands"})
    ).matches(letter)
