"""Registering event schemas, Confluent framing and reading both framings back.

Against a registry stand-in over real HTTP (see fake_registry for why it
is not Karapace).
"""

from __future__ import annotations

import base64
import io
from typing import Any

import orjson
import pytest
import requests
from pydantic import SecretStr, ValidationError

from lifeline.decode.command import decode_lifecycle_stream, lifecycle_codec
from lifeline.errors import FatalError, RecordError, RetryableError
from lifeline.events import EventCodec, EventSchemas
from lifeline.events.schema_registry import (
    SchemaRegistryClient,
    SchemaRegistryError,
    SchemaRegistryUnavailableError,
    TopicSchemaIds,
)
from lifeline.settings import SchemaRegistrySettings
from tests.ports import free_port
from tests.registry.fake_registry import FakeRegistry
from tests.unit.events.samples import sample

SCHEMAS = EventSchemas.load()
TOPIC = "lifeline.lifecycle"
NAMESPACE = "io.lifeline.events"


def no_wait(_seconds: float) -> None:
    return


def client_for(registry: FakeRegistry, **settings: Any) -> SchemaRegistryClient:
    made = SchemaRegistryClient.from_settings(
        SchemaRegistrySettings(url=registry.url, **settings)
    )
    assert made is not None
    return made


def ids_for(
    registry: FakeRegistry, strategy: str = "topic_name", **settings: Any
) -> TopicSchemaIds:
    configured = SchemaRegistrySettings.model_validate(
        {"url": registry.url, "subject_strategy": strategy, **settings}
    )
    ids = TopicSchemaIds.from_settings(configured, TOPIC, SCHEMAS)
    assert ids is not None
    return ids


def frame(ids: TopicSchemaIds, name: str) -> bytes:
    event = sample(name)
    return EventCodec(SCHEMAS).encode(event, ids.schema_id(event.EVENT_TYPE))


def test_without_a_url_there_is_no_registry() -> None:
    assert SchemaRegistryClient.from_settings(SchemaRegistrySettings()) is None


def test_topic_name_strategy_frames_each_event_with_its_schema_id(
    registry: FakeRegistry,
) -> None:
    # What an operator does once for the topic's shared subject.
    requests.put(
        f"{registry.url}/config/{TOPIC}-value",
        json={"compatibility": "NONE"},
        timeout=5,
    ).raise_for_status()
    ids = ids_for(registry)

    created = frame(ids, "CustomerCreated")
    order = frame(ids, "OrderPlaced")
    frame(ids, "OrderPlaced")

    subjects = registry.subjects()
    assert list(subjects) == [f"{TOPIC}-value"]
    created_id, order_id = subjects[f"{TOPIC}-value"]
    assert created_id != order_id
    assert created[:5] == b"\x00" + created_id.to_bytes(4, "big")
    assert order[:5] == b"\x00" + order_id.to_bytes(4, "big")
    body = EventCodec(SCHEMAS).encode(sample("OrderPlaced"))[10:]
    assert order[5:] == body
    registrations = [r for r in registry.requests if r[0] == "POST"]
    assert len(registrations) == 2  # ids are kept: one call per event type


@pytest.mark.parametrize(
    ("strategy", "subject"),
    [
        ("record_name", f"{NAMESPACE}.CustomerCreated"),
        ("topic_record_name", f"{TOPIC}-{NAMESPACE}.CustomerCreated"),
    ],
)
def test_record_name_strategies_give_each_event_its_own_subject(
    registry: FakeRegistry, strategy: str, subject: str
) -> None:
    ids = ids_for(registry, strategy)

    frame(ids, "CustomerCreated")
    frame(ids, "OrderPlaced")

    assert subject in registry.subjects()
    assert len(registry.subjects()) == 2


def test_one_subject_for_every_event_needs_compatibility_none(
    registry: FakeRegistry,
) -> None:
    ids = ids_for(registry)
    frame(ids, "CustomerCreated")

    with pytest.raises(SchemaRegistryError) as refused:
        frame(ids, "OrderPlaced")

    message = str(refused.value)
    assert f"subject {TOPIC}-value" in message
    assert "HTTP 409" in message
    assert "NONE" in message and "record_name" in message


def test_the_decoder_reads_both_framings_fetching_ids_once(
    registry: FakeRegistry,
) -> None:
    ids = ids_for(registry, "record_name")
    framed = frame(ids, "InvoicePosted")
    single = EventCodec(SCHEMAS).encode(sample("InvoicePosted"))
    reader = EventCodec(SCHEMAS, schema_source=client_for(registry))
    before = len(registry.requests)

    assert reader.decode(framed) == sample("InvoicePosted")
    assert reader.decode(framed) == sample("InvoicePosted")
    assert reader.decode(single) == sample("InvoicePosted")

    fetched = registry.requests[before:]
    assert [method for method, _ in fetched] == ["GET"]
    assert fetched[0][1].startswith("/schemas/ids/")


