"""The Lua script that applies cache changes atomically (Redis 7 or later).

One call applies a chunk of changes in order, each one completely: it
compares versions, rewrites the golden record and moves every index entry the
change affects, so readers see the state before or after a change, never a
mix. The ``#!lua`` line makes Redis refuse the whole call up front when it is
out of memory, instead of failing half-way through at the first write.

``KEYS[1]`` is the golden key of the first change, declared for servers that
require a key; the script builds the other keys itself from the layout of
:mod:`lifeline.cache.keys` (so it needs a single primary, not Redis Cluster).
``ARGV`` is ``prefix, updated_at, tombstone TTL in ms (0: none), changes,
blob``. The JSON texts (record, open invoices, entitlements) travel
concatenated in ``blob`` and the changes name them by 1-based offset and
length: Lua's JSON decoder is slow on long escaped strings, and the cache
stores these texts as they are. ``changes`` is a JSON array of:

* ``["U", gid, version, record at, record length, stage ("" keeps it),
  [source ids], [email hashes], invoices at, invoices length, entitlements
  at, entitlements length]``, an offset of 0 keeping the stored field;
* ``["D", gid, version]``;
* ``["M", survivor, version, [absorbed gids]]``.

It returns one integer per change: 1 applied, 0 stale. When a change fails
it stops there and returns an error naming the change's golden id (changes
before it stay applied; re-sending the chunk is harmless).
"""

from __future__ import annotations

import hashlib

