#!/usr/bin/python3
"""drills/figures.py NAME ACKED SEEN [--offered N|FILE] [--order] [--exclude FILE]

Compares what load.py saw acknowledged (ACKED: one index a line) with what the
target holds (SEEN: drills/seen.py output, "INDEX" or "GROUP INDEX").  Prints

  # figures NAME: offered=O acknowledged=A delivered=D duplicates=X lost=L [unacked_delivered=U] [order=ok|bad]

delivered = distinct events at the target, duplicates = extra copies, lost =
acknowledged events missing at the target (minus the --exclude list, e.g.
records the corrupt drill damaged on purpose).  --order: within each group,
the first copy of every event must come in increasing index order (load.py
posts one event at a time, so index order is queue order).  Exit 1 if lost > 0
or the order is broken; the missing indices go to stderr (first 20)."""
import collections
import os
import sys

name, acked_f, seen_f = sys.argv[1:4]
opts = sys.argv[4:]
order = "--order" in opts
offered = None
exclude = set()
for i, o in enumerate(opts):
    if o == "--offered":
        v = opts[i + 1]
        offered = len(open(v).read().split()) if os.path.exists(v) else int(v)
    if o == "--exclude":
        exclude = {int(x) for x in open(opts[i + 1]).read().split()}


def ints(path):
    try:
        return [int(x) for x in open(path).read().split()]
    except FileNotFoundError:
        return []


acked = set(ints(acked_f))
groups = collections.defaultdict(list)
total = 0
for l in open(seen_f):
    p = l.split()
    if not p:
        continue
    g, i = (p[0], int(p[1])) if len(p) > 1 else ("", int(p[0]))
    groups[g].append(i)
    total += 1
seen = set(i for v in groups.values() for i in v)
lost = sorted(acked - seen - exclude)
bad_order = []
if order:
    for g, v in groups.items():
        first, s = [], set()
        for i in v:
            if i not in s:
                s.add(i)
                first.append(i)
        for a, b in zip(first, first[1:]):
            if b < a:
                bad_order.append((g, a, b))
                break
if offered is None:
    offered = max(acked | seen) + 1 - min(acked | seen) if acked | seen else 0
line = "# figures %s: offered=%d acknowledged=%d delivered=%d duplicates=%d lost=%d" % (
    name, offered, len(acked), len(seen), total - len(seen), len(lost))
if seen - acked:
    line += " unacked_delivered=%d" % len(seen - acked)
if exclude:
    line += " excluded=%d" % len(exclude & acked)
if order:
    line += " order=" + ("ok" if not bad_order else "bad")
print(line)
if lost:
    sys.stderr.write("#   lost (first 20): %s\n" % " ".join(map(str, lost[:20])))
if bad_order:
    sys.stderr.write("#   order broken: %s\n" % "; ".join("%s: %d then %d" % b for b in bad_order))
sys.exit(1 if lost or bad_order else 0)
