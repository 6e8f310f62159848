"""Builders and checks shared by the cache tests."""

from __future__ import annotations

from typing import Any

import redis

from lifeline.cache import Upsert, email_hash

# Checks, atomically, the invariants every cache change must keep:
# an index entry names a live record that lists it; every live record is in
# the email sets it lists; a golden id is live, tombstoned or redirected,
# never two at once; nothing else lives under <prefix>:golden:.
_INVARIANTS_LUA = r"""
local P = ARGV[1]
local bad = {}
local function golden(g) return P .. ':golden:' .. g end
local function lists(g, field, item)
  local text = redis.call('HGET', golden(g), field)
  if not text then return false end
  for _, x in ipairs(cjson.decode(text)) do
    if x == item then return true end
  end
  return false
end
for _, k in ipairs(redis.call('KEYS', P .. ':idx:src:*')) do
  local sid, g = string.sub(k, #P + 10), redis.call('GET', k)
  if not lists(g, 'source_ids', sid) then
    bad[#bad + 1] = 'source ' .. sid .. ' -> ' .. g .. ' which does not list it'
  end
end
for _, k in ipairs(redis.call('KEYS', P .. ':idx:email:*')) do
  local h = string.sub(k, #P + 12)
  for _, g in ipairs(redis.call('SMEMBERS', k)) do
    if not lists(g, 'email_hashes', h) then
      bad[#bad + 1] = 'email ' .. h .. ' has ' .. g .. ' which does not list it'
    end
  end
end
for _, k in ipairs(redis.call('KEYS', P .. ':golden:*')) do
  local rest = string.sub(k, #P + 9)
  local colon = string.find(rest, ':', 1, true)
  if colon then
    bad[#bad + 1] = k .. ' is not in the layout'
  else
    local text = redis.call('HGET', k, 'email_hashes')
    for _, h in ipairs(cjson.decode(text)) do
      if redis.call('SISMEMBER', P .. ':idx:email:' .. h, rest) == 0 then
        bad[#bad + 1] = rest .. ' missing from email set ' .. h
      end
    end
    if redis.call('EXISTS', P .. ':tomb:' .. rest, P .. ':merged:' .. rest) > 0 then
      bad[#bad + 1] = rest .. ' is live and tombstoned or merged'
    end
  end
end
return bad
"""


def violations(client: redis.Redis, prefix: str) -> list[str]:
    """Invariant violations under ``prefix``, read in one atomic script."""
    found: list[str] = client.eval(_INVARIANTS_LUA, 0, prefix)
    return found


def dump(client: redis.Redis, prefix: str) -> dict[str, Any]:
    """Every key under ``prefix`` with its value (strings, sets, hashes)."""
    out: dict[str, Any] = {}
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        kind = client.type(key)
        if kind == "string":
            out[key] = client.get(key)
        elif kind == "set":
            out[key] = client.smembers(key)
        elif kind == "hash":
            out[key] = client.hgetall(key)
    return out


def email(n: int) -> str:
    return email_hash(f"person{n}@example.com")


def upsert(gid: str, version: str, **kwargs: Any) -> Upsert:
    """An upsert whose record names its golden id and version."""
    record = {"name": f"customer {gid}", "at": version}
    return Upsert(gid, version, record, **kwargs)


def version(n: int) -> str:
    """A byte-order comparable version, like SourcePosition.encode()."""
    return f"p:{n:016x}"


def versioned_upserts(gids: int, versions: int) -> list[Upsert]:
    """Upserts of ``gids`` records at versions 1..``versions`` each.

    At version v record g lists source ``erp:g<g>-<v % 3>`` and email
    ``email(v % 5)``, so newer versions move index entries around.
    """
    return [
        upsert(
            f"g{g}",
            version(v),
            source_ids=[f"erp:g{g}-{v % 3}"],
            email_hashes=[email(v % 5)],
        )
        for g in range(gids)
        for v in range(1, versions + 1)
    ]


def apply_shuffled(port: int, prefix: str, seed: int, gids: int, versions: int) -> int:
    """Apply the versioned upserts, shuffled and partly duplicated, in batches.

    Runs in a separate process in the concurrency test; returns how many
    changes applied.
    """
    import random

    from lifeline.cache import GoldenCacheWriter

    rng = random.Random(seed)
    updates = versioned_upserts(gids, versions)
    updates += rng.sample(updates, len(updates) // 5)
    rng.shuffle(updates)
    client = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    try:
        writer = GoldenCacheWriter(client, prefix)
        applied = 0
        for start in range(0, len(updates), 100):
            applied += writer.apply(updates[start : start + 100]).applied
        return applied
    finally:
        client.close()


def stored_versions(
    client: redis.Redis, prefix: str, gids: list[str]
) -> list[str | None]:
    """The version each golden id holds: live record, tombstone or redirect."""
    import orjson

    pipe = client.pipeline(transaction=True)
    for gid in gids:
        pipe.hget(f"{prefix}:golden:{gid}", "version")
        pipe.get(f"{prefix}:tomb:{gid}")
        pipe.get(f"{prefix}:merged:{gid}")
    replies = pipe.execute()
    found: list[str | None] = []
    for i in range(0, len(replies), 3):
        live, tomb, redirect = replies[i : i + 3]
        if redirect is not None:
            redirect = orjson.loads(redirect)["version"]
        found.append(live or tomb or redirect)
    return found
