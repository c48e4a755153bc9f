#!lua name=syncq
-- functions.lua - the syncq Redis Function library: every step that must be
-- atomic inside Redis. Each function touches the keys of one queue only (all
-- carry the {QUEUE} hash tag), so the library works on Redis Cluster.
--
-- Ready and in-flight entries are the producer's bytes, untouched, behind a
-- one-line wrapper that the fetch step adds on first sight (SPEC §10: never
-- re-serialise the payload; Lua cjson would turn [] into {} and round numbers):
--
--   ~syncq1 id=<tag> seen=<ms>[ ready=<ms>][ from=<id>][ err=<pct>][ dead=<ms>]\n<raw>
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
-- Bump LIBRARY_VERSION with any change: masters and the C library replace the
-- loaded library when the version differs.

local LIBRARY_VERSION = '7'
local HDR = '~syncq1 '

local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function tag_of(e)
    return string.match(e, '^~syncq1 id=([^ \n]+)')
end

-- tag_for makes a UUIDv7-shaped delivery tag from Redis TIME milliseconds and
-- the queue's counter n; salt (one sha1 of the key per call) keeps tags of
-- different queues apart. Unique without randomness.
local function tag_for(n, ms, salt)
    local ts = string.format('%012x', ms)
    local c = string.format('%012x', n % 281474976710656)
    return string.sub(ts, 1, 8) .. '-' .. string.sub(ts, 9, 12) .. '-7' .. string.sub(salt, 1, 3) .. '-' ..
        '8' .. string.sub(salt, 4, 6) .. '-' .. c
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

-- wrap wraps a raw entry on first sight. Returns the entry and its tag.
local function wrap(e, seqkey, ms, salt)
    local tag = tag_of(e)
    if tag then return e, tag end
    tag = new_tag(seqkey, ms, salt)
    return HDR .. 'id=' .. tag .. ' seen=' .. ms .. '\n' .. e, tag
end

local function counters(att, tag)
    local v = tonumber(redis.call('HGET', att, tag)) or 0
    return math.floor(v / 1000), v % 1000
end

