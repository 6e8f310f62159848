"""The read-only Lua script that looks a golden record up in one atomic step.

A reader that follows the index and the redirects with separate commands can
lose a race against a writer that keeps merging: every hop may land on an id
merged away a moment earlier. The script resolves the index, follows the
redirects and reads the record inside Redis, between two writes, so what it
returns is one consistent state. ``#!lua flags=no-writes`` lets it run with
``EVALSHA_RO`` on a primary or a replica.

``ARGV`` is ``prefix, kind, value``: kind ``g`` (a golden id), ``s`` (a
source id) or ``e`` (a SHA-256 email hash). It returns one entry per record
found, each ``{golden id, {ids followed}, {field, value, ...}}``; no entries
when nothing matches (unknown id, deleted, a redirect loop or more than
``MAX_HOPS`` hops).
"""

from __future__ import annotations

import hashlib

READ_LUA = r"""#!lua flags=no-writes
local P, KIND, VALUE = ARGV[1], ARGV[2], ARGV[3]
local MAX_HOPS = 32

local function follow(g)
  local chain, seen = {}, {}
  for _ = 1, MAX_HOPS do
    local fields = redis.call('HGETALL', P .. ':golden:' .. g)
    if #fields > 0 then return {g, chain, fields} end
    local moved = redis.call('GET', P .. ':merged:' .. g)
    if not moved then return nil end
    seen[g] = true
    chain[#chain + 1] = g
    g = cjson.decode(moved).survivor
    if seen[g] then return nil end
  end
  return nil
end

local found = {}
if KIND == 'g' then
  found[1] = follow(VALUE)
elseif KIND == 's' then
  local g = redis.call('GET', P .. ':idx:src:' .. VALUE)
  if g then found[1] = follow(g) end
elseif KIND == 'e' then
  local members = redis.call('SMEMBERS', P .. ':idx:email:' .. VALUE)
  table.sort(members)
  local taken = {}
  for _, g in ipairs(members) do
    local entry = follow(g)
    if entry and not taken[entry[1]] then
      taken[entry[1]] = true
      found[#found + 1] = entry
    end
  end
end
return found
"""

READ_SHA = hashlib.sha1(READ_LUA.encode()).hexdigest()  # noqa: S324 - Redis's id
