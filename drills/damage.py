#!/usr/bin/python3
"""drills/damage.py JOURNAL_DIR SEED OUT_DAMAGED -- damage luagate's journal.

Picks 1-3 random damages on the segment files (journal/*.seg): flip 1-8
random bytes, truncate at a random offset, append random garbage (sometimes
starting with a record magic, so it looks like the start of a record).  Before
damaging, every segment is parsed (magic "LGQ1", u32 length, u32 CRC32, body)
so that the load.py indices of the records touched by the damage are known:
they are written to OUT_DAMAGED, one per line.  Prints one line describing
what was done."""
import os
import random
import re
import struct

# CRC-32C (Castagnoli), the checksum of luagate's queue records (src/crc32c.c)
_CRC32C = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC32C[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF

import sys

jd, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(seed)
MAGIC = 0x3151474c
KEY = re.compile(rb'load/(\d+)\.bin')


def records(buf):
    """[(start, end, index)] of the intact records."""
    recs, off = [], 0
    while off + 12 <= len(buf):
        magic, ln, crc = struct.unpack_from("<III", buf, off)
        if magic == MAGIC and off + 12 + ln <= len(buf) and crc32c(buf[off + 12:off + 12 + ln]) == crc:
            m = KEY.search(buf, off + 12, off + 12 + ln)
            recs.append((off, off + 12 + ln, int(m.group(1)) if m else None))
            off += 12 + ln
        else:
            off += 1
    return recs


segs = sorted(os.path.join(jd, f) for f in os.listdir(jd) if f.endswith(".seg"))
segs = [s for s in segs if os.path.getsize(s) > 0]
damaged, what = set(), []
if not segs:
    print("no segment to damage")
    open(out, "w").close()
    sys.exit(0)
for _ in range(rnd.randint(1, 3)):
    seg = rnd.choice(segs)
    buf = bytearray(open(seg, "rb").read())
    if not buf:
        continue
    recs = records(bytes(buf))
    kind = rnd.choice(["flip", "flip", "truncate", "append"])
    if kind == "flip":
        offs = sorted(rnd.randrange(len(buf)) for _ in range(rnd.randint(1, 8)))
        for o in offs:
            buf[o] ^= rnd.randint(1, 255)
        hit = {i for s, e, i in recs for o in offs if s <= o < e}
        what.append("flipped %d byte(s) of %s at %s" % (len(offs), os.path.basename(seg), offs[:8]))
    elif kind == "truncate":
        at, was = rnd.randrange(len(buf)), len(buf)
        del buf[at:]
        hit = {i for s, e, i in recs if e > at}
        what.append("truncated %s at %d of %d bytes" % (os.path.basename(seg), at, was))
    else:
        g = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 5000)))
        if rnd.random() < 0.5:
            g = struct.pack("<II", MAGIC, rnd.randint(16, 4000)) + g
        buf += g
        hit = set()
        what.append("appended %d byte(s) of garbage to %s" % (len(g), os.path.basename(seg)))
    damaged |= {i for i in hit if i is not None}
    open(seg, "wb").write(buf)
with open(out, "w") as f:
    f.write("".join("%d\n" % i for i in sorted(damaged)))
print("; ".join(what) + " -> %d record(s) damaged" % len(damaged))