-- syncq_fetch KEYS: ready inflight outbox att seq paused  ARGV: max_batch outbox_max
-- Moves up to max_batch jobs into the caller's in-flight list. Reply:
-- {status, entry1, attempts1, deliveries1, ...}; status 0 = ok, 1 = the
-- outbox is over its limit (PostgreSQL is behind), 2 = the queue is paused
-- (syncq queue pause): fetch nothing.
local function fetch(keys, args)
    local ready, inflight, outbox, att, seq = keys[1], keys[2], keys[3], keys[4], keys[5]
    local n, limit = tonumber(args[1]), tonumber(args[2])
    if keys[6] and redis.call('EXISTS', keys[6]) == 1 then return {2} end
    if redis.call('LLEN', outbox) > limit then return {1} end
    local got = redis.call('RPOP', ready, n)
    if not got then return {0} end
    local ms = now_ms()
    local salt = redis.sha1hex(ready)
    local tags, fresh = {}, 0
    for j = 1, #got do
        local tag = tag_of(got[j])
        if not tag then
            fresh = fresh + 1
            tags[j] = false
        else
            tags[j] = tag
        end
    end
    -- one INCRBY numbers every new entry of the batch
    local last = fresh > 0 and redis.call('INCRBY', seq, fresh) or 0
    local k = last - fresh
    for j = 1, #got do
        if not tags[j] then
            k = k + 1
            tags[j] = tag_for(k, ms, salt)
            got[j] = HDR .. 'id=' .. tags[j] .. ' seen=' .. ms .. '\n' .. got[j]
        end
    end
    redis.call('LPUSH', inflight, unpack(got))
    local c = redis.call('HMGET', att, unpack(tags))
    local out = {0}
    for j = 1, #got do
        local v = tonumber(c[j]) or 0
        out[#out + 1] = got[j]
        out[#out + 1] = math.floor(v / 1000)
        out[#out + 1] = v % 1000
    end
    return out
end

-- syncq_claim KEYS: inflight att seq
-- After a blocking BLMOVE put a job at the head of inflight: wrap it.
local function claim(keys, _)
    local e = redis.call('LINDEX', keys[1], 0)
    if not e then return {0} end
    local w, tag = wrap(e, keys[3], now_ms(), redis.sha1hex(keys[1]))
    if w ~= e then redis.call('LSET', keys[1], 0, w) end
    local a, d = counters(keys[2], tag)
    return {0, w, a, d}
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

-- syncq_step KEYS: inflight outbox att retry dead deadjobs ready
-- ARGV: dead_cap dead_max_age_ms nacks
--       then per ack: tag disposition arg header record
--         done  : the job ended; push record
--         retry : arg = delay ms; the entry goes to the retry set with header
--         dead  : arg = job id; the entry goes to the dead-letter set with header
--         back  : arg = 1|0 (started); hand the job back without using an attempt
--       then: start_tag start_record ('' when no job starts)
-- Acknowledging a job and recording its outcome are one atomic step. Reply:
-- {acked, missing} (missing: entries already taken back by a reaper).
local function step(keys, args)
    local inflight, outbox, att, retry, dead, deadjobs, ready =
        keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], keys[7]
    local cap, max_age, n = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
    local acked, missing = 0, 0
    local recs, done = {}, {}
    local i = 4
    for _ = 1, n do
        local tag, disp, arg, hdr, rec = args[i], args[i + 1], args[i + 2], args[i + 3], args[i + 4]
        i = i + 5
        local e = take(inflight, tag)
        if e then
            acked = acked + 1
            if disp == 'done' then
                done[#done + 1] = tag
            elseif disp == 'retry' or disp == 'dead' then
                local _, raw = split(e)
                local ms = now_ms()
                if disp == 'retry' then
                    local due = ms + tonumber(arg)
                    redis.call('ZADD', retry, due, hdr .. '\n' .. raw)
                    rec = (string.gsub(rec, '\1DUE', tostring(due), 1))
                    -- the attempt ended cleanly: keep attempts, clear crashes
                    local a = counters(att, tag)
                    redis.call('HSET', att, tag, a * 1000)
                else
                    redis.call('ZADD', dead, ms, arg)
                    redis.call('HSET', deadjobs, arg, set_field(hdr, 'dead', ms) .. '\n' .. raw)
                    done[#done + 1] = tag
                    trim_dead(dead, deadjobs, cap, max_age, ms)
                end
            elseif disp == 'back' then
                -- arg 1: the job had started; give its attempt and delivery back
                redis.call('RPUSH', ready, e)
                if arg == '1' and redis.call('HINCRBY', att, tag, -1001) <= 0 then
                    redis.call('HDEL', att, tag)
                end
            end
            if rec ~= '' then recs[#recs + 1] = rec end
        else
            missing = missing + 1
            -- a done job did run: its outcome is still the truth
            if disp == 'done' and rec ~= '' then recs[#recs + 1] = rec end
        end
    end
    if #done > 0 then redis.call('HDEL', att, unpack(done)) end
    local stag, srec = args[i], args[i + 1]
    if stag and stag ~= '' then
        redis.call('HINCRBY', att, stag, 1001)
        if srec ~= '' then recs[#recs + 1] = srec end
    end
    if #recs > 0 then redis.call('RPUSH', outbox, unpack(recs)) end
    return {acked, missing}
end

-- syncq_requeue KEYS: inflight ready owners claim outbox  ARGV: worker_id
-- Returns a dead worker's jobs to the front of its queue (oldest first) and
-- its claimed audit records to the front of the outbox.
local function requeue(keys, args)
    local inflight, ready, owners, claimk, outbox = keys[1], keys[2], keys[3], keys[4], keys[5]
    local jobs, recs = 0, 0
    while redis.call('LMOVE', inflight, ready, 'LEFT', 'RIGHT') do jobs = jobs + 1 end
    while redis.call('LMOVE', claimk, outbox, 'RIGHT', 'LEFT') do recs = recs + 1 end
    redis.call('SREM', owners, args[1])
    return {jobs, recs}
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
    redis.call('LTRIM', keys[1], tonumber(args[1]), -1)
    return redis.call('LLEN', keys[1])
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
            redis.call('LPUSH', ready, set_field(hdr, 'ready', ms) .. '\n' .. raw)
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
    redis.call('LPUSH', ready, args[2])
    if #args > 2 then redis.call('RPUSH', outbox, unpack(args, 3)) end
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

redis.register_function('syncq_version', function() return LIBRARY_VERSION end)
redis.register_function('syncq_dlq_replay', dlq_replay)
redis.register_function('syncq_dlq_purge', dlq_purge)
redis.register_function('syncq_fetch', fetch)
redis.register_function('syncq_claim', claim)
redis.register_function('syncq_step', step)
redis.register_function('syncq_requeue', requeue)
redis.register_function('syncq_outbox_claim', outbox_claim)
redis.register_function('syncq_outbox_done', outbox_done)
redis.register_function('syncq_promote', promote)
