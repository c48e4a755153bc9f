#!/bin/bash
# mock_service_test.sh - the mock DNS provider (tests/mock/mock_service.py)
# that the sync and mutation tests, the demo and the benchmark talk to: every
# pagination style walks 1,001 records with each id exactly once; the Link
# header; natural-key filters; 201/409/200/404/204/422; Idempotency-Key log and
# replay; fail, rate, throttle and latency injection; the call log; bearer
# auth; keep-alive and a throughput floor. No worker needed.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
TOKEN="tok-$RANDOM"
"$PY" tests/mock/mock_service.py --port 0 --port-file "$W/port" --token "$TOKEN" > "$W/mock.log" 2>&1 &
MOCK=$!
# lib.sh's _cleanup reads the exit status from $?: hand it the test's, not
# kill's (and with set -e off, so a dead mock or (exit 1) cannot cut the trap short).
trap 'rc=$?; set +e; kill "$MOCK" 2>/dev/null; (exit $rc); _cleanup' EXIT
have_port() { [ -s "$W/port" ]; }
wait_for 10 "the mock service's port file" have_port
port=$(cat "$W/port")
base="http://127.0.0.1:$port"
Z=walk.example

# http METHOD PATH [BODY] [CURL ARGS...]: prints the status; body in $W/body, headers in $W/headers.
http() {
    local m=$1 p=$2 d=${3:-}
    shift $(($# < 3 ? $# : 3))
    rm -f "$W/body" # curl creates no file for an empty body
    curl -s -o "$W/body" -D "$W/headers" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" \
        ${d:+-d "$d"} "$@" "$base$p"
}
admin() { curl -s -X "$1" "$base/_admin/$2" ${3:+-d "$3"}; }
body() { cat "$W/body" 2>/dev/null || true; }
jf() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; } # jf EXPR: EXPR over stdin's JSON as d
header() { grep -i "^$1:" "$W/headers" | cut -d' ' -f2- | tr -d '\r'; }

# ---------------------------------------------------------------- auth
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$base/zones/$Z/records")" 401 "list without a token"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer nope" "$base/zones/$Z/records")" 401 \
    "list with a wrong token"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $TOKEN" "$base/cursor/zones/$Z/records")" 401 \
    "a token without Bearer"
assert_eq "$(http GET "/zones/$Z/records")" 200 "list with the token"
assert_eq "$(body)" '{"data":[],"meta":{"page":1}}' "an unseeded zone is empty"
assert_eq "$(admin GET health)" '{"ok":true}' "admin needs no token"

# ---------------------------------------------------------------- four pagination styles
assert_eq "$(admin POST seed "{\"zone\":\"$Z\",\"count\":1001}" | jf 'd["count"], d["first_id"], d["last_id"]')" \
    "1001 0000000001 0000001001" "seeded"
admin GET "records?zone=$Z" | jf '"\n".join(r["id"] for r in d)' > "$W/remote"
assert_eq "$(sort -u "$W/remote" | wc -l)" 1001 "distinct remote ids"

cat > "$W/walk.py" <<'PY'
# walk.py BASE TOKEN STYLE SIZE ZONE: list every page the way a client of that
# style would; print the ids; check page sizes, order and the style's meta.
import json, re, sys, urllib.parse, urllib.request
base, token, style, size, zone = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
path = ("" if style == "none" else "/" + style) + "/zones/%s/records" % zone

def get(url):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req) as r:
        return json.load(r), r.headers.get("Link")