APPLY_LUA = r"""#!lua
local P, NOW, TTL, BLOB = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[5]
local MAX_HOPS = 32
-- Fields a merge copies from absorbed records into a survivor lacking them.
local FILLED = {'stage', 'open_invoices', 'entitlements'}

local function golden(g) return P .. ':golden:' .. g end
local function tomb(g) return P .. ':tomb:' .. g end
local function redirect(g) return P .. ':merged:' .. g end
local function src_index(s) return P .. ':idx:src:' .. s end
local function email_index(e) return P .. ':idx:email:' .. e end

-- a < b byte by byte: Lua's own < follows the server's collation locale.
local function older(a, b)
  if a == b then return false end
  local n = math.min(#a, #b)
  local i = 1
  while i + 7 <= n and string.sub(a, i, i + 7) == string.sub(b, i, i + 7) do
    i = i + 8
  end
  while i <= n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
    i = i + 1
  end
  return #a < #b
end

local function decode_list(text)
  if not text or text == '[]' then return {} end
  return cjson.decode(text)
end

local function encode_list(list)
  if #list == 0 then return '[]' end
  return cjson.encode(list)
end

local function as_set(list)
  local set = {}
  for _, item in ipairs(list) do set[item] = true end
  return set
end

local function union(list, more)
  local set = as_set(list)
  for _, item in ipairs(more) do
    if not set[item] then
      set[item] = true
      list[#list + 1] = item
    end
  end
  return list
end

-- Version of a golden id without a live record: its tombstone or redirect.
local function dead_version(g)
  local found = redis.call('MGET', tomb(g), redirect(g))
  if found[1] then return found[1], 'tomb' end
  if found[2] then return cjson.decode(found[2]).version, 'merged' end
  return nil, nil
end

-- Owner h keeps source id s against a claim at version v when h is live,
-- still lists s and is newer than v.
local function keeps(h, s, v)
  local cur = redis.call('HMGET', golden(h), 'version', 'source_ids')
  if not cur[1] or not older(v, cur[1]) then return false end
  for _, listed in ipairs(decode_list(cur[2])) do
    if listed == s then return true end
  end
  return false
end

local function move_sources(g, v, old, new)
  local keep = as_set(new)
  for _, s in ipairs(old) do
    if not keep[s] and redis.call('GET', src_index(s)) == g then
      redis.call('DEL', src_index(s))
    end
  end
  if #new == 0 then return end
  local keys = {}
  for i, s in ipairs(new) do keys[i] = src_index(s) end
  local owners = redis.call('MGET', unpack(keys))
  for i, s in ipairs(new) do
    local h = owners[i]
    if h ~= g and not (h and keeps(h, s, v)) then
      redis.call('SET', keys[i], g)
    end
  end
end

local function move_emails(g, old, new)
  local had, keep = as_set(old), as_set(new)
  for _, e in ipairs(old) do
    if not keep[e] then redis.call('SREM', email_index(e), g) end
  end
  for _, e in ipairs(new) do
    if not had[e] then redis.call('SADD', email_index(e), g) end
  end
end

-- Appends field and value to a flat HSET list unless value is false.
local function put(fields, name, value)
  if value then
    fields[#fields + 1] = name
    fields[#fields + 1] = value
  end
end

local function piece(at, length) return string.sub(BLOB, at, at + length - 1) end

-- c: {'U', gid, version, record at, record length, stage, sources, emails,
--     invoices at, invoices length, entitlements at, entitlements length};
-- at 0 keeps the stored field.
local function upsert(c)
  local g, v = c[2], c[3]
  local cur = redis.call('HMGET', golden(g), 'version', 'source_ids', 'email_hashes')
  if cur[1] then
    if not older(cur[1], v) then return 0 end
  else
    local dead, state = dead_version(g)
    if dead and not older(dead, v) then return 0 end
    if state then redis.call('DEL', tomb(g), redirect(g)) end
  end
  -- Unchanged lists (the common case) need no diff; source claims are
  -- checked again all the same, as a newer owner may have let one go.
  local src_text, em_text = encode_list(c[7]), encode_list(c[8])
  local same_src, same_em = cur[2] == src_text, cur[3] == em_text
  move_sources(g, v, same_src and {} or decode_list(cur[2]), c[7])
  if not same_em then move_emails(g, decode_list(cur[3]), c[8]) end
  local fields = {'version', v, 'record', piece(c[4], c[5]), 'updated_at', NOW}
  put(fields, 'source_ids', not same_src and src_text)
  put(fields, 'email_hashes', not same_em and em_text)
  put(fields, 'stage', c[6] ~= '' and c[6])
  put(fields, 'open_invoices', c[9] > 0 and piece(c[9], c[10]))
  put(fields, 'entitlements', c[11] > 0 and piece(c[11], c[12]))
  redis.call('HSET', golden(g), unpack(fields))
  return 1
end

local function delete(c)
  local g, v = c[2], c[3]
  local cur = redis.call('HMGET', golden(g), 'version', 'source_ids', 'email_hashes')
  if cur[1] then
    if not older(cur[1], v) then return 0 end
    move_sources(g, v, decode_list(cur[2]), {})
    move_emails(g, decode_list(cur[3]), {})
    redis.call('DEL', golden(g))
  else
    local dead = dead_version(g)
    if dead and not older(dead, v) then return 0 end
    redis.call('DEL', redirect(g))
  end
  if TTL > 0 then
    redis.call('SET', tomb(g), v, 'PX', TTL)
  else
    redis.call('SET', tomb(g), v)
  end
  return 1
end

-- Where absorbed records go: the live survivor, following redirects written
-- at or after v; 'gone' when that was deleted at or after v; else 'revive'.
local function resolve(s, v)
  local x, seen = s, {}
  for _ = 1, MAX_HOPS do
    if seen[x] then break end
    seen[x] = true
    if redis.call('HEXISTS', golden(x), 'version') == 1 then return x, 'live' end
    local found = redis.call('MGET', tomb(x), redirect(x))
    if found[1] then
      if older(found[1], v) then return x, 'revive' end
      return x, 'gone'
    end
    if not found[2] then return x, 'revive' end
    local r = cjson.decode(found[2])
    if older(r.version, v) then return x, 'revive' end
    x = r.survivor
  end
  return s, 'revive'
end

-- Ids merged into a earlier redirect to target now: redirects stay one hop.
local function repoint_redirects(a, listed, target, moved)
  for _, m in ipairs(decode_list(listed)) do
    local text = redis.call('GET', redirect(m))
    local r = text and cjson.decode(text)
    if r and r.survivor == a then
      redis.call('SET', redirect(m),
                 cjson.encode({survivor = target, version = r.version}))
      moved.merged[#moved.merged + 1] = m
    end
  end
end

local function move_absorbed(a, target, mode, moved)
  local cur = redis.call('HMGET', golden(a), 'source_ids', 'email_hashes',
                         'merged_ids', 'record', unpack(FILLED))
  repoint_redirects(a, cur[3], target, moved)
  for _, s in ipairs(decode_list(cur[1])) do
    if redis.call('GET', src_index(s)) == a then
      if mode == 'gone' then
        redis.call('DEL', src_index(s))
      else
        redis.call('SET', src_index(s), target)
        moved.src[#moved.src + 1] = s
      end
    end
  end
  for _, e in ipairs(decode_list(cur[2])) do
    redis.call('SREM', email_index(e), a)
    if mode ~= 'gone' then
      redis.call('SADD', email_index(e), target)
      moved.em[#moved.em + 1] = e
    end
  end
  moved.record = moved.record or cur[4]
  for i, field in ipairs(FILLED) do
    moved.fill[field] = moved.fill[field] or cur[4 + i]
  end
  redis.call('DEL', golden(a))
end

local function absorb(a, v, target, mode, moved)
  local live = redis.call('HGET', golden(a), 'version')
  local current = live or dead_version(a)
  if current and not older(current, v) then return false end
  if live then move_absorbed(a, target, mode, moved) end
  redis.call('DEL', tomb(a))
  redis.call('SET', redirect(a), cjson.encode({survivor = target, version = v}))
  moved.merged[#moved.merged + 1] = a
  return true
end

local function settle_survivor(target, mode, v, moved)
  if mode == 'live' then
    local cur = redis.call('HMGET', golden(target), 'version', 'source_ids',
                           'email_hashes', 'merged_ids')
    local version = cur[1]
    if older(version, v) then version = v end
    redis.call('HSET', golden(target), 'version', version,
               'updated_at', NOW,
               'source_ids', encode_list(union(decode_list(cur[2]), moved.src)),
               'email_hashes', encode_list(union(decode_list(cur[3]), moved.em)),
               'merged_ids', encode_list(union(decode_list(cur[4]), moved.merged)))
    for _, field in ipairs(FILLED) do
      if moved.fill[field] then
        redis.call('HSETNX', golden(target), field, moved.fill[field])
      end
    end
  elseif mode == 'revive' and moved.record then
    redis.call('DEL', tomb(target), redirect(target))
    local fields = {'version', v, 'record', moved.record, 'updated_at', NOW,
                    'source_ids', encode_list(union({}, moved.src)),
                    'email_hashes', encode_list(union({}, moved.em)),
                    'merged_ids', encode_list(union({}, moved.merged))}
    for _, field in ipairs(FILLED) do
      if moved.fill[field] then
        fields[#fields + 1] = field
        fields[#fields + 1] = moved.fill[field]
      end
    end
    redis.call('HSET', golden(target), unpack(fields))
  end
end

local function merge(c)
  local s, v = c[2], c[3]
  local target, mode = resolve(s, v)
  local moved = {src = {}, em = {}, merged = {}, fill = {}}
  local seen = {[target] = true, [s] = true}
  local applied = false
  for _, a in ipairs(c[4]) do
    if not seen[a] then
      seen[a] = true
      if absorb(a, v, target, mode, moved) then applied = true end
    end
  end
  if not applied then return 0 end
  settle_survivor(target, mode, v, moved)
  return 1
end

local OPS = {U = upsert, D = delete, M = merge}

local function apply(c)
  local op = OPS[c[1]]
  if not op then error('unknown op') end
  return op(c)
end

local results = {}
for i, c in ipairs(cjson.decode(ARGV[4])) do
  local ok, res = pcall(apply, c)
  if not ok then
    local reason = type(res) == 'table' and res.err or tostring(res)
    return redis.error_reply(reason .. ' (golden id ' .. tostring(c[2]) .. ')')
  end
  results[i] = res
end
return results
"""

APPLY_SHA = hashlib.sha1(APPLY_LUA.encode(), usedforsecurity=False).hexdigest()
