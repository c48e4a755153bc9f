#!/bin/bash
# make_corpus.sh - rebuild the committed seed corpus fuzz/corpus/NAME/ from
# tests/vectors/ and tests/services/ (plus a few hand-written seeds below).
# Keep it small: libFuzzer grows its own corpus in a scratch directory on
# every run (fuzz/run.sh); only seeds that reach new code belong here.
set -eu
cd "$(dirname "$0")/.."
C=fuzz/corpus
rm -rf "$C"
mkdir -p "$C"/envelope "$C"/wrap "$C"/mask "$C"/services "$C"/link

# envelope: the accepted vectors (fuzz/run.sh adds all of tests/vectors/ too).
cp tests/vectors/valid/*.json "$C"/envelope/

# wrap: the wrapper forms functions.lua writes, around accepted vectors.
full=tests/vectors/valid/full.json
min=tests/vectors/valid/minimal.json
{ printf '~syncq1 id=0190f5e2-7b1c-7c3e-9a55-3f0e4d2c1b0a seen=1764000000000\n'; cat "$min"; } > "$C"/wrap/plain
{ printf '~syncq1 id=t-1 seen=1764000000000 ready=1764000000500 jid=j-2 from=j-1 root=j-0\n'; cat "$full"; } > "$C"/wrap/replay
{ printf '~syncq1 id=t-1 seen=1 err=HTTP%%20503%%3A%%20%%22busy%%22 dead=2\n'; cat "$min"; } > "$C"/wrap/dead
{ printf '~syncq1 id=t-1 seen=1 future=x\n'; } > "$C"/wrap/unknown_field
cp "$min" "$C"/wrap/raw

# mask: accepted vectors, and secrets in every place the masker looks.
cp "$full" tests/vectors/valid/nested_payload.json tests/vectors/valid/unicode.json "$C"/mask/
printf '%s' '{"password":"p1","user":{"api_key":["k1",{"x":"k2"}],"name":"n"},"url":"https://u:pw@h.example/x?access_token=t1&a=1","log":"Authorization: Bearer abc.def","err":"{\"client_secret\": \"cs\"}","n":[1,true,null]}' > "$C"/mask/secrets
printf '%s' '"https://u:pw@h.example/?token=t Basic dXNlcjpwdw=="' > "$C"/mask/string_root
printf '%s\n%s' '#extra=ssn,Tax-ID' '{"ssn":"1","taxId":"2","user":{"TAX_ID":3}}' > "$C"/mask/extra

# services: the test files with a port, the example, ${VAR} forms.
for f in tests/services/*.json.in; do sed 's/@PORT@/8080/g' "$f" > "$C/services/$(basename "$f" .json.in)"; done
cp examples/services.dns.json "$C"/services/example
printf '%s' '{"services":{"s":{"base_url":"https://h.example/","headers":{"A":"x ${TOK} $${lit}","B":"${CRLF_X}","C":"${UNSET_Y}"},"rate_limit":{"per_second":2.5},"resources":{"r":{"list":{"path":"/r/{payload.a.b}","pagination":{"style":"cursor","next":"meta.next"}},"actions":{"c":{"op":"create","method":"POST","path":"/r/{scope}/{target_id}","status":{"success":[201],"adopt":[409]}}},"natural_key":["name"]}}}}}' > "$C"/services/vars

# link: RFC 8288 header values as services send them.
printf '%s' ' <https://api.example.net/r?page=2>; rel="next", <https://api.example.net/r?page=9>; rel="last"' > "$C"/link/github
printf '%s' '<https://x/r?page=1>; rel="prev", <https://x/r?page=3>; rel=next' > "$C"/link/token
printf '%s' '<https://x/r?a=1,2>; title="a, b"; rel="prev next"' > "$C"/link/multi
printf '%s' '<https://x/r>; rel="prev"' > "$C"/link/none