ids, pages, url = [], 0, None
while True:
    pages += 1
    if style in ("page", "none"):
        body, _ = get("%s%s?page=%d&per_page=%d" % (base, path, pages, size))
        assert body["meta"] == {"page": pages}, body["meta"]
        done = len(body["data"]) < size
    elif style == "offset":
        body, _ = get("%s%s?offset=%d&limit=%d" % (base, path, len(ids), size))
        total = body["meta"]["total"]
        done = len(ids) + len(body["data"]) >= total
    elif style == "cursor":
        body, _ = get(url or "%s%s?limit=%d" % (base, path, size))
        nxt = body["meta"]["next_cursor"]
        done = nxt is None
        url = "%s%s?limit=%d&cursor=%s" % (base, path, size, urllib.parse.quote(nxt or ""))
    else:
        body, link = get(url or "%s%s?per_page=%d" % (base, path, size))
        assert set(body) == {"data"}, body.keys()
        m = re.search(r'<([^>]*)>;\s*rel="next"', link or "")
        done = m is None
        if m:
            url = m.group(1)
            assert url.startswith(base + path + "?"), url
    page = [r["id"] for r in body["data"]]
    assert len(page) <= size and page == sorted(page), (pages, page)
    assert not ids or not page or page[0] > ids[-1], "pages out of order"
    assert done or len(page) == size, "a short page before the end (page %d)" % pages
    ids += page
    if done:
        break
    assert pages < 100000, "no end"
print("\n".join(ids))
print("%s size %d: %d pages" % (style, size, pages), file=sys.stderr)
PY
for style in none page offset cursor link; do
    for size in 100 37 1001 5000; do
        "$PY" "$W/walk.py" "$base" "$TOKEN" "$style" "$size" "$Z" > "$W/ids" || fail "$style walk (size $size)"
        assert_eq "$(sort "$W/ids" | uniq -d | wc -l)" 0 "$style size $size: ids seen twice"
        cmp -s "$W/ids" "$W/remote" || fail "$style size $size: the walk differs from the remote set"
        echo "ok: $style size $size: all 1001 ids exactly once, in order"
    done
done
# page counts: 1001 at 100 a page is 11 pages; a page walk stops at the first short page
assert_eq "$("$PY" "$W/walk.py" "$base" "$TOKEN" link 100 "$Z" 2>&1 >/dev/null)" "link size 100: 11 pages" "link pages"
assert_eq "$("$PY" "$W/walk.py" "$base" "$TOKEN" cursor 1001 "$Z" 2>&1 >/dev/null)" "cursor size 1001: 1 pages" \
    "a cursor walk ends on next_cursor null"

# page/offset/cursor specifics
http GET "/page/zones/$Z/records?page=11&per_page=100" >/dev/null
assert_eq "$(body | jf 'len(d["data"]), d["data"][0]["id"], d["meta"]')" "1 0000001001 {'page': 11}" "the last page"
http GET "/page/zones/$Z/records?page=12&per_page=100" >/dev/null
assert_eq "$(body | jf 'len(d["data"])')" 0 "past the last page"
http GET "/offset/zones/$Z/records?offset=995&limit=10" >/dev/null
assert_eq "$(body | jf 'len(d["data"]), d["meta"]["total"]')" "6 1001" "an offset near the end"
assert_eq "$(http GET "/cursor/zones/$Z/records?cursor=garbage!")" 400 "a bad cursor"
assert_eq "$(http GET "/page/zones/$Z/records?page=0")" 400 "page 0"
assert_eq "$(http GET "/offset/zones/$Z/records?limit=x")" 400 "a non-numeric limit"
# a cursor survives deletions at its position (it is the last id seen, not an index)
http GET "/cursor/zones/$Z/records?limit=10" >/dev/null
cur=$(body | jf 'd["meta"]["next_cursor"]')
admin POST mutate "{\"zone\":\"$Z\",\"delete\":[\"0000000010\",\"0000000011\"]}" >/dev/null
http GET "/cursor/zones/$Z/records?limit=2&cursor=$cur" >/dev/null
assert_eq "$(body | jf '" ".join(r["id"] for r in d["data"])')" "0000000012 0000000013" "the page after a deleted cursor id"
admin GET "records?zone=$Z" | jf '"\n".join(r["id"] for r in d)' > "$W/remote"
"$PY" "$W/walk.py" "$base" "$TOKEN" cursor 100 "$Z" > "$W/ids"
cmp -s "$W/ids" "$W/remote" || fail "the cursor walk after deletions"
echo "ok: 999 ids after deleting two"

