"""The type_zoo tables, the changes made to them, and the connector variants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from lifeline.settings import Settings

PLACEHOLDER = "__debezium_unavailable_value"

# prefix -> what the variant's connector sets besides the common settings
VARIANTS: dict[str, dict[str, str]] = {
    "zpa": {"db": "postgres", "schemas": "true", "decimal": "precise", "tx": "true"},
    "zpb": {"db": "postgres", "schemas": "false", "decimal": "precise"},
    "zpc": {"db": "postgres", "schemas": "true", "decimal": "string"},
    "zpd": {
        "db": "postgres",
        "schemas": "true",
        "decimal": "double",
        "time": "connect",
    },
    "zpe": {"db": "postgres", "avro": "true", "decimal": "precise"},
    "zma": {"db": "mariadb", "schemas": "true", "decimal": "precise", "tx": "true"},
    "zmb": {"db": "mariadb", "schemas": "false", "decimal": "precise"},
    "zmc": {"db": "mariadb", "schemas": "true", "decimal": "string"},
    "zmd": {"db": "mariadb", "schemas": "true", "decimal": "double", "time": "connect"},
    "zme": {"db": "mariadb", "avro": "true", "decimal": "precise"},
}

# Large enough to be stored out of line (TOAST) with STORAGE EXTERNAL.
BIG_TEXT = "".join(f"{n:08x}" for n in range(320))
BIG_JSON = '{"items": [' + ",".join(f'"{n:05d}"' for n in range(320)) + "]}"

PG_DDL = """
DROP TABLE IF EXISTS type_zoo;
DROP TYPE IF EXISTS mood;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE type_zoo (
    id integer PRIMARY KEY,
    small_v smallint, big_v bigint, flag boolean, real_v real,
    dbl_v double precision, num_v numeric(12, 3), num_free numeric,
    money_v money, txt text, vchar varchar(20), chr char(3), bin bytea,
    d date, t time, t6 time(6), ttz timetz, ts timestamp(6), tstz timestamptz,
    iv interval, js json, jsb jsonb, uid uuid, mood_v mood, bits bit(10),
    vbits varbit(16), arr_int integer[], arr_txt text[], arr_num numeric(6, 2)[],
    inet_v inet, ts_inf timestamp, big_txt text, big_bin bytea
);
ALTER TABLE type_zoo ALTER COLUMN big_txt SET STORAGE EXTERNAL;
ALTER TABLE type_zoo ALTER COLUMN big_bin SET STORAGE EXTERNAL;
ALTER TABLE type_zoo ALTER COLUMN jsb SET STORAGE EXTERNAL;
ALTER TABLE type_zoo ALTER COLUMN arr_txt SET STORAGE EXTERNAL;
DROP PUBLICATION IF EXISTS zoo_pub;
CREATE PUBLICATION zoo_pub FOR TABLE type_zoo;
"""

PG_FULL_ROW = """
INSERT INTO type_zoo VALUES (
    %(id)s, -32768, 9223372036854775807, true, 1.5, 2.25, 123456789.123,
    12345678901234567890.123456789012, 1234.56, 'text ünïcode ✓', 'varchar',
    'ab', '\\x00ff10', '2024-02-29', '13:45:00.5', '23:59:59.999999',
    '10:15:30+02', '2026-12-04 10:00:00.123456', '2026-12-04 10:00:00.123456+02',
    '1 year 2 months 3 days 04:05:06.7', '{"a": [1, 2.5, null]}',
    %(big_json)s, '6f1c2c9e-2f4b-4c2a-9a4e-0d1e2f3a4b5c', 'happy', B'1000000101',
    B'101', '{1,2,3}', %(big_array)s, '{1.25,-3.50}', '192.168.0.1/24',
    '2026-01-01 00:00:00', %(big_text)s, %(big_bin)s
)
"""


def postgres_dsn(settings: Settings, database: str) -> str:
    pg = settings.postgres
    return (
        f"host={pg.host} port={pg.port} dbname={database} "
        f"user={pg.user} password={pg.password.get_secret_value()}"
    )


def _pg_values(row_id: int) -> dict[str, Any]:
    return {
        "id": row_id,
        "big_json": BIG_JSON,
        "big_array": [BIG_TEXT, "b"],
        "big_text": BIG_TEXT,
        "big_bin": BIG_TEXT.encode(),
    }


def create_postgres(admin: psycopg.Connection[Any], settings: Settings) -> None:
    """The zoo database and table, and two rows for the snapshot."""
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = 'zoo'").fetchone()
    if exists is None:
        admin.execute("CREATE DATABASE zoo")
    with psycopg.connect(postgres_dsn(settings, "zoo"), autocommit=True) as conn:
        conn.execute(PG_DDL)
        conn.execute(PG_FULL_ROW, _pg_values(1))
        conn.execute("INSERT INTO type_zoo (id) VALUES (2)")


def stream_postgres(settings: Settings) -> None:
    """The streamed changes, each commented with what it shows."""
    with psycopg.connect(postgres_dsn(settings, "zoo"), autocommit=True) as conn:
        conn.execute(PG_FULL_ROW, _pg_values(3))  # create
        conn.execute(  # extremes and special values
            "INSERT INTO type_zoo (id, num_v, num_free, dbl_v, real_v, ts_inf, "
            "d, t, tstz, iv, money_v) VALUES (4, -999999999.999, 'NaN', 'NaN', "
            "'-Infinity', 'infinity', '0001-01-01', '24:00:00', "
            "'1970-01-01 00:00:00+00', '-1 day -00:00:01', -0.01)"
        )
        # unchanged TOASTed columns (REPLICA IDENTITY DEFAULT: no before)
        conn.execute("UPDATE type_zoo SET small_v = 7 WHERE id = 3")
        conn.execute("UPDATE type_zoo SET id = 30 WHERE id = 3")  # key change
        conn.execute("DELETE FROM type_zoo WHERE id = 2")  # key-only before
        conn.execute("SELECT pg_logical_emit_message(true, 'audit', 'hello')")
        conn.execute("ALTER TABLE type_zoo ADD COLUMN added text DEFAULT 'new'")
        conn.execute("INSERT INTO type_zoo (id, added) VALUES (5, 'added')")
        conn.execute("ALTER TABLE type_zoo DROP COLUMN added")
        conn.execute("INSERT INTO type_zoo (id) VALUES (6)")
        with conn.transaction():  # two changes, one transaction
            conn.execute("INSERT INTO type_zoo (id) VALUES (7)")
            conn.execute("UPDATE type_zoo SET txt = 'seven' WHERE id = 7")
        conn.execute("TRUNCATE type_zoo")


MY_DDL = [
    "CREATE DATABASE IF NOT EXISTS zoo",
    "USE zoo",
    "DROP TABLE IF EXISTS type_zoo",
    """CREATE TABLE type_zoo (
        id int PRIMARY KEY,
        tiny_v tinyint, small_v smallint, med_v mediumint, big_v bigint,
        ubig_v bigint unsigned, flag boolean, bit1 bit(1), bits bit(10),
        f_v float, d_v double, dec_v decimal(12, 3), dec_big decimal(38, 10),
        txt text, vchar varchar(20), chr char(3), bin varbinary(16), blob_v blob,
        dt date, tm time, tm6 time(6), dtm datetime, dtm6 datetime(6),
        ts timestamp(6) NULL DEFAULT NULL, yr year, js json,
        en enum('a', 'b', 'c'), st set('x', 'y', 'z'),
        zero_d date NULL, zero_dtm datetime NOT NULL DEFAULT '2000-01-01 00:00:00'
    ) DEFAULT CHARSET = utf8mb4""",
]

MY_FULL_ROW = """
INSERT INTO type_zoo VALUES (
    %s, -128, -32768, 8388607, -9223372036854775808, 18446744073709551615,
    true, b'1', b'1000000101', 1.5, 2.25, 123456789.123,
    1234567890123456789012345678.1234567890, 'text ünïcode ✓', 'varchar', 'ab',
    x'00ff10', x'cafe', '2024-02-29', '-838:59:59', '838:59:59.000000',
    '2026-12-04 10:00:00', '2026-12-04 10:00:00.123456',
    '2026-12-04 10:00:00.123456', 2024, '{"a": [1, 2.5, null]}', 'b', 'x,z',
    '0000-00-00', '0000-00-00 00:00:00'
)
"""


def mariadb_kwargs(settings: Settings) -> dict[str, Any]:
    db = settings.mariadb
    return {
        "host": db.host,
        "port": db.port,
        "user": db.user,
        "password": db.password.get_secret_value(),
        "charset": "utf8mb4",
        "init_command": "SET SESSION sql_mode = ''",
    }


def create_mariadb(conn: Any) -> None:
    """The zoo database and table, and two rows for the snapshot."""
    with conn.cursor() as cursor:
        for statement in MY_DDL:
            cursor.execute(statement)
        cursor.execute(MY_FULL_ROW, (1,))
        cursor.execute("INSERT INTO type_zoo (id) VALUES (2)")


def stream_mariadb(conn: Any) -> None:
    """The streamed changes, each commented with what it shows."""
    with conn.cursor() as cursor:
        cursor.execute("USE zoo")
        cursor.execute(MY_FULL_ROW, (3,))  # create
        cursor.execute(  # extremes
            "INSERT INTO type_zoo (id, dec_v, tm, dt, dtm) VALUES "
            "(4, -999999999.999, '-00:00:01', '1000-01-01', '9999-12-31 23:59:59')"
        )
        cursor.execute("UPDATE type_zoo SET small_v = 7 WHERE id = 3")
        # two key changes in one rows event: delete+create at one position
        cursor.execute("UPDATE type_zoo SET id = id + 100 WHERE id IN (1, 2)")
        cursor.execute("DELETE FROM type_zoo WHERE id = 4")
        cursor.execute("ALTER TABLE type_zoo ADD COLUMN added varchar(10)")
        cursor.execute("INSERT INTO type_zoo (id, added) VALUES (5, 'added')")
        cursor.execute("ALTER TABLE type_zoo DROP COLUMN added")
        cursor.execute("INSERT INTO type_zoo (id) VALUES (6)")
        cursor.execute("BEGIN")
        cursor.execute("INSERT INTO type_zoo (id) VALUES (7)")
        cursor.execute("UPDATE type_zoo SET txt = 'seven' WHERE id = 7")
        cursor.execute("COMMIT")
        cursor.execute("TRUNCATE TABLE type_zoo")


def _converters(variant: dict[str, str], registry: str) -> dict[str, str]:
    if variant.get("avro") == "true":
        avro = "io.confluent.connect.avro.AvroConverter"
        return {
            "key.converter": avro,
            "key.converter.schema.registry.url": registry,
            "value.converter": avro,
            "value.converter.schema.registry.url": registry,
        }
    json_converter = "org.apache.kafka.connect.json.JsonConverter"
    return {
        "key.converter": json_converter,
        "key.converter.schemas.enable": variant["schemas"],
        "value.converter": json_converter,
        "value.converter.schemas.enable": variant["schemas"],
    }


def _common(prefix: str, variant: dict[str, str], registry: str) -> dict[str, str]:
    config = {
        "tasks.max": "1",
        "topic.prefix": prefix,
        "decimal.handling.mode": variant["decimal"],
        "provide.transaction.metadata": variant.get("tx", "false"),
        "tombstones.on.delete": "true",
        "skipped.operations": "none",
        "snapshot.mode": "initial",
        "poll.interval.ms": "50",
        "topic.creation.default.partitions": "1",
        "topic.creation.default.replication.factor": "1",
        **_converters(variant, registry),
    }
    if "time" in variant:
        config["time.precision.mode"] = variant["time"]
    return config


def connectors(settings: Settings, registry: str) -> dict[str, dict[str, str]]:
    """One connector config per variant."""
    history = (Path(settings.state_dir) / "connect" / "zoo-history").resolve()
    history.mkdir(parents=True, exist_ok=True)
    configs = {}
    for number, (prefix, variant) in enumerate(VARIANTS.items()):
        config = _common(prefix, variant, registry)
        if variant["db"] == "postgres":
            pg = settings.postgres
            config |= {
                "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                "plugin.name": "pgoutput",
                "database.hostname": pg.host,
                "database.port": str(pg.port),
                "database.user": pg.user,
                "database.password": pg.password.get_secret_value(),
                "database.dbname": "zoo",
                "table.include.list": "public.type_zoo",
                "slot.name": f"zoo_{prefix}",
                "publication.name": "zoo_pub",
                "publication.autocreate.mode": "disabled",
            }
        else:
            db = settings.mariadb
            config |= {
                "connector.class": "io.debezium.connector.mysql.MySqlConnector",
                "database.hostname": db.host,
                "database.port": str(db.port),
                "database.user": db.user,
                "database.password": db.password.get_secret_value(),
                "database.server.id": str(5400 + number),
                "database.include.list": "zoo",
                "table.include.list": "zoo.type_zoo",
                "include.schema.changes": "false",
                "schema.history.internal": (
                    "io.debezium.storage.file.history.FileSchemaHistory"
                ),
                "schema.history.internal.file.filename": str(history / prefix),
            }
        configs[f"corpus-{prefix}"] = config
    return configs
