#!lua name=syncq
-- functions.lua - the syncq Redis Function library: every step that must be
-- atomic inside Redis. Each function touches the keys of one queue only (all
-- carry the {QUEUE} hash tag), so the library works on Redis Cluster.
--
-- Ready and in-flight entries are the producer's bytes, untouched, behind a
-- one-line wrapper that the fetch step adds on first sight (docs/DESIGN.md §5: never
-- re-serialise the payload; Lua cjson would turn [] into {} and round numbers):
--
--   ~syncq1 id=<tag> seen=<ms>[ ready=<ms>][ jid=<id>][ from=<id>][ root=<id>][ err=<pct>][ dead=<ms>]\n<raw>
--
-- The grammar is strict and the same as common/wrap.c's: id then seen, then
-- the other fields at most once each, in any order, one space apart; ids
-- (id, jid, from, root) 1..128 bytes of printable ASCII without spaces; times
-- 1..15 digits; err percent-encoded printable ASCII (4095 bytes decoded).
-- Anything else is a producer's raw bytes. A wrapper is only taken as one
-- when this library vouched for it (see vouch): a producer cannot push a
-- header naming another job's tag or id and take over its attempts, its
-- dead letter or its idempotency.
--
-- <tag> is the delivery tag: a UUIDv7-shaped id made from Redis TIME and an
-- INCR (Lua's math.random is unseeded in Redis). It is the job id unless the
-- envelope carries its own. Attempt and crash-delivery counters live beside the
-- entry in the queue's att hash, one field per tag holding attempts * 1000 +
-- crashes (deliveries since the job last ended an attempt cleanly; a job is a
-- poison pill at 3), so one HINCRBY 1001 counts a start. The bytes of a job
-- never change while it waits.
--
-- Every redis.call costs about as much as the work it does, so the hot
-- functions (fetch, step) batch their calls: RPOP/LPUSH/HMGET with many
-- elements, one RPUSH for all records of a step.
--
-- Versions (docs/DESIGN.md §12, rolling upgrades). LIBRARY_VERSION is a
-- number, bumped with any change; the build appends a digest of the record's
-- columns (.c<cksum>). A process loads its library only when none is loaded
-- or the loaded one is older (by number): it never replaces a newer one, so a
-- fleet of old and new workers does not flip the library back and forth.
-- LIBRARY_COMPAT is the oldest binary version this library still serves:
-- every function such a binary calls keeps its keys, arguments and replies
-- here. An older binary finding a newer library uses it when its version is
-- at least LIBRARY_COMPAT, else it stops (exit 78) asking to be upgraded.
-- Raise LIBRARY_COMPAT only when a change breaks an old caller, and never
-- past a release still running in the fleet (upgrade one release at a time).
--
-- Binaries up to version 20 knew no numbers: they compared syncq_version's
-- answer with their own string and replaced the library on any difference.
-- So syncq_version answers V20_ANSWER (what a version 20 binary expects,
-- same record columns) while LIBRARY_COMPAT <= 20; syncq_compat answers
-- {version, compat, full version} to versioned binaries.

local LIBRARY_VERSION = '23'
local LIBRARY_COMPAT = 20
local V20_ANSWER = '20'
local HDR = '~syncq1 '

-- The audit record's columns, {name, 't' text | 'n' number}, in order: the
-- build puts the list from common/record_cols.h here (and a digest of it
-- after LIBRARY_VERSION), so records are built and read by column name.
-- @RECORD_COLS@
local RECORD_COL = {} -- column name -> position (1 = job_id)
for i = 1, #RECORD_COLS do RECORD_COL[RECORD_COLS[i][1]] = i end -- plain loops: no globals while loading

-- col_list turns column names into what record_cols reads: the name wanted
-- at each position and the last position. Made at load, so a call copies out
-- only the columns it wants (the payload column may be a megabyte).
local function col_list(names)
    local at, last = {}, 0
    for i = 1, #names do
        local p = RECORD_COL[names[i]]
        at[p] = names[i]
        if p > last then last = p end
    end
    return {at = at, last = last}
end

-- record_cols reads a record line's columns of list (a col_list), still
-- COPY-escaped, into a table by column name.
local function record_cols(rec, list)
    local cols, at, pos, find = {}, list.at, 4, string.find -- a local: a step runs this loop per done job
    for i = 1, list.last do
        local tab = find(rec, '\t', pos, true)
        if not tab then -- the last column, before the newline
            if at[i] then cols[at[i]] = (string.gsub(string.sub(rec, pos), '\n$', '')) end
            break
        end
        if at[i] then cols[at[i]] = string.sub(rec, pos, tab - 1) end
        pos = tab + 1
    end
    return cols
end

local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local WRAP_FIELDS = {ready = 'ms', jid = 'id', from = 'id', root = 'id', err = 'pct', dead = 'ms', lost = 'lost'}
local WRAP_HDR_MAX = 16384

local function wrap_value_ok(kind, v)
    if kind == 'ms' then return #v <= 15 and string.find(v, '^%d+$') ~= nil end
    if string.find(v, '[^\33-\126]') then return false end
    if kind == 'id' then return #v <= 128 end
    if kind == 'lost' then return #v <= 151 end -- <reason>/<worker id> (docs/LEASES.md)
    local plain, n = string.gsub(v, '%%%x%x', '')
    return not string.find(plain, '%', 1, true) and #v - 2 * n <= 4095
end

-- wrap_parse reads entry e's wrapper line by the strict grammar above.
-- Returns a table of its fields and the raw bytes' first position, or nil
-- when e is not a well-formed wrapper (then all of e is raw bytes).
local function wrap_parse(e)
    if string.sub(e, 1, 8) ~= HDR then return nil end
    local nl = string.find(e, '\n', 9, true)
    if not nl or nl > WRAP_HDR_MAX then return nil end
    local hdr = string.sub(e, 9, nl - 1)
    if string.find(hdr, '^ ') or string.find(hdr, ' $') or string.find(hdr, '  ', 1, true) then return nil end
    local f, n = {}, 0
    for tok in string.gmatch(hdr, '[^ ]+') do
        n = n + 1
        local k, v = string.match(tok, '^(%l+)=(.+)$')
        if not k or f[k] then return nil end
        local kind = (n == 1 and k == 'id' and 'id') or (n == 2 and k == 'seen' and 'ms') or
            (n > 2 and WRAP_FIELDS[k])
        if not kind or not wrap_value_ok(kind, v) then return nil end
        f[k] = v
    end
    if n < 2 then return nil end
    return f, nl + 1
end

-- wraps_key: the hash of vouched wrappers of the queue of key k (any of
-- its keys): tag -> digest of the entry's identity and bytes.
local function wraps_key(k)
    return string.match(k, '^(.*{[^}]+}):') .. ':wraps'
end

local function digest(f, e, from)
    return redis.sha1hex(f.id .. ' ' .. (f.jid or '') .. ' ' .. (f.from or '') .. ' ' .. (f.root or '') .. '\n' ..
        string.sub(e, from))
end

-- vouch records that wrapped entry e, which this library is about to put on
-- a ready list, is genuine. fetch and claim take a wrapper as one only when
-- its tag is vouched for with the same identity (jid, from, root) and bytes,
-- and use the voucher up, so a copy of a genuine entry is raw bytes too.
local function vouch(wk, e)
    local f, from = wrap_parse(e)
    if f then redis.call('HSET', wk, f.id, digest(f, e, from)) end
end

-- vouched_tags returns, for each of entries got, its tag when it is a
-- wrapper this library vouched for (using the vouchers up), else false.
local function vouched_tags(wk, got)
    local tags, parsed, ask = {}, {}, {}
    for j = 1, #got do
        tags[j] = false
        local f, from = wrap_parse(got[j])
        if f then
            parsed[#parsed + 1] = {j, f, from}
            ask[#ask + 1] = f.id
        end
    end
    if #ask == 0 then return tags end
    local have = redis.call('HMGET', wk, unpack(ask))
    local used = {}
    for x, p in ipairs(parsed) do
        local j, f, from = p[1], p[2], p[3]
        if have[x] and have[x] == digest(f, got[j], from) and not used[f.id] then
            tags[j] = f.id
            used[f.id] = true
        end
    end
    local del = {}
    for t in pairs(used) do del[#del + 1] = t end
    if #del > 0 then redis.call('HDEL', wk, unpack(del)) end
    return tags
end

-- now_us is Redis TIME in microseconds: the one clock of every audit time
-- (enqueued, started, finished, event times; README "Audit times"). Exact:
-- a double holds integers to 2^53.
local function now_us()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- now_digits is now_us as string.format('%.0f') prints it, from TIME's own
-- strings (its seconds are never 0): formatting the double, and the
-- tonumber calls, cost more than a stamp.
local function now_digits()
    local t = redis.call('TIME')
    local usec = t[2]
    return t[1] .. string.sub('000000', #usec + 1) .. usec
end

-- stamp fills in the times a worker left to the step (common/record.h): the
-- step's Redis TIME (now: now_digits) for RECORD_NOW, and a retry's
-- due time (us) for DUE. Plain finds: a gsub tries its pattern at every byte.
local function stamp(rec, now, due_us)
    local p = string.find(rec, '\1NOW', 1, true)
    while p do
        rec = string.sub(rec, 1, p - 1) .. now .. string.sub(rec, p + 4)
        p = string.find(rec, '\1NOW', p + #now, true)
    end
    p = due_us and string.find(rec, '\1DUE', 1, true)
    if p then rec = string.sub(rec, 1, p - 1) .. string.format('%.0f', due_us) .. string.sub(rec, p + 4) end
    return rec
end

-- tag_for makes a UUIDv7-shaped delivery tag from Redis TIME milliseconds and
-- the queue's counter n; salt (one sha1 of the key per call) keeps tags of
-- different queues apart. Unique without randomness. A batch shares its
-- tag_head (all but the counter).
local function tag_head(ms, salt)
    local ts = string.format('%012x', ms)
    return string.sub(ts, 1, 8) .. '-' .. string.sub(ts, 9, 12) .. '-7' .. string.sub(salt, 1, 3) .. '-' ..
        '8' .. string.sub(salt, 4, 6) .. '-'
end

local function tag_tail(n) return string.format('%012x', n % 281474976710656) end

local function tag_for(n, ms, salt)
    return tag_head(ms, salt) .. tag_tail(n)
end

local function new_tag(seqkey, ms, salt)
    return tag_for(redis.call('INCR', seqkey), ms, salt)
end

-- split an entry into header fields (without the newline) and raw bytes
local function split(e)
    local nl = string.find(e, '\n', 1, true)
    if not nl then return e, '' end
    return string.sub(e, 1, nl - 1), string.sub(e, nl + 1)
end

-- set_field rewrites or appends one k=v field of a header
local function set_field(hdr, k, v)
    local pat = ' ' .. k .. '=[^ ]*'
    if string.find(hdr, pat) then
        return (string.gsub(hdr, pat, ' ' .. k .. '=' .. v, 1))
    end
    return hdr .. ' ' .. k .. '=' .. v
end

-- wrap wraps a raw entry (anything but a vouched-for wrapper) on first
-- sight. Returns the entry and its tag.
local function wrap(e, wk, seqkey, ms, salt)
    local tag = vouched_tags(wk, {e})[1]
    if tag then return e, tag end
    tag = new_tag(seqkey, ms, salt)
    return HDR .. 'id=' .. tag .. ' seen=' .. ms .. '\n' .. e, tag
end

local function counters(att, tag)
    local v = tonumber(redis.call('HGET', att, tag)) or 0
    return math.floor(v / 1000), v % 1000
end

-- Leases and fencing (docs/LEASES.md). A delivery is owned by the worker
-- whose in-flight list holds it; the worker id is the fencing token. A
-- requeue of a worker's lists (its lease ran out, or it died) adds the id to
-- the queue's fenced set in the same atomic step, and every later fetch,
-- claim or step under that id is refused with a FENCED error, so a zombie
-- can neither take new jobs nor write the outcome of one it lost. Worker ids
-- are never reused (host:pid:boot), so a fenced id stays fenced.
local FENCE_KEEP_MS = 86400000 -- a fenced id is remembered a day; a zombie lives at most TTL/2

-- base_wid splits <prefix>:{Q}:inflight:<wid> (same hash slot as the queue).
local function base_wid(inflight)
    return string.match(inflight, '^(.*{[^}]+}):inflight:(.*)$')
end

local function is_fenced(inflight)
    local base, wid = base_wid(inflight)
    return base ~= nil and redis.call('ZSCORE', base .. ':fenced', wid) ~= false
end

local function fenced_error(inflight)
    local _, wid = base_wid(inflight)
    return redis.error_reply('FENCED worker ' .. tostring(wid) .. ' lost its lease: its jobs were requeued')
end

-- crash_field: confirmed crashes of a job (its worker died by a signal while
-- Redis was reachable and its lease valid), counted by the master through
-- syncq_crash; the poison rule counts these, never deliveries lost to a
-- Redis outage or an expired lease.
local function crash_field(tag)
    return 'c:' .. tag
end

-- discard_record(rec, wid) turns a fenced worker's outcome record into an
-- event that says it was thrown away (defined below, after record()).
local discard_record

-- wrap_fresh wraps the entries of got that have no vouched tag, numbered by
-- one INCRBY for the batch; their tags share one head.
local function wrap_fresh(got, tags, seq, ms, salt)
    local fresh = 0
    for j = 1, #got do
        if not tags[j] then fresh = fresh + 1 end
    end
    if fresh == 0 then return end
    local k = redis.call('INCRBY', seq, fresh) - fresh
    local head, seen = tag_head(ms, salt), ' seen=' .. ms .. '\n'
    for j = 1, #got do
        if not tags[j] then
            k = k + 1
            tags[j] = head .. tag_tail(k)
            got[j] = HDR .. 'id=' .. tags[j] .. seen .. got[j]
        end
    end
end

-- fetch_reply: {0, fetch_us, entry, attempts, lost, crashes, ...} of the
-- wrapped entries got, with their counters read in one HMGET.
local function fetch_reply(t, got, tags, att)
    local fields = {}
    for j = 1, #got do
        fields[2 * j - 1] = tags[j]
        fields[2 * j] = crash_field(tags[j])
    end
    local c = redis.call('HMGET', att, unpack(fields))
    local out = {0, t[1] .. string.format('%06d', tonumber(t[2]))}
    for j = 1, #got do
        local v, o = tonumber(c[2 * j - 1]) or 0, 4 * j - 1
        out[o] = got[j]
        out[o + 1] = math.floor(v / 1000)
        out[o + 2] = v % 1000
        out[o + 3] = tonumber(c[2 * j]) or 0
    end
    return out
end

-- syncq_fetch KEYS: ready inflight outbox att seq paused  ARGV: max_batch outbox_max
-- Moves up to max_batch jobs into the caller's in-flight list. Reply:
-- {status, fetch_us, entry1, attempts1, lost1, crashes1, ...} (lost: deliveries
-- since the last clean end; crashes: those a master saw die); fetch_us is Redis
-- TIME in microseconds, the order jobs were taken in across queues (lanes
-- are tested on it); status 0 = ok, 1 = the
-- outbox is over its limit (PostgreSQL is behind), 2 = the queue is paused
-- (syncq queue pause): fetch nothing. A fenced worker gets a FENCED error.
local function fetch(keys, args)
    local ready, inflight, outbox, att, seq = keys[1], keys[2], keys[3], keys[4], keys[5]
    local n, limit = tonumber(args[1]), tonumber(args[2])
    if is_fenced(inflight) then return fenced_error(inflight) end
    if keys[6] and redis.call('EXISTS', keys[6]) == 1 then return {2} end
    if redis.call('LLEN', outbox) > limit then return {1} end
    local got = redis.call('RPOP', ready, n)
    if not got then return {0} end
    local t = redis.call('TIME')
    local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local tags = vouched_tags(wraps_key(ready), got)
    wrap_fresh(got, tags, seq, ms, redis.sha1hex(ready))
    redis.call('LPUSH', inflight, unpack(got))
    return fetch_reply(t, got, tags, att)
end

-- syncq_claim KEYS: inflight att seq [paused]
-- After a blocking BLMOVE put a job at the head of inflight: wrap it. A
-- queue paused while the worker waited gets the job back where BLMOVE took
-- it, unstarted and uncounted: {2}, as syncq_fetch answers (binaries of
-- version 21 name no paused key and skip this).
local function claim(keys, _)
    if is_fenced(keys[1]) then
        -- the BLMOVE ran after our requeue: put the job back for live workers
        local base = base_wid(keys[1])
        while redis.call('LMOVE', keys[1], base .. ':ready', 'LEFT', 'RIGHT') do end
        return fenced_error(keys[1])
    end
    if keys[4] and redis.call('EXISTS', keys[4]) == 1 then
        local base = base_wid(keys[1])
        redis.call('LMOVE', keys[1], base .. ':ready', 'LEFT', 'RIGHT')
        return {2}
    end
    local e = redis.call('LINDEX', keys[1], 0)
    if not e then return {0} end
    local t = redis.call('TIME')
    local w, tag = wrap(e, wraps_key(keys[1]), keys[3], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000),
        redis.sha1hex(keys[1]))
    if w ~= e then redis.call('LSET', keys[1], 0, w) end
    local a, d = counters(keys[2], tag)
    local c = tonumber(redis.call('HGET', keys[2], crash_field(tag))) or 0
    return {0, t[1] .. string.format('%06d', tonumber(t[2])), w, a, d, c}
end

-- is_tag says whether entry e carries tag (its header starts "~syncq1 id=<tag>").
local function is_tag(e, tag)
    if not e then return false end
    local n = #tag
    local c = string.byte(e, 12 + n)
    return string.sub(e, 12, 11 + n) == tag and (c == 32 or c == 10)
end

-- take removes the entry with tag from inflight; acks come in fetch order, so
-- it is nearly always the tail.
local function take(inflight, tag)
    local e = redis.call('RPOP', inflight)
    if is_tag(e, tag) then return e end
    if e then redis.call('RPUSH', inflight, e) end
    for _, x in ipairs(redis.call('LRANGE', inflight, 0, -1)) do
        if is_tag(x, tag) then
            redis.call('LREM', inflight, 1, x)
            return x
        end
    end
    return nil
end

-- idem_ok remembers that a job with this idempotency key succeeded, for
-- the window, so a redelivery (or a raw LPUSH twin) is not executed again.
local function idem_ok(inflight, key, spec)
    local base = string.match(inflight, '^(.*{[^}]+}):inflight:')
    local ttl, act = string.match(spec, '^(%d*) (.*)$')
    ttl = tonumber(ttl) or tonumber(redis.call('HGET', base .. ':config', (act or '') .. ':idempotency_ttl_s')) or 600
    redis.call('SET', base .. ':idok:' .. key, '1', 'EX', math.max(1, ttl))
end

local function trim_dead(dead, deadjobs, cap, max_age_ms, ms)
    local over = redis.call('ZCARD', dead) - cap
    if over > 0 then
        for _, id in ipairs(redis.call('ZRANGE', dead, 0, over - 1)) do
            redis.call('ZREM', dead, id)
            redis.call('HDEL', deadjobs, id)
        end
    end
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', dead, '-inf', ms - max_age_ms, 'LIMIT', 0, 100)) do
        redis.call('ZREM', dead, id)
        redis.call('HDEL', deadjobs, id)
    end
end

-- Producer events (docs/PROTOCOL.md "Producer events"): every job that ends
-- adds one entry to P:{Q}:events, a stream capped near EVENTS_MAX: a
-- notification channel for `syncq status --wait` and the clients' wait();
-- the audit table stays the truth.
local EVENTS_MAX = '10000'
local EVENT_END = {success = true, dead = true, conflict = true, superseded = true}

local function uncopy(v)
    if v == nil or v == '\\N' then return nil end
    if not string.find(v, '\\', 1, true) then return v end
    local map = {t = '\t', n = '\n', r = '\r', ['\\'] = '\\'}
    return (string.gsub(v, '\\(.)', function(c) return map[c] or c end))
end

-- publish names XADD's arguments in place, one call per shape of event: a
-- table built to unpack was garbage at every job's end
local function publish(events, id, st, result, err)
    if result and err then
        redis.call('XADD', events, 'MAXLEN', '~', EVENTS_MAX, '*', 'id', id, 'status', st, 'result', result,
            'error', err)
    elseif result then
        redis.call('XADD', events, 'MAXLEN', '~', EVENTS_MAX, '*', 'id', id, 'status', st, 'result', result)
    elseif err then
        redis.call('XADD', events, 'MAXLEN', '~', EVENTS_MAX, '*', 'id', id, 'status', st, 'error', err)
    else
        redis.call('XADD', events, 'MAXLEN', '~', EVENTS_MAX, '*', 'id', id, 'status', st)
    end
end

-- publish_record publishes the end of a job from its terminal audit record
-- (the worker masked the result and the error before building it).
local PUBLISHED = col_list({'job_id', 'status', 'result', 'last_error'})
local function publish_record(events, rec)
    local c = record_cols(rec, PUBLISHED)
    if not c.status or not EVENT_END[c.status] then return end
    publish(events, uncopy(c.job_id), c.status, uncopy(c.result), uncopy(c.last_error))
end

-- dead_member names a dead letter: the job's id, unless a dead letter of
-- another delivery holds that id already (a producer gave two jobs one id):
-- then <id>~<tag>, tag being this delivery's, so nothing a producer sends
-- overwrites another job's dead letter. syncq dlq lists the member; the
-- entry's wrapper and envelope still name the job.
local function dead_member(deadjobs, id, tag)
    local cur = redis.call('HGET', deadjobs, id)
    if not cur then return id end
    local f = wrap_parse(cur)
    if f and f.id == tag then return id end
    local m, k = id .. '~' .. tag, 1
    while redis.call('HEXISTS', deadjobs, m) == 1 do
        k = k + 1
        m = id .. '~' .. tag .. '.' .. k
    end
    return m
end

-- events_key: the producer events stream beside outbox key P:{Q}:outbox
-- (a plain suffix test: the gsub it replaces tried a pattern at every byte)
local function events_key(outbox)
    if string.sub(outbox, -7) ~= ':outbox' then return outbox end
    return string.sub(outbox, 1, -8) .. ':events'
end

-- retry_ack puts taken entry e in the retry set with header hdr, due after
-- arg: '<delay ms>' or '<delay ms> undo' (deferred: not an attempt). Returns
-- the due time (us) for the record's DUE.
local function retry_ack(att, retry, tag, arg, hdr, e, us)
    local _, raw = split(e)
    local delay, undo = string.match(arg, '^(%d+)( ?u?n?d?o?)$')
    redis.call('ZADD', retry, math.floor(us / 1000) + tonumber(delay), hdr .. '\n' .. raw)
    -- the attempt ended cleanly: keep attempts, clear crashes
    local a = counters(att, tag)
    if undo == ' undo' then a = a - 1 end
    if a > 0 then redis.call('HSET', att, tag, a * 1000) else redis.call('HDEL', att, tag) end
    redis.call('HDEL', att, crash_field(tag))
    return us + tonumber(delay) * 1000
end

-- dead_ack puts taken entry e in the dead-letter set as job id's (see
-- dead_member) with header hdr, and trims the set to step's args (cap, age).
local function dead_ack(dead, deadjobs, args, tag, id, hdr, e, ms)
    local _, raw = split(e)
    local m = dead_member(deadjobs, id, tag)
    redis.call('ZADD', dead, ms, m)
    redis.call('HSET', deadjobs, m, set_field(hdr, 'dead', ms) .. '\n' .. raw)
    trim_dead(dead, deadjobs, tonumber(args[1]), tonumber(args[2]), ms)
end

-- syncq_step KEYS: inflight outbox att retry dead deadjobs ready
-- ARGV: dead_cap dead_max_age_ms nacks
--       then per ack: tag disposition arg header record
--         done  : the job ended; push record
--         retry : arg = delay ms; the entry goes to the retry set with header
--         dead  : arg = job id; the entry goes to the dead-letter set with header
--         back  : arg = 1|0 (started); hand the job back without using an attempt
--       then: start_tag start_record ('' when no job starts)
-- Acknowledging a job and recording its outcome are one atomic step; the
-- records' times are this step's Redis TIME (stamp: started_at of the job it
-- starts, finished_at and event times of the jobs it acknowledges). Reply:
-- {acked, missing} (missing: entries already taken back by a reaper).
local function step(keys, args)
    local inflight, outbox, att, retry, dead, deadjobs, ready =
        keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], keys[7]
    local n, now = tonumber(args[3]), now_digits()
    local acked, missing = 0, 0
    local recs, done = {}, {}
    local events = events_key(outbox)
    local i = 4
    if is_fenced(inflight) then
        -- a zombie's late outcome: the live attempt owns the job's row now
        local _, wid = base_wid(inflight)
        for _ = 1, n do
            if args[i + 4] ~= '' then recs[#recs + 1] = discard_record(args[i + 4], wid) end
            i = i + 5
        end
        if #recs > 0 then redis.call('RPUSH', outbox, unpack(recs)) end
        return fenced_error(inflight)
    end
    for _ = 1, n do
        local tag, disp, arg, hdr, rec = args[i], args[i + 1], args[i + 2], args[i + 3], args[i + 4]
        local due_us
        i = i + 5
        local e = take(inflight, tag)
        if e then
            acked = acked + 1
            if disp == 'done' then
                done[#done + 1] = tag
                -- arg: the job's idempotency key; hdr: '<window s or empty> <service>/<action>'
                if arg ~= '' then idem_ok(inflight, arg, hdr) end
            elseif disp == 'retry' then
                due_us = retry_ack(att, retry, tag, arg, hdr, e, tonumber(now))
            elseif disp == 'dead' then
                dead_ack(dead, deadjobs, args, tag, arg, hdr, e, math.floor(tonumber(now) / 1000))
                done[#done + 1] = tag
            elseif disp == 'back' then
                -- arg 1: the job had started; give its attempt and delivery back
                vouch(wraps_key(ready), e)
                redis.call('RPUSH', ready, e)
                if arg == '1' and redis.call('HINCRBY', att, tag, -1001) <= 0 then
                    redis.call('HDEL', att, tag)
                end
            end
            if rec ~= '' then
                recs[#recs + 1] = stamp(rec, now, due_us)
                if disp ~= 'back' and disp ~= 'retry' then publish_record(events, rec) end
            end
        else
            missing = missing + 1
            -- a done job did run: its outcome is still the truth
            if disp == 'done' and rec ~= '' then
                recs[#recs + 1] = stamp(rec, now)
                publish_record(events, rec)
            end
        end
    end
    if #done > 0 then
        for j = 1, #done do done[#done + 1] = crash_field(done[j]) end
        redis.call('HDEL', att, unpack(done))
    end
    local stag, srec = args[i], args[i + 1]
    if stag and stag ~= '' then
        redis.call('HINCRBY', att, stag, '1001') -- a string: Redis formats a Lua number with %.17g
        if srec ~= '' then recs[#recs + 1] = stamp(srec, now) end
    end
    if #recs > 0 then redis.call('RPUSH', outbox, unpack(recs)) end
    return {acked, missing}
end

-- syncq_requeue KEYS: inflight ready owners claim outbox  ARGV: worker_id reason
-- Returns a dead worker's jobs to the front of its queue (oldest first) and
-- its claimed audit records to the front of the outbox, and fences the
-- worker id on this queue in the same step (docs/LEASES.md): from now on its
-- fetch, claim and step are refused. reason (lease: its heartbeat ran out;
-- exit: its master saw it die) and the id are stamped on each job's header
-- (lost=<reason>/<id>) so the next start's "lost" event names them.
local function requeue(keys, args)
    local inflight, ready, owners, claimk, outbox = keys[1], keys[2], keys[3], keys[4], keys[5]
    local wid, reason = args[1], args[2] or 'lease'
    local jobs, recs = 0, 0
    local wk = wraps_key(ready)
    local e = redis.call('LPOP', inflight)
    while e do
        if wrap_parse(e) then
            local hdr, raw = split(e)
            e = set_field(hdr, 'lost', reason .. '/' .. wid) .. '\n' .. raw
            vouch(wk, e)
        end
        redis.call('RPUSH', ready, e)
        jobs = jobs + 1
        e = redis.call('LPOP', inflight)
    end
    while redis.call('LMOVE', claimk, outbox, 'RIGHT', 'LEFT') do recs = recs + 1 end
    redis.call('SREM', owners, wid)
    local base = base_wid(inflight)
    if base then
        local ms = now_ms()
        redis.call('ZADD', base .. ':fenced', ms, wid)
        redis.call('ZREMRANGEBYSCORE', base .. ':fenced', '-inf', ms - FENCE_KEEP_MS)
    end
    return {jobs, recs}
end

-- syncq_record_push KEYS: outbox  ARGV: record...
-- Appends records built outside a step (the master's report of a child that
-- died mid-job) with their times stamped on Redis's clock, as a step would.
local function record_push(keys, args)
    local now = now_digits()
    for j = 1, #args do args[j] = stamp(args[j], now) end
    return redis.call('RPUSH', keys[1], unpack(args))
end

-- syncq_crash KEYS: inflight att outbox  ARGV: tag record
-- A master saw the worker holding job tag die (a signal, while Redis was
-- reachable and the lease valid): count a crash toward the poison rule and
-- push the crash record. Nothing happens (reply 0) when the worker was
-- fenced or the job is no longer in its list: then its delivery was lost to
-- a lease, not to the job.
local function crash(keys, args)
    local inflight, att, outbox = keys[1], keys[2], keys[3]
    if is_fenced(inflight) then return 0 end
    local found = false
    for _, x in ipairs(redis.call('LRANGE', inflight, 0, -1)) do
        if is_tag(x, args[1]) then found = true break end
    end
    if not found then return 0 end
    redis.call('HINCRBY', att, crash_field(args[1]), 1)
    -- the record's times on Redis's clock, as a step would stamp them
    if args[2] and args[2] ~= '' then redis.call('RPUSH', outbox, stamp(args[2], now_digits())) end
    return 1
end

-- syncq_outbox_claim KEYS: outbox claim  ARGV: max
-- Moves up to max audit records into the writer's claim list and returns
-- them; a claim left by an earlier failed write is returned first.
local function outbox_claim(keys, args)
    local outbox, claimk, n = keys[1], keys[2], tonumber(args[1])
    local held = redis.call('LRANGE', claimk, 0, n - 1)
    if #held > 0 then return held end
    local len = redis.call('LLEN', outbox)
    if len == 0 then return {} end
    if len <= n then
        -- the common case: take the whole outbox in O(1)
        redis.call('RENAME', outbox, claimk)
        return redis.call('LRANGE', claimk, 0, -1)
    end
    local items = redis.call('LRANGE', outbox, 0, n - 1)
    redis.call('LTRIM', outbox, #items, -1)
    for j = 1, #items, 1000 do
        redis.call('RPUSH', claimk, unpack(items, j, math.min(j + 999, #items)))
    end
    return items
end

-- syncq_outbox_done KEYS: claim  ARGV: count
-- Drops the first count claimed records once PostgreSQL has committed them.
local function outbox_done(keys, args)
    -- LLEN before LTRIM: on a Cluster slot being migrated, touching the list
    -- after LTRIM emptied (deleted) it is refused mid-script (docs/DESIGN.md §4)
    local left = redis.call('LLEN', keys[1]) - tonumber(args[1])
    redis.call('LTRIM', keys[1], tonumber(args[1]), -1)
    return math.max(left, 0)
end

-- syncq_promote KEYS: retry ready  ARGV: max
-- Moves due retries (by Redis's own clock) to the back of the ready list,
-- stamping ready=<ms> so the oldest-age alert measures time waiting to run.
-- ZREM decides ownership, so several masters promoting at once never move a
-- job twice.
local function promote(keys, args)
    local retry, ready = keys[1], keys[2]
    local ms = now_ms()
    local moved = 0
    for _, e in ipairs(redis.call('ZRANGEBYSCORE', retry, '-inf', ms, 'LIMIT', 0, tonumber(args[1]))) do
        if redis.call('ZREM', retry, e) == 1 then
            local hdr, raw = split(e)
            local w = set_field(hdr, 'ready', ms) .. '\n' .. raw
            vouch(wraps_key(ready), w)
            redis.call('LPUSH', ready, w)
            moved = moved + 1
        end
    end
    return moved
end

-- syncq_dlq_replay KEYS: dead deadjobs ready outbox
-- ARGV: job_id new_entry record...
-- Takes job_id out of the dead-letter set and queues new_entry (the same
-- bytes behind a new wrapper: a new job id, from=job_id) with its audit
-- records. ZREM decides: of two operators replaying one job at the same
-- moment, exactly one gets 1; the other gets 0 (not in dead-letter).
local function dlq_replay(keys, args)
    local dead, deadjobs, ready, outbox = keys[1], keys[2], keys[3], keys[4]
    if redis.call('ZREM', dead, args[1]) == 0 then return 0 end
    redis.call('HDEL', deadjobs, args[1])
    vouch(wraps_key(ready), args[2])
    redis.call('LPUSH', ready, args[2])
    if #args > 2 then redis.call('RPUSH', outbox, unpack(args, 3)) end
    return 1
end

-- syncq_push_entry KEYS: ready outbox  ARGV: entry record...
-- Queues a wrapped entry an operator's command built (syncq jobs retry: the
-- same bytes as a new job) with its audit records, vouching for the wrapper.
local function push_entry(keys, args)
    vouch(wraps_key(keys[1]), args[1])
    redis.call('LPUSH', keys[1], args[1])
    if #args > 1 then redis.call('RPUSH', keys[2], unpack(args, 2)) end
    return 1
end

-- syncq_dlq_purge KEYS: dead deadjobs outbox  ARGV: job_id record
-- Deletes one dead-letter entry; the record notes who purged it.
local function dlq_purge(keys, args)
    local dead, deadjobs, outbox = keys[1], keys[2], keys[3]
    if redis.call('ZREM', dead, args[1]) == 0 then return 0 end
    redis.call('HDEL', deadjobs, args[1])
    if args[2] and args[2] ~= '' then redis.call('RPUSH', outbox, args[2]) end
    return 1
end

-- ---------------------------------------------------------------------------
-- Enqueue: FCALL syncq_enqueue 1 <prefix>:{Q}:ready <envelope json> [masked payload]
--
-- One atomic step callable from any Redis client (docs/PROTOCOL.md). It
-- validates the envelope as the C validator does (the shared vectors in
-- tests/vectors/ are run through both), fills in id and enqueued_at by
-- splicing them into the producer's text (cjson would turn [] into {} and
-- round numbers), applies idempotency, delay and debounce, pushes, records
-- the job as queued in the audit outbox, and replies {id, state} with state
-- queued | delayed | debounced | duplicate. A bad envelope is an error reply
-- starting "ERR syncq: ". Every key it touches derives from the ready key,
-- so all of them carry the queue's {hash tag}.

local MAX_ENVELOPE = 1048576
local MAX_DEPTH = 64
local DEFAULT_IDEMPOTENCY_TTL_S = 600
local DEFAULT_DEBOUNCE_MS = 1000

-- salt_of caches the sha1 of a ready key (it names the queue in tags).
local salts = {}
local function salt_of(ready)
    local v = salts[ready]
    if not v then
        v = redis.sha1hex(ready)
        salts[ready] = v
    end
    return v
end

local function bad(msg) return redis.error_reply('ERR syncq: ' .. msg) end

-- utf8_error: nil when s is valid UTF-8 (RFC 3629), else a message. ASCII
-- runs are skipped with string.find, at C speed.
local function utf8_error(s)
    local i, n = 1, #s
    while true do
        i = string.find(s, '[\128-\255]', i)
        if not i then return nil end
        local c = string.byte(s, i)
        local len, min
        if c >= 0xC2 and c <= 0xDF then len, min = 2, 0x80
        elseif c >= 0xE0 and c <= 0xEF then len, min = 3, 0x800
        elseif c >= 0xF0 and c <= 0xF4 then len, min = 4, 0x10000
        else return 'invalid UTF-8 at byte ' .. (i - 1) end
        if i + len - 1 > n then return 'invalid UTF-8 at byte ' .. (i - 1) end
        local cp = c % (2 ^ (7 - len))
        for k = 1, len - 1 do
            local b = string.byte(s, i + k)
            if b < 0x80 or b > 0xBF then return 'invalid UTF-8 at byte ' .. (i - 1) end
            cp = cp * 64 + (b - 0x80)
        end
        if cp < min or (cp >= 0xD800 and cp <= 0xDFFF) or cp > 0x10FFFF then
            return 'invalid UTF-8 at byte ' .. (i - 1)
        end
        i = i + len
    end
end

-- json_number says whether token t follows the JSON number grammar
-- -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; cjson (and cJSON in the
-- worker) also take +5, 05 and 1.
local function json_number(t)
    local rest = string.match(t, '^%-?0(.*)$') or string.match(t, '^%-?[1-9]%d*(.*)$')
    if not rest then return false end
    rest = string.match(rest, '^%.%d+(.*)$') or rest
    rest = string.match(rest, '^[eE][%+%-]?%d+(.*)$') or rest
    return rest == ''
end

-- scan walks the text once (jumping between interesting bytes) and checks
-- what cjson lets through: NUL escapes, raw control characters in strings,
-- bare words (NaN, Infinity), numbers that are not JSON, nesting, duplicate
-- top-level keys. Returns nil, keys (top-level key -> first byte of its
-- value), at (top-level key -> position of its value) or an error.
local function scan(s)
    local i, depth, keys, at, top = 1, 0, {}, {}, nil
    while true do
        local p = string.find(s, '[%[%]{}"%a%d%+%-%.]', i)
        if not p then break end
        local c = string.sub(s, p, p)
        top = top or c
        if c == '"' then
            local j = p + 1
            while true do
                local q = string.find(s, '["\\%c]', j)
                if not q then return 'not JSON: unterminated string' end
                local b = string.byte(s, q)
                if b == 34 then j = q break end
                if b ~= 92 then return 'unescaped control character in string at byte ' .. (q - 1) end
                if string.sub(s, q + 1, q + 5) == 'u0000' then
                    return '\\u0000 escape at byte ' .. (q - 1) .. ' (NUL cannot be stored)'
                end
                j = q + 2
            end
            if depth == 1 then
                local colon = string.match(s, '^%s*:%s*()', j + 1)
                if colon then
                    local key = string.sub(s, p + 1, j - 1)
                    if string.find(key, '\\', 1, true) then -- escapes: decode them to compare
                        local ok, k = pcall(cjson.decode, string.sub(s, p, j))
                        if not ok then return 'not JSON: bad key' end
                        key = k
                    end
                    if keys[key] then return 'duplicate top-level key "' .. key .. '"' end
                    keys[key] = string.sub(s, colon, colon)
                    at[key] = colon
                end
            end
            i = j + 1
        elseif c == '[' or c == '{' then
            depth = depth + 1
            if depth > MAX_DEPTH then return 'nesting deeper than ' .. MAX_DEPTH .. ' levels at byte ' .. (p - 1) end
            i = p + 1
        elseif c == ']' or c == '}' then
            depth = depth - 1
            i = p + 1
        elseif string.find(c, '[%d%+%-%.]') then
            local t = string.match(s, '^[%d%+%-%.eE]+', p)
            if not json_number(t) then return 'not JSON: bad number at byte ' .. (p - 1) end
            top = top or '0'
            i = p + #t
        else
            local w = string.match(s, '^%a+', p)
            if w ~= 'true' and w ~= 'false' and w ~= 'null' then
                return 'not JSON: bad token "' .. w .. '" at byte ' .. (p - 1)
            end
            i = p + #w
        end
    end
    if top ~= '{' then return 'envelope must be a JSON object' end
    return nil, keys, at
end

local function is_null(v) return v == nil or v == cjson.null end

local function str_field(t, name)
    local v = t[name]
    if is_null(v) then return true, nil end
    if type(v) ~= 'string' then return false, 'field "' .. name .. '" must be a string' end
    return true, v
end

local function int_field(t, name, lo, hi)
    local v = t[name]
    if is_null(v) then return true, nil end
    if type(v) ~= 'number' or v ~= v or v < lo or v > hi or math.floor(v) ~= v then
        if lo == hi then return false, 'field "' .. name .. '" must be ' .. lo end
        return false, 'field "' .. name .. '" must be an integer in ' .. lo .. '..' .. string.format('%.0f', hi)
    end
    return true, v
end

-- days_from_civil / civil_from_days: Howard Hinnant's algorithms.
local function days_from_civil(y, m, d)
    if m <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local mp = (m + 9) % 12
    local doy = math.floor((153 * mp + 2) / 5) + d - 1
    local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
    return era * 146097 + doe - 719468
end

local function civil_from_days(z)
    z = z + 719468
    local era = math.floor(z / 146097)
    local doe = z - era * 146097
    local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
    local y = yoe + era * 400
    local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
    local mp = math.floor((5 * doy + 2) / 153)
    local d = doy - math.floor((153 * mp + 2) / 5) + 1
    local m = mp < 10 and mp + 3 or mp - 9
    if m <= 2 then y = y + 1 end
    return y, m, d
end

local DAYS_IN = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

-- rfc3339_ms parses 2026-11-24T10:00:00[.fff](Z|+hh:mm) to Unix ms, or nil.
local function rfc3339_ms(s)
    local y, mo, d, h, mi, sec, rest = string.match(s, '^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt](%d%d):(%d%d):(%d%d)(.*)$')
    if not y then return nil end
    y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
    local frac = 0
    local f, after = string.match(rest, '^%.(%d+)(.*)$')
    if f then
        frac = tonumber(string.sub(f .. '00', 1, 3))
        rest = after
    end
    local off
    if rest == 'Z' or rest == 'z' then
        off = 0
    else
        local sign, oh, om = string.match(rest, '^([%+%-])(%d%d):(%d%d)$')
        if not sign then return nil end
        oh, om = tonumber(oh), tonumber(om)
        if oh > 23 or om > 59 then return nil end
        off = (oh * 60 + om) * (sign == '-' and -1 or 1)
    end
    local dim = DAYS_IN[mo]
    if not dim then return nil end
    if mo == 2 and (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) then dim = 29 end
    if d < 1 or d > dim or h > 23 or mi > 59 or sec > 60 then return nil end
    local secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
    return (secs - off * 60) * 1000 + frac
end

-- rfc3339 formats Unix ms. The text up to the second is kept for the next
-- call: the enqueues of a burst share their second, and the calendar
-- arithmetic and the seven-field format cost more than the rest of a splice.
local rfc_secs, rfc_head = nil, nil
local function rfc3339(ms)
    local secs = math.floor(ms / 1000)
    if secs ~= rfc_secs then
        local days = math.floor(secs / 86400)
        local rem = secs - days * 86400
        local y, m, d = civil_from_days(days)
        rfc_head = string.format('%04d-%02d-%02dT%02d:%02d:%02d', y, m, d, math.floor(rem / 3600),
            math.floor(rem % 3600 / 60), rem % 60)
        rfc_secs = secs
    end
    return rfc_head .. string.format('.%03dZ', ms % 1000)
end

-- validate checks the fields as common/envelope.c does. The field lists
-- are built once, not per call.
local NAME_FIELDS = {'service', 'action'}
local STR_FIELDS = {'target_type', 'target_id', 'scope', 'actor', 'idempotency_key', 'debounce_key',
                    'expected_hash', 'enqueued_at', 'run_at'}
local INT_FIELDS = {{'v', 1, 1}, {'max_attempts', 1, 1000}, {'timeout_ms', 1, 86400000},
                    {'idempotency_ttl_s', 1, 31536000}, {'debounce_ms', 0, 86400000}, {'attempt', 0, 2147483647},
                    {'delay_ms', 0, 31536000000}, {'debounce_max_ms', 1, 86400000}}
local TIME_FIELDS = {'enqueued_at', 'run_at'}

local function validate(t, keys)
    local ok, v, e
    ok, v = str_field(t, 'kind')
    if not ok then return v end
    if not v then return 'missing required field "kind"' end
    if v ~= 'mutation' and v ~= 'sync' then return 'field "kind" must be "mutation" or "sync"' end
    for _, name in ipairs(NAME_FIELDS) do
        ok, v = str_field(t, name)
        if not ok then return v end
        if not v then return 'missing required field "' .. name .. '"' end
        if #v == 0 then return 'field "' .. name .. '" must not be empty' end
        if #v > 128 then return 'field "' .. name .. '" must be at most 128 bytes' end
        if string.find(v, '[%c]') then return 'field "' .. name .. '" must not contain control characters' end
    end
    ok, v = str_field(t, 'id')
    if not ok then return v end
    if v and (#v < 1 or #v > 128 or string.find(v, '[^\33-\126]')) then
        return 'field "id" must be 1..128 printable ASCII characters without spaces'
    end
    for _, name in ipairs(STR_FIELDS) do
        if keys[name] then
            ok, e = str_field(t, name)
            if not ok then return e end
        end
    end
    if not is_null(t.debounce_key) and t.kind ~= 'sync' then
        return 'field "debounce_key" is only allowed when kind is "sync"'
    end
    for _, f in ipairs(INT_FIELDS) do
        if keys[f[1]] then
            ok, e = int_field(t, f[1], f[2], f[3])
            if not ok then return e end
        end
    end
    if not is_null(t.payload) and keys.payload ~= '{' then return 'field "payload" must be an object' end
    for _, name in ipairs(TIME_FIELDS) do
        if not is_null(t[name]) then
            local ms = rfc3339_ms(t[name])
            if not ms or ms < 0 then return 'field "' .. name .. '" must be an RFC 3339 time (e.g. 2026-11-24T10:00:00Z)' end
        end
    end
    return nil
end

-- record builds an audit record line (COPY text, version r2; see
-- common/record.h): times in microseconds of Redis TIME.
local function copy_text(v)
    if is_null(v) then return '\\N' end
    v = tostring(v)
    if not string.find(v, '[%c\\]') then return v end
    return (string.gsub(v, '[%c\\]', function(c)
        if c == '\\' then return '\\\\' elseif c == '\t' then return '\\t'
        elseif c == '\n' then return '\\n' elseif c == '\r' then return '\\r' end
        return string.format('\\%03o', string.byte(c))
    end))
end

local function num(v)
    if is_null(v) then return '\\N' end
    if v < 1e14 and v == math.floor(v) then return tostring(v) end -- %.14g: exact below 1e14
    return string.format('%.0f', v)
end

-- record(r) builds the record whose columns r names (record_cols.h:
-- r.job_id, r.status, r.ev_event, ...); the others are NULL.
local function record(r)
    local cols = {}
    r.attempts = r.attempts or 0
    if r.ev_event then r.ev_attempt = r.ev_attempt or 0 end
    for i, c in ipairs(RECORD_COLS) do
        if c[2] == 'n' then cols[i] = num(r[c[1]]) else cols[i] = copy_text(r[c[1]]) end
    end
    return 'r2\t' .. table.concat(cols, '\t') .. '\n'
end

local DISCARDED = col_list({'job_id', 'rev', 'queue', 'status'})
discard_record = function(rec, wid)
    local c = record_cols(rec, DISCARDED)
    local id = string.gsub(c.job_id or '', '\\\\', '\\')
    local rev = tonumber(c.rev) or 0
    local status = c.status or '?'
    return record({job_id = id, rev = 0, queue = c.queue, status = 'queued', ev_event = 'lost',
        ev_outcome = 'discarded', ev_error = 'lease lost: outcome discarded (worker ' .. wid .. ', ' .. status .. ')',
        ev_at_us = now_us(), ev_rev = 3000000 + rev})
end

-- queued_line is record() for the hot path: the queued row of a new job. The
-- columns it fills in are QUEUED_VARS, in table order; the text between them
-- (the fixed values and NULLs) is computed once, at load.
local QUEUED_VARS = {'job_id', 'queue', 'kind', 'service', 'action', 'target_type', 'target_id', 'scope', 'actor',
    'payload', 'enqueued_us'}
local QUEUED_FIXED = {rev = '0', status = 'queued', attempts = '0'}
local QUEUED_SEP = {} -- QUEUED_SEP[k]: the text after variable k
do -- at load, where Redis exposes no globals (ipairs, assert): plain loops
    local k, seg = 0, ''
    for i = 1, #RECORD_COLS do
        local name = RECORD_COLS[i][1]
        if i > 1 then seg = seg .. '\t' end
        if name == QUEUED_VARS[k + 1] then
            if k > 0 then QUEUED_SEP[k] = seg end
            k, seg = k + 1, ''
        else
            seg = seg .. (QUEUED_FIXED[name] or '\\N')
        end
    end
    -- job_id first and QUEUED_VARS in table order, or a separator stays nil
    -- and every enqueue fails loudly (as every integration test would show)
    if k == #QUEUED_VARS and RECORD_COLS[1][1] == 'job_id' then QUEUED_SEP[k] = seg .. '\n' end
end
local QS = QUEUED_SEP
local function queued_line(id, queue, t, masked, enqueued)
    return 'r2\t' .. copy_text(id) .. QS[1] .. copy_text(queue) .. QS[2] .. t.kind .. QS[3] ..
        copy_text(t.service) .. QS[4] .. copy_text(t.action) .. QS[5] .. copy_text(t.target_type) .. QS[6] ..
        copy_text(t.target_id) .. QS[7] .. copy_text(t.scope) .. QS[8] .. copy_text(t.actor) .. QS[9] ..
        copy_text(masked) .. QS[10] .. num(enqueued) .. QS[11]
end

-- splice fills in "id" and "enqueued_at": a member given as null gets its
-- value in place of the null (adding one would make a duplicate key, which
-- the worker refuses); a missing one is put after the opening brace.
local function splice(s, t, at, id, now)
    local fill = {}
    -- a missing id is a tag of ours (hex digits and dashes): nothing to escape
    if is_null(t.id) then fill[#fill + 1] = {'id', '"' .. id .. '"'} end
    if is_null(t.enqueued_at) then fill[#fill + 1] = {'enqueued_at', '"' .. rfc3339(now) .. '"'} end
    -- nulls first, from the end of the text, so earlier positions stay true
    if #fill == 2 and (at.id or 0) < (at.enqueued_at or 0) then fill[1], fill[2] = fill[2], fill[1] end
    local add = ''
    for _, f in ipairs(fill) do
        local p = at[f[1]]
        if p then
            s = string.sub(s, 1, p - 1) .. f[2] .. string.sub(s, p + 4)
        else
            add = add .. '"' .. f[1] .. '":' .. f[2] .. ','
        end
    end
    if add == '' then return s end
    local brace = string.find(s, '{', 1, true)
    local rest = string.sub(s, brace + 1)
    if string.match(rest, '^%s*}') then add = string.sub(add, 1, -2) end
    return string.sub(s, 1, brace) .. add .. rest
end

local function enqueue(keys, args)
    local ready, text, masked = keys[1], args[1], args[2]
    local base = string.match(ready, '^(.*{[^}]+}):ready$')
    if not base then return bad('the key must be <prefix>:{QUEUE}:ready') end
    local queue = string.match(base, '{([^}]+)}$')
    if not text then return bad('missing envelope argument') end
    if #text == 0 then return bad('empty message') end
    if #text > MAX_ENVELOPE then return bad('envelope is ' .. #text .. ' bytes, over the limit of ' .. MAX_ENVELOPE) end
    if string.find(text, '\0', 1, true) then return bad('raw NUL byte in the envelope') end
    local err = utf8_error(text)
    if err then return bad(err) end
    local keyinfo, keyat
    err, keyinfo, keyat = scan(text)
    if err then return bad(err) end
    cjson.decode_max_depth(MAX_DEPTH)
    local ok, t = pcall(cjson.decode, text)
    if not ok then return bad('not JSON: ' .. tostring(t)) end
    err = validate(t, keyinfo)
    if err then return bad(err) end
    -- the limit holds for the bytes as stored, with id (36 characters) and
    -- enqueued_at (24) filled in, as the worker checks them (docs/PROTOCOL.md,
    -- "Size"); envelope.c computes the same
    local stored = #text + (keyinfo.id and (is_null(t.id) and 34 or 0) or 44) +
        (keyinfo.enqueued_at and (is_null(t.enqueued_at) and 22 or 0) or 41)
    if stored > MAX_ENVELOPE then
        return bad('envelope is ' .. stored .. ' bytes once id and enqueued_at are filled in, over the limit of ' ..
            MAX_ENVELOPE)
    end

    local us = now_us()
    local now = math.floor(us / 1000)
    local cfgkey = base .. ':config'
    local id = t.id
    if is_null(id) then id = tag_for(redis.call('INCR', base .. ':seq'), now, salt_of(ready)) end
    local act = tostring(t.service) .. '/' .. tostring(t.action)

    -- idempotency: the first job of the window answers for every duplicate
    if not is_null(t.idempotency_key) then
        local ttl = t.idempotency_ttl_s
        if is_null(ttl) then ttl = tonumber(redis.call('HGET', cfgkey, act .. ':idempotency_ttl_s')) end
        ttl = ttl or DEFAULT_IDEMPOTENCY_TTL_S
        local ikey = base .. ':idem:' .. t.idempotency_key
        if not redis.call('SET', ikey, id, 'NX', 'EX', ttl) then
            local first = redis.call('GET', ikey)
            local n = redis.call('INCR', base .. ':dup:' .. first)
            redis.call('EXPIRE', base .. ':dup:' .. first, ttl)
            redis.call('RPUSH', base .. ':outbox', record({job_id = first, rev = 0, queue = queue,
                status = 'queued', ev_event = 'duplicate', ev_error = 'duplicate enqueue #' .. n .. ' (idempotency key)',
                ev_at_us = us, ev_rev = 2000000 + n}))
            return {first, 'duplicate'}
        end
    end

    local body = splice(text, t, keyat, id, now)
    local enqueued = us
    if not is_null(t.enqueued_at) then enqueued = rfc3339_ms(t.enqueued_at) * 1000 end

    local due = nil
    if not is_null(t.run_at) then due = rfc3339_ms(t.run_at) end
    if not is_null(t.delay_ms) then due = math.max(due or 0, now + t.delay_ms) end
    local state = 'queued'
    local entry -- wrapped only when it waits in the time-ordered set
    if due or not is_null(t.debounce_key) then
        entry = HDR .. 'id=' .. tag_for(redis.call('INCR', base .. ':seq'), now, salt_of(ready)) ..
            ' seen=' .. now .. '\n' .. body
    end

    if not is_null(t.debounce_key) then
        -- trailing edge: the newest job of a burst runs, at most max_wait after the first
        local wait = is_null(t.debounce_ms) and DEFAULT_DEBOUNCE_MS or t.debounce_ms
        local max_wait = is_null(t.debounce_max_ms) and 10 * wait or t.debounce_max_ms
        local dkey = base .. ':deb:' .. t.debounce_key
        local prev = redis.call('HMGET', dkey, 'id', 'member', 'first')
        local first = now
        if prev[2] and redis.call('ZREM', base .. ':retry', prev[2]) == 1 then
            first = tonumber(prev[3]) or now
            redis.call('RPUSH', base .. ':outbox', record({job_id = prev[1], rev = 3, queue = queue,
                status = 'superseded', result = '{"superseded_by":' .. cjson.encode(id) .. '}', finished_us = us,
                ev_event = 'superseded', ev_error = 'superseded by ' .. id, ev_at_us = us, ev_rev = 3}))
            publish(base .. ':events', prev[1], 'superseded', '{"superseded_by":' .. cjson.encode(id) .. '}', nil)
        end
        local d = math.min(now + wait, first + max_wait)
        due = math.max(due or 0, d)
        redis.call('HSET', dkey, 'id', id, 'member', entry, 'first', first)
        redis.call('PEXPIRE', dkey, due - now + max_wait + 60000)
        state = 'debounced'
    end

    if due and due > now then
        redis.call('ZADD', base .. ':retry', due, entry)
        if state == 'queued' then state = 'delayed' end
    else
        redis.call('LPUSH', ready, body)
        state = 'queued'
    end
    redis.call('RPUSH', base .. ':outbox', queued_line(id, queue, t, masked, enqueued))
    return {id, state}
end

-- ---------------------------------------------------------------------------
-- Job state by id and cancel (syncq status / syncq cancel). Both scan the
-- queue's lists, which is fine for an operator's command: O(queue length),
-- with a plain string search before any decode.

-- entry_is says whether ready/retry entry e is job id.
local function entry_is(e, id)
    if not string.find(e, id, 1, true) then return false end
    local hdr, raw = e, e
    if string.sub(e, 1, #HDR) == HDR then
        hdr, raw = split(e)
        local jid = string.match(hdr, ' jid=([^ ]+)')
        if jid then return jid == id end
        if string.match(hdr, '^~syncq1 id=([^ ]+)') == id then return true end
    end
    local ok, t = pcall(cjson.decode, raw)
    return ok and type(t) == 'table' and t.id == id
end

local function find_ready(ready, id)
    local n = redis.call('LLEN', ready)
    for start = 0, n - 1, 1000 do
        local chunk = redis.call('LRANGE', ready, start, start + 999)
        for k, e in ipairs(chunk) do
            if entry_is(e, id) then return e, n - (start + k) end -- position from the head of the line
        end
    end
    return nil
end

local function find_zset(z, id)
    for _, pair in ipairs({redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')}) do
        for k = 1, #pair, 2 do
            if entry_is(pair[k], id) then return pair[k], tonumber(pair[k + 1]) end
        end
    end
    return nil
end

-- syncq_status KEYS: ready  ARGV: id
-- Reply: {state, detail...}: queued position | delayed due_ms | retrying
-- due_ms error | running worker_id | dead dead_ms error | unknown.
local function status(keys, args)
    local ready, id = keys[1], args[1]
    local base = string.match(ready, '^(.*{[^}]+}):ready$')
    if not base then return redis.error_reply('ERR syncq: the key must be <prefix>:{QUEUE}:ready') end
    local dead_ms = redis.call('ZSCORE', base .. ':dead', id)
    if dead_ms then
        local e = redis.call('HGET', base .. ':deadjobs', id) or ''
        local err = string.match(e, '^[^\n]* err=([^ \n]+)') or ''
        return {'dead', dead_ms, (string.gsub(err, '%%(%x%x)', function(h) return string.char(tonumber(h, 16)) end))}
    end
    local e, pos = find_ready(ready, id)
    if e then return {'queued', tostring(pos)} end
    local z, due = find_zset(base .. ':retry', id)
    if z then
        local err = string.match(z, '^[^\n]* err=([^ \n]+)')
        if err then
            return {'retrying', tostring(due), (string.gsub(err, '%%(%x%x)', function(h) return string.char(tonumber(h, 16)) end))}
        end
        return {'delayed', tostring(due)}
    end
    for _, wid in ipairs(redis.call('SMEMBERS', base .. ':owners')) do
        for _, x in ipairs(redis.call('LRANGE', base .. ':inflight:' .. wid, 0, -1)) do
            if entry_is(x, id) then return {'running', wid} end
        end
    end
    return {'unknown'}
end

local function pct(s)
    return (string.gsub(s, '[^!-$&-~]', function(c) return string.format('%%%02X', string.byte(c)) end))
end

-- syncq_cancel KEYS: ready  ARGV: id actor
-- Takes a queued or delayed job out and puts it in the dead-letter set
-- (reason "cancelled by <actor>"), from where it can still be replayed.
-- Reply: 1 cancelled, 0 not queued or delayed (running, done, unknown).
local function cancel(keys, args)
    local ready, id, actor = keys[1], args[1], args[2] or 'unknown'
    local base = string.match(ready, '^(.*{[^}]+}):ready$')
    if not base then return redis.error_reply('ERR syncq: the key must be <prefix>:{QUEUE}:ready') end
    local queue = string.match(base, '{([^}]+)}$')
    local e = find_ready(ready, id)
    if e then
        redis.call('LREM', ready, 1, e)
    else
        e = find_zset(base .. ':retry', id)
        if not e or redis.call('ZREM', base .. ':retry', e) == 0 then return 0 end
    end
    local us = now_us()
    local now = math.floor(us / 1000)
    local why = 'cancelled by ' .. actor
    local hdr, raw = split(e)
    local f = wrap_parse(e)
    if f then redis.call('HDEL', base .. ':wraps', f.id) end -- its voucher, if it had one
    if not f then
        hdr, raw = HDR .. 'id=' .. id .. ' seen=' .. now .. ' jid=' .. id, e
    end
    local m = dead_member(base .. ':deadjobs', id, f and f.id or id)
    redis.call('ZADD', base .. ':dead', now, m)
    redis.call('HSET', base .. ':deadjobs', m, set_field(set_field(hdr, 'err', pct(why)), 'dead', now) .. '\n' .. raw)
    redis.call('RPUSH', base .. ':outbox', record({job_id = id, rev = 3, queue = queue, status = 'dead',
        last_error = why, finished_us = us, ev_event = 'dead', ev_outcome = 'cancelled', ev_error = why, ev_at_us = us,
        ev_rev = 3}))
    publish(base .. ':events', id, 'dead', nil, why)
    return 1
end

redis.register_function('syncq_enqueue', enqueue)
-- syncq_entry KEYS: ready  ARGV: id
-- Reply: the entry of a waiting job (queued, delayed or retrying), else nil;
-- `syncq status` reads its service and action to tell whether any running
-- worker has the handler.
local function waiting_entry(keys, args)
    local ready, id = keys[1], args[1]
    local base = string.match(ready, '^(.*{[^}]+}):ready$')
    if not base then return redis.error_reply('ERR syncq: the key must be <prefix>:{QUEUE}:ready') end
    local e = find_ready(ready, id)
    if e then return e end
    return (find_zset(base .. ':retry', id)) or false
end

redis.register_function('syncq_status', status)
redis.register_function('syncq_entry', waiting_entry)
redis.register_function('syncq_cancel', cancel)

-- syncq_unlock KEYS: lock  ARGV: owner
-- Releases a mutation's per-target lock only if the owner still holds it.
local function unlock(keys, args)
    if redis.call('GET', keys[1]) == args[1] then return redis.call('DEL', keys[1]) end
    return 0
end

-- syncq_ratelimit KEYS: bucket  ARGV: per_second burst
-- A token bucket per service, shared by every worker on every host, on
-- Redis's clock. Reply: 0 when a call may go now (a token is taken), else
-- the milliseconds until one is due.
local function ratelimit(keys, args)
    local rate, burst = tonumber(args[1]), tonumber(args[2])
    local now = now_ms()
    local b = redis.call('HMGET', keys[1], 'tokens', 'at')
    local tokens = tonumber(b[1]) or burst
    local at = tonumber(b[2]) or now
    tokens = math.min(burst, tokens + (now - at) * rate / 1000)
    local wait = 0
    if tokens >= 1 then
        tokens = tokens - 1
    else
        wait = math.ceil((1 - tokens) * 1000 / rate)
    end
    redis.call('HSET', keys[1], 'tokens', tokens, 'at', now)
    redis.call('PEXPIRE', keys[1], math.ceil(burst * 1000 / rate) + 1000)
    return wait
end

redis.register_function('syncq_unlock', unlock)
redis.register_function('syncq_ratelimit', ratelimit)
redis.register_function('syncq_version', function()
    if LIBRARY_COMPAT <= 20 then return V20_ANSWER end
    return LIBRARY_VERSION
end)
redis.register_function('syncq_compat', function()
    return {tonumber(string.match(LIBRARY_VERSION, '^%d+')), LIBRARY_COMPAT, LIBRARY_VERSION}
end)
redis.register_function('syncq_dlq_replay', dlq_replay)
redis.register_function('syncq_dlq_purge', dlq_purge)
redis.register_function('syncq_push_entry', push_entry)
redis.register_function('syncq_fetch', fetch)
redis.register_function('syncq_claim', claim)
redis.register_function('syncq_step', step)
redis.register_function('syncq_requeue', requeue)
redis.register_function('syncq_crash', crash)
redis.register_function('syncq_outbox_claim', outbox_claim)
redis.register_function('syncq_record_push', record_push)
redis.register_function('syncq_outbox_done', outbox_done)
redis.register_function('syncq_promote', promote)