# ---------------------------------------------------------------- Link header
http GET "/link/zones/$Z/records?page=1&per_page=100" >/dev/null
assert_eq "$(header Link)" "<$base/link/zones/$Z/records?page=2&per_page=100>; rel=\"next\", <$base/link/zones/$Z/records?page=10&per_page=100>; rel=\"last\"" \
    "Link on the first page (999 records)"
http GET "/link/zones/$Z/records?page=10&per_page=100" >/dev/null
case "$(header Link)" in
*'rel="next"'*) fail "a next link on the last page" ;;
*'rel="first"'*) echo "ok: the last page links first and prev, no next" ;;
*) fail "no Link on the last page: $(header Link)" ;;
esac
http GET "/link/zones/$Z/records?per_page=500&name=r5" >/dev/null
assert_eq "$(header Link)" "" "no Link when one page holds everything"
admin POST link_base '{"base":"http://elsewhere.example:9"}' >/dev/null
http GET "/link/zones/$Z/records?per_page=100" >/dev/null
case "$(header Link)" in
'<http://elsewhere.example:9/link/zones/'*'rel="next"'*) echo "ok: link_base moves Link URLs to another origin" ;;
*) fail "link_base ignored: $(header Link)" ;;
esac
admin POST link_base '{"base":null}' >/dev/null
http GET "/link/zones/$Z/records?per_page=100" >/dev/null
case "$(header Link)" in "<$base/"*) ;; *) fail "link_base not cleared: $(header Link)" ;; esac

# ---------------------------------------------------------------- natural-key filters
http GET "/zones/$Z/records?name=r5&type=A" >/dev/null
assert_eq "$(body | jf '[r["id"] for r in d["data"]]')" "['0000000005']" "lookup by name and type"
http GET "/cursor/zones/$Z/records?name=r5" >/dev/null
assert_eq "$(body | jf 'len(d["data"]), d["meta"]["next_cursor"]')" "1 None" "lookup by name alone"
http GET "/offset/zones/$Z/records?type=AAAA" >/dev/null
assert_eq "$(body | jf 'len(d["data"]), d["meta"]["total"]')" "0 0" "no record of that type"

# ---------------------------------------------------------------- mutations
R=/zones/$Z/records
assert_eq "$(http POST "$R" '{"name":"www","type":"A","content":"192.0.2.1","ttl":60}')" 201 "create"
assert_eq "$(body)" '{"id":"0000001002","name":"www","type":"A","content":"192.0.2.1","ttl":60}' "the created record"
assert_eq "$(header Location)" "/zones/$Z/records/0000001002" "its Location"
assert_eq "$(http POST "$R" '{"name":"www","type":"A","content":"192.0.2.2"}')" 409 "create of an existing (name, type)"
assert_eq "$(body)" '{"error":"record already exists"}' "the 409 body"
assert_eq "$(http POST "$R" '{"name":"www","type":"AAAA","content":"2001:db8::1"}')" 201 "same name, other type"
assert_eq "$(body | jf 'd["ttl"]')" 3600 "the default ttl"
assert_eq "$(http POST "$R" '{"name":"x","type":"A"}')" 422 "create without content"
assert_eq "$(http POST "$R" '{"name":"x",')" 400 "create with broken JSON"
assert_eq "$(http PUT "$R/0000001002" '{"name":"www","type":"A","content":"192.0.2.9","ttl":60}')" 200 "update"
assert_eq "$(body | jf 'd["content"]')" 192.0.2.9 "the updated content"
assert_eq "$(http PATCH "$R/0000001002" '{"ttl":120}')" 200 "a partial update"
assert_eq "$(body | jf 'd["content"], d["ttl"]')" "192.0.2.9 120" "PATCH keeps the rest"
assert_eq "$(http PUT "$R/0000001002" '{"type":"AAAA"}')" 409 "an update onto another record's (name, type)"
assert_eq "$(http PUT "$R/9999999999" '{"content":"x"}')" 404 "update of a missing record"
assert_eq "$(http GET "$R/0000001002")" 200 "get one record"
assert_eq "$(http DELETE "$R/0000001002")" 204 "delete"
assert_eq "$(body | wc -c) $(header Content-Length)" "0 0" "a 204 has an empty body"
assert_eq "$(http DELETE "$R/0000001002")" 404 "delete again"
assert_eq "$(http GET "$R/0000001002")" 404 "get a deleted record"
assert_eq "$(http DELETE "/zones/$Z")" 404 "an unknown path"
assert_eq "$(http DELETE "$R")" 405 "DELETE on the collection"

