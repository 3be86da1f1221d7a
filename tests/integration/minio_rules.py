#!/usr/bin/python3
"""minio_rules.py RULES.json EVENTS.jsonl RX_LOG -- what each webhook target
holds after the sample events went through luagate with bucket rules,
against what MinIO would have sent it.  Used by test_bucketrules.sh.
minio_rules.py --subset TARGET RULES.json EVENTS.jsonl prints the event
lines MinIO would send TARGET (for e2e_verify.py's checks of other kinds).

MinIO's matching is transcribed here from its Go code, independently of
luagate's Lua: NewPattern (internal/event/rules.go), wildcard.MatchSimple
(minio/pkg v3.1.3, the same recursion, byte by byte), the RulesMap union
(each target once).  RULES.json: {"bucket": [{"target": "/path", "events":
[...], "prefix": "", "suffix": ""}, ...]}; a webhook target is the path it
posts to, any other target a name.  Prints "ok - ..." / "not ok - ..." lines."""
import json
import sys
from urllib.parse import unquote_plus

GROUPS = {
    "s3:ObjectAccessed:*": ["Get", "Head", "GetRetention", "GetLegalHold", "Attributes"],
    "s3:ObjectCreated:*": ["Put", "Post", "Copy", "CompleteMultipartUpload", "PutRetention",
                           "PutLegalHold", "PutTagging", "DeleteTagging"],
    "s3:ObjectRemoved:*": ["Delete", "DeleteMarkerCreated", "NoOP", "DeleteAllVersions"],
    "s3:ObjectRestore:*": ["Post", "Completed"],
    "s3:ObjectTransition:*": ["Failed", "Complete"],
}


def expand(names):
    out = set()
    for n in names:
        if n in GROUPS:
            out.update(n[:-1] + m for m in GROUPS[n])
        else:
            out.add(n)
    return out


def new_pattern(prefix, suffix):
    pattern = ""
    if prefix:
        pattern = prefix if prefix.endswith("*") else prefix + "*"
    if suffix:
        pattern += suffix if suffix.startswith("*") else "*" + suffix
    return pattern.replace("**", "*")


def deep(s, p):
    while p:
        c = p[0]
        if c == ord("?"):
            if not s:
                return True
        elif c == ord("*"):
            return len(p) == 1 or deep(s, p[1:]) or (len(s) > 0 and deep(s[1:], p))
        elif not s or s[0] != c:
            return False
        s, p = s[1:], p[1:]
    return not s and not p


def match_simple(pattern, name):
    if pattern == "":
        return name == ""
    if pattern == "*":
        return True
    return deep(name.encode(), pattern.encode())


def expected_of(rules, events):
    expected = {}
    for b in rules.values():
        for r in b:
            expected.setdefault(r["target"], [])
    for line in open(events, encoding="utf-8"):
        line = line.rstrip("\n")
        env = json.loads(line)
        rec = env["Records"][0]
        bucket = rec["s3"]["bucket"]["name"]
        key = unquote_plus(rec["s3"]["object"]["key"])
        sent = set()
        for r in rules.get(bucket, []):
            pattern = new_pattern(r.get("prefix", ""), r.get("suffix", ""))
            if env["EventName"] in expand(r["events"]) and match_simple(pattern or "*", key):
                sent.add(r["target"])
        for t in sent:
            expected[t].append(line)
    return expected


def main():
    if sys.argv[1] == "--subset":
        target, rules, events = sys.argv[2:5]
        for line in expected_of(json.load(open(rules)), events)[target]:
            print(line)
        return
    rules, events, rx_log = sys.argv[1:4]
    expected = {t: v for t, v in expected_of(json.load(open(rules)), events).items() if t.startswith("/")}
    got = {}
    for line in open(rx_log):
        r = json.loads(line)
        got.setdefault(r["path"], []).append(r["body"])
    for t, want in sorted(expected.items()):
        have = got.get(t, [])
        if have == want:
            print(f"ok - {t} holds exactly the {len(want)} envelope(s) MinIO would have sent it")
        else:
            print(f"not ok - {t} holds {len(have)} envelope(s), MinIO would have sent {len(want)}")
            for w in want:
                if w not in have:
                    print("#   missing: " + w[:160])
            for h in have:
                if h not in want:
                    print("#   extra:   " + h[:160])
    extra = set(got) - set(expected)
    print(("not ok" if extra else "ok") + " - no other path received anything" +
          (": " + ", ".join(sorted(extra)) if extra else ""))


main()
