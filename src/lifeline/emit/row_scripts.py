"""Version-guarded writes of source rows to Redis, as Lua scripts.

A row is a hash ``{row, position, source_ts_ms, cached_at_ms}``. A write
applies only when its position is newer than the stored one, compared as
strings (``SourcePosition.encode`` is byte-order comparable). A delete removes
the hash and leaves a tombstone key holding the delete's position for
``tombstone_ttl`` seconds, so a replayed older upsert cannot resurrect the row.
Replays after a crash therefore never move the cache backwards.
"""

from __future__ import annotations

# KEYS: row key, tombstone key. ARGV: position, row JSON, source ts, cached at.
UPSERT = """
local stored = redis.call('HGET', KEYS[1], 'position')
local tomb = redis.call('GET', KEYS[2])
if (stored and stored >= ARGV[1]) or (tomb and tomb >= ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'row', ARGV[2], 'position', ARGV[1],
           'source_ts_ms', ARGV[3], 'cached_at_ms', ARGV[4])
if tomb then redis.call('DEL', KEYS[2]) end
return 1
"""

# KEYS: row key, tombstone key. ARGV: position, tombstone TTL in seconds.
DELETE = """
local stored = redis.call('HGET', KEYS[1], 'position')
local tomb = redis.call('GET', KEYS[2])
if (stored and stored >= ARGV[1]) or (tomb and tomb >= ARGV[1]) then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1], 'EX', tonumber(ARGV[2]))
return 1
"""