def test_an_id_the_registry_lacks_or_of_no_event_is_a_bad_record(
    registry: FakeRegistry,
) -> None:
    client = client_for(registry)
    other = {"type": "record", "name": "Other", "fields": []}
    other_id = client.register("other-value", other)
    reader = EventCodec(SCHEMAS, schema_source=client)
    body = EventCodec(SCHEMAS).encode(sample("OrderPlaced"))[10:]

    for schema_id, reason in ((999, "no schema id 999"), (other_id, "no released")):
        with pytest.raises(RecordError, match=reason) as bad:
            reader.decode(b"\x00" + schema_id.to_bytes(4, "big") + body)
        assert bad.value.kind == "unknown_schema"


def test_basic_auth_comes_from_the_settings(secured_registry: FakeRegistry) -> None:
    good = ids_for(
        secured_registry, "record_name",
        username="lifeline", password=SecretStr("registry-pw"),
    )  # fmt: skip
    assert frame(good, "CustomerCreated")[:1] == b"\x00"

    wrong = ids_for(
        secured_registry, "record_name",
        username="lifeline", password=SecretStr("not-it"), retry_max_wait=30,
    )  # fmt: skip
    before = len(secured_registry.requests)
    with pytest.raises(SchemaRegistryError) as refused:
        frame(wrong, "OrderPlaced")
    assert isinstance(refused.value, FatalError)
    assert "HTTP 401" in str(refused.value) and "credentials" in str(refused.value)
    assert "not-it" not in str(refused.value)
    assert len(secured_registry.requests) == before + 1  # not retried

    anonymous = EventCodec(SCHEMAS, schema_source=client_for(secured_registry))
    framed = frame(good, "CustomerCreated")
    with pytest.raises(FatalError, match="401"):
        anonymous.decode(framed)


def test_settings_refuse_half_credentials_and_credentials_in_the_url() -> None:
    with pytest.raises(ValidationError, match="set together"):
        SchemaRegistrySettings(url="http://127.0.0.1:1", username="u")
    with pytest.raises(ValidationError, match="no credentials"):
        SchemaRegistrySettings(url="http://u:p@127.0.0.1:1")
    with pytest.raises(ValidationError, match="absolute"):
        SchemaRegistrySettings(url="127.0.0.1:8081")


def test_lookup_only_finds_what_was_registered(registry: FakeRegistry) -> None:
    lookup_only = ids_for(registry, "record_name", auto_register=False)
    with pytest.raises(SchemaRegistryError, match="not registered"):
        lookup_only.schema_id("OrderPlaced")

    registered = ids_for(registry, "record_name").schema_id("OrderPlaced")
    again = ids_for(registry, "record_name", auto_register=False)
    assert again.schema_id("OrderPlaced") == registered


def test_an_unavailable_registry_is_retried_within_a_bound(
    registry: FakeRegistry,
) -> None:
    waits: list[float] = []
    client = SchemaRegistryClient(registry.url, retry_max_wait=10, sleep=waits.append)
    registry.fail_next(503, 429, 500)
    ids = TopicSchemaIds(client, TOPIC, "record_name", schemas=SCHEMAS)

    assert frame(ids, "OrderPlaced")[:1] == b"\x00"
    assert client.retries == 3
    assert waits == [0.2, 0.4, 0.8]

    gone = SchemaRegistryClient(
        f"http://127.0.0.1:{free_port()}", retry_max_wait=1, sleep=no_wait
    )
    with pytest.raises(SchemaRegistryUnavailableError) as unavailable:
        gone.register("s", SCHEMAS.current("OrderPlaced").definition)
    assert isinstance(unavailable.value, RetryableError)
    assert "ConnectionError" in str(unavailable.value)
    assert gone.retries == 2  # 0.2 + 0.4 s, the next 0.8 s would pass 1 s


def _line(value: bytes | None, offset: int) -> bytes:
    encoded = None if value is None else base64.b64encode(value).decode()
    return orjson.dumps(
        {"topic": TOPIC, "partition": 0, "offset": offset, "key": None,
         "value": encoded}
    )  # fmt: skip


def test_lifeline_decode_reads_lifecycle_records_of_both_framings(
    registry: FakeRegistry,
) -> None:
    framed = frame(ids_for(registry, "record_name"), "PaymentReceived")
    single = EventCodec(SCHEMAS).encode(sample("OrderPlaced"))
    lines = [_line(framed, 0), _line(single, 1), _line(b"\x07junk", 2), b"[]"]
    out = io.BytesIO()

    errors = decode_lifecycle_stream(
        lifecycle_codec(SchemaRegistrySettings(), registry.url), lines, out
    )

    payment, order, junk, bad_line = map(orjson.loads, out.getvalue().splitlines())
    assert errors == 2
    assert payment["event_type"] == "PaymentReceived"
    assert payment["event_id"] == str(sample("PaymentReceived").event_id)
    assert order["event_type"] == "OrderPlaced"
    assert (junk["error"]["kind"], junk["error"]["offset"]) == ("bad_framing", 2)
    assert bad_line["error"]["kind"] == "malformed_input"


def test_lifeline_decode_names_a_bad_registry_url() -> None:
    with pytest.raises(FatalError, match=r"--registry 127\.0\.0\.1:1"):
        lifecycle_codec(SchemaRegistrySettings(), "127.0.0.1:1")