# ---------------------------------------------------------------- idempotency keys
admin DELETE calls >/dev/null
assert_eq "$(http POST "$R" '{"name":"mail","type":"MX","content":"mx.example"}' -H 'Idempotency-Key: key-1')" 201 \
    "a create with an Idempotency-Key"
first=$(body)
assert_eq "$(http POST "$R" '{"name":"mail","type":"MX","content":"mx.example"}' -H 'Idempotency-Key: key-1')" 201 \
    "the same key again: the first response, not a 409"
assert_eq "$(body)" "$first" "the replayed body"
assert_eq "$(header Idempotent-Replayed)" true "the replay is marked"
assert_eq "$(admin GET "records?zone=$Z" | jf 'sum(1 for r in d if r["name"] == "mail")')" 1 "one record for two POSTs"
assert_eq "$(http POST "$R" '{"name":"mail","type":"MX","content":"mx.example"}' -H 'Idempotency-Key: key-2')" 409 \
    "a new key is a new request"
assert_eq "$(http PUT "$R/0000000001" '{"content":"10.9.9.9"}' -H 'Idempotency-Key: key-3')" 200 "an update with a key"
assert_eq "$(admin GET idempotency | jf '[(k, [(e["method"], e["status"], e["replayed"]) for e in v]) for k, v in sorted(d.items())]')" \
    "[('key-1', [('POST', 201, False), ('POST', 201, True)]), ('key-2', [('POST', 409, False)]), ('key-3', [('PUT', 200, False)])]" \
    "the per-key log"
assert_eq "$(admin GET calls | jf '[(c["method"], c["path"], c["idempotency_key"], c["authorization_present"], c["status"]) for c in d]')" \
    "[('POST', '$R', 'key-1', True, 201), ('POST', '$R', 'key-1', True, 201), ('POST', '$R', 'key-2', True, 409), ('PUT', '$R/0000000001', 'key-3', True, 200)]" \
    "the call log (admin calls not in it)"

# ---------------------------------------------------------------- fault injection
admin DELETE calls >/dev/null
admin POST fail '{"match":"/cursor/zones/walk.example","status":500,"times":1,"skip":2}' >/dev/null
codes=""
for _ in 1 2 3 4 5; do codes="$codes $(http GET "/cursor/zones/$Z/records?limit=1")"; done
assert_eq "$codes" " 200 200 500 200 200" "one 500 after skipping two"
assert_eq "$(http GET "/page/zones/$Z/records")" 200 "other paths are not matched"
admin POST fail '{"match":"page=3&","status":503,"times":2}' >/dev/null
codes=""
for p in 1 2 3 3 3; do codes="$codes $(http GET "/zones/$Z/records?page=$p&per_page=10")"; done
assert_eq "$codes" " 200 200 503 503 200" "a page that fails twice (matched on the query)"
assert_eq "$(admin GET calls | jf '[c["query"] for c in d if c["status"] == 503]')" \
    "['page=3&per_page=10', 'page=3&per_page=10']" "the call log keeps the query and the status"
admin POST fail '{"match":"/zones/redirect","status":302,"times":1,"headers":{"Location":"http://elsewhere.example/x"},"body":null}' >/dev/null
assert_eq "$(http GET /zones/redirect/records)" 302 "an injected redirect"
assert_eq "$(header Location)" "http://elsewhere.example/x" "its Location"
rate_run() {
    admin POST fail '{"match":"/zones/flaky/","status":500,"rate":0.5,"seed":7}' >/dev/null
    local i s=""
    for i in $(seq 1 20); do s="$s$(http GET /zones/flaky/records | cut -c1)"; done
    admin POST reset '{}' >/dev/null
    echo "$s"
}
run1=$(rate_run)
run2=$(rate_run)
echo "rate 0.5: $run1"
assert_eq "$run2" "$run1" "a seeded failure rate repeats"
case "$run1" in *5*2* | *2*5*) ;; *) fail "rate 0.5 gave $run1" ;; esac

admin POST throttle '{"times":1,"retry_after":2}' >/dev/null
assert_eq "$(http GET "/zones/$Z/records")" 429 "throttled"
assert_eq "$(header Retry-After)" 2 "Retry-After"
assert_eq "$(body)" '{"error":"rate limited"}' "the 429 body"
assert_eq "$(http GET "/zones/$Z/records")" 200 "the throttle is used up"

admin POST latency '{"ms":300,"match":"/zones/slow/"}' >/dev/null
t=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$base/zones/slow/records")
"$PY" -c "import sys; sys.exit(0 if float('$t') >= 0.3 else 1)" || fail "latency 300 ms took $t s"
echo "ok: latency injection ($t s)"
t=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$base/zones/fast/records")
echo "unmatched request: $t s"
admin POST latency '{"ms":0,"match":"/zones/slow/"}' >/dev/null

# ---------------------------------------------------------------- reset, keep-alive, throughput
admin POST reset '{}' >/dev/null
assert_eq "$(admin GET "records?zone=$Z")" "[]" "reset empties the zones"
assert_eq "$(admin GET calls)" "[]" "and the call log"
assert_eq "$(admin POST seed "{\"zone\":\"$Z\",\"count\":3,\"prefix\":\"b\"}" | jf 'd["first_id"], d["last_id"]')" \
    "0000000001 0000000003" "ids restart after a reset (deterministic)"
assert_eq "$(admin GET "records?zone=$Z" | jf '[r["name"] for r in d]')" "['b1', 'b2', 'b3']" "the seed prefix"
assert_eq "$(admin POST mutate "{\"zone\":\"$Z\",\"change\":[\"0000000002\"],\"add\":1}" | jf 'd["changed"], d["added"]')" \
    "['0000000002'] ['0000000004']" "mutate: change and add"
assert_eq "$(admin GET "records?zone=$Z" | jf 'd[1]["content"]')" "changed-1" "the changed content"

reused=$(curl -sv -o /dev/null -o /dev/null -H "Authorization: Bearer $TOKEN" "$base/zones/$Z/records" \
    "$base/zones/$Z/records" 2>&1 | grep -c 'Re-using existing connection' || true)
assert_eq "$reused" 1 "HTTP/1.1 keep-alive: the second request reuses the connection"

admin DELETE calls >/dev/null
n=3000
for _ in $(seq 1 $n); do printf 'url = "%s/zones/%s/records/0000000001"\noutput = /dev/null\n' "$base" "$Z"; done > "$W/many.cfg"
t0=$(now_ms)
curl -s -H "Authorization: Bearer $TOKEN" -K "$W/many.cfg" || fail "the throughput run"
ms=$(( $(now_ms) - t0 ))
echo "throughput: $n keep-alive requests in $ms ms ($(( n * 1000 / (ms > 0 ? ms : 1) )) requests/s)"
assert_eq "$(admin GET calls | jf 'sum(1 for c in d if c["status"] == 200)')" $n "every request answered 200"
[ "$ms" -lt 15000 ] || fail "$n requests took $ms ms"

# ---------------------------------------------------------------- stop
kill "$MOCK"
rc=0
wait "$MOCK" || rc=$?
assert_eq "$rc" 143 "the mock ends on SIGTERM"
if curl -s -o /dev/null "$base/_admin/health"; then fail "the port still answers"; fi
[ ! -s "$W/mock.log" ] || { cat "$W/mock.log"; fail "the mock wrote to stderr (a traceback?)"; }
echo "ok: stopped"
