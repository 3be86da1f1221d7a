#!/usr/bin/python3
"""e2e_verify.py EVENTS CHECK ARGS... -- what a server holds after the sample
events went through luagate, against what MinIO would have written there
(reference/minio-notify.md §1.4, §3).  Used by test_e2e_targets.sh.

The expected values are computed here from the sample file alone: the
record bytes are cut from each line ({"EventName","Key","Records":[r]}),
the namespace key is bucket + "/" + QueryUnescape(s3.object.key), and only
s3:ObjectRemoved:Delete deletes.  Each check prints "ok - ..." or
"not ok - ..." lines (with "# " detail lines); a server that cannot be
reached is a "not ok" naming it.

Checks:
  amqp-setup PORT EXCHANGE QUEUE      declare the topic exchange, a queue bound with '#'
  amqp PORT EXCHANGE QUEUE            the queue holds every envelope, in order
  subfile NAME FILE TOPIC [QOS]       lines written by e2e_sub.py (mqtt / nats)
  nsq HTTP_PORT TOPIC                 nsqd_peer.py's /__messages
  kafka BOOTSTRAP TOPIC               key, value, partition (sarama's hash partitioner)
  redis-ns PORT KEY | redis-access PORT KEY
  pg-ns PORT PASSWORD TABLE | pg-access PORT PASSWORD TABLE
  mysql-ns PORT PASSWORD TABLE | mysql-access PORT PASSWORD TABLE
  es PORT NS_INDEX ACCESS_INDEX       es_peer.py's /__docs
"""
import base64
import collections
import datetime
import json
import struct
import sys
import time
import urllib.request
from urllib.parse import unquote_plus

failures = 0


def ok(name):
    print("ok - " + name)


def bad(name, *detail):
    global failures
    failures += 1
    print("not ok - " + name)
    for d in detail:
        for line in str(d).splitlines() or [""]:
            print("#   " + line[:400])


def check(name, cond, *detail):
    if cond:
        ok(name)
    else:
        bad(name, *detail)
    return cond


def first_diff(got, want):
    """A short description of where two sequences differ."""
    if len(got) != len(want):
        head = "got %d items, want %d" % (len(got), len(want))
    else:
        head = "same length %d" % len(got)
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return "%s; first difference at #%d:\n got  %r\n want %r" % (head, i, g, w)
    return head


# ---- the sample file: what MinIO posted, and what it writes elsewhere -------------
class Event:
    def __init__(self, line):
        self.line = line                      # the envelope bytes, as MinIO sends it
        env = json.loads(line)
        pre = b'"Records":['
        i = line.index(pre) + len(pre)
        assert line.endswith(b"]}"), "envelope does not end with ]}"
        self.rec = line[i:-2]                 # the record bytes, cut, never re-encoded
        assert json.loads(self.rec) == env["Records"][0], "record cut wrong"
        r = env["Records"][0]
        self.name = r["eventName"]
        self.time = r["eventTime"]
        self.bucket = r["s3"]["bucket"]["name"]
        self.key = self.bucket + "/" + unquote_plus(r["s3"]["object"]["key"])
        assert self.key == env["Key"], "envelope Key %r != %r" % (env["Key"], self.key)
        self.records_only = b'{"Records":[' + self.rec + b']}'
        self.access = b'[{"Event":[' + self.rec + b'],"EventTime":"' + self.time.encode() + b'"}]'


def load(path):
    with open(path, "rb") as f:
        return [Event(l) for l in f.read().split(b"\n") if l.strip()]


def namespace(events):
    """bucket/object -> records-only JSON after every upsert and delete, in order."""
    d = collections.OrderedDict()
    for e in events:
        if e.name == "s3:ObjectRemoved:Delete":
            d.pop(e.key, None)
        else:
            d[e.key] = e.records_only
    return d


def per_key_order_ok(got, events, keyf):
    """Messages of one object key arrive in the order they were posted."""
    want = collections.defaultdict(list)
    for e in events:
        want[e.key].append(e)
    have = collections.defaultdict(list)
    for g in got:
        have[keyf(g)].append(g)
    return all(len(have[k]) == len(v) for k, v in want.items())


def http_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


# ---- envelopes: amqp, mqtt, nats, nsq, kafka ------------------------------------
def amqp_conn(port):
    import pika
    return pika.BlockingConnection(pika.ConnectionParameters(
        "127.0.0.1", int(port), "/", pika.PlainCredentials("guest", "guest"),
        connection_attempts=1, socket_timeout=5, blocked_connection_timeout=5))


def c_amqp_setup(events, port, exchange, queue):
    try:
        c = amqp_conn(port)
        ch = c.channel()
        # the same declaration the driver sends (MinIO: durable/auto_delete/internal off)
        ch.exchange_declare(exchange, exchange_type="topic", durable=False, auto_delete=False)
        ch.queue_delete(queue)
        ch.queue_declare(queue, durable=False, auto_delete=False)
        ch.queue_bind(queue, exchange, routing_key="#")
        c.close()
        ok("amqp: queue %s bound to exchange %s before posting" % (queue, exchange))
    except Exception as ex:
        bad("amqp: RabbitMQ on 127.0.0.1:%s unreachable or refused the setup" % port, repr(ex))


def c_amqp(events, port, exchange, queue, routing_key):
    try:
        c = amqp_conn(port)
        ch = c.channel()
        got = []
        deadline = time.time() + 10
        while len(got) < len(events) and time.time() < deadline:
            m, props, body = ch.basic_get(queue, auto_ack=True)
            if m is None:
                time.sleep(0.05)
                continue
            got.append((m, props, body))
        time.sleep(0.2)
        extra = ch.basic_get(queue, auto_ack=True)[0]
        ch.queue_delete(queue)
        c.close()
    except Exception as ex:
        bad("amqp: RabbitMQ on 127.0.0.1:%s unreachable" % port, repr(ex))
        return
    bodies = [b for _, _, b in got]
    want = [e.line for e in events]
    check("amqp: the queue got every envelope byte-identical, in order", bodies == want and extra is None,
          first_diff(bodies, want) + ("" if extra is None else "; and more messages than events"))
    if not got:
        return
    exch = {m.exchange for m, _, _ in got}
    check("amqp: published to exchange %s" % exchange, exch == {exchange}, exch)
    rk = {m.routing_key for m, _, _ in got}
    check("amqp: routing key %s" % routing_key, rk == {routing_key}, rk)
    ct = {p.content_type for _, p, _ in got}
    check("amqp: content-type application/json", ct == {"application/json"}, ct)
    hdr_want = [{"minio-bucket": e.bucket, "minio-event": e.name} for e in events]
    hdr_got = [{k: (v.decode() if isinstance(v, bytes) else v) for k, v in (p.headers or {}).items()}
               for _, p, _ in got]
    check("amqp: headers minio-bucket and minio-event on every message", hdr_got == hdr_want,
          first_diff(hdr_got, hdr_want))


def c_subfile(events, name, path, topic, qos=None):
    try:
        with open(path) as f:
            got = [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        got = []
    bodies = [g["body"].encode("utf-8", "surrogateescape") for g in got]
    want = [e.line for e in events]
    check("%s: the subscriber got every envelope byte-identical, in order" % name, bodies == want,
          first_diff(bodies, want))
    if not got:
        return
    tk = "topic" if "topic" in got[0] else "subject"
    topics = {g[tk] for g in got}
    check("%s: every message on %s %s" % (name, tk, topic), topics == {topic}, topics)
    if qos is not None:
        q = {(g["qos"], g["retain"]) for g in got}
        check("%s: delivered with QoS %s, retain off" % (name, qos), q == {(int(qos), 0)}, q)
    if tk == "subject":
        h = {(g["headers"], g["reply"]) for g in got}
        check("%s: no headers and no reply subject" % name, h == {("", None)}, h)


def c_nsq(events, http_port, topic):
    try:
        got = http_json("http://127.0.0.1:%s/__messages?topic=%s" % (http_port, topic))
    except Exception as ex:
        bad("nsq: nsqd_peer on 127.0.0.1:%s unreachable" % http_port, repr(ex))
        return
    bodies = [base64.b64decode(m["body_b64"]) for m in got]
    want = [e.line for e in events]
    check("nsq: nsqd got every envelope byte-identical, in order", bodies == want, first_diff(bodies, want))


def fnv1a32(b):
    h = 0x811c9dc5
    for c in b:
        h = ((h ^ c) * 0x01000193) & 0xffffffff
    return h


def sarama_partition(key, n):
    h = fnv1a32(key)
    if h >= 1 << 31:
        h -= 1 << 32
    return abs(h) % n


def c_kafka(events, bootstrap, topic):
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    try:
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "e2e-verify", "enable.auto.commit": False,
                      "socket.timeout.ms": 5000})
        md = c.list_topics(topic, timeout=5)
        parts = sorted(md.topics[topic].partitions) if topic in md.topics and not md.topics[topic].error else []
        if not parts:
            bad("kafka: topic %s does not exist on %s" % (topic, bootstrap))
            return
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        got, deadline = [], time.time() + 15
        while len(got) < len(events) and time.time() < deadline:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            got.append(m)
        for m in c.consume(100, 0.5):     # anything beyond what was expected
            if not m.error():
                got.append(m)
        c.close()
    except Exception as ex:
        bad("kafka: cluster at %s unreachable" % bootstrap, repr(ex))
        return
    n = len(parts)
    # order only holds within a partition: compare per partition, in offset order
    by_part = collections.defaultdict(list)
    for m in got:
        by_part[m.partition()].append((m.offset(), m.key(), m.value(), m.headers()))
    have = {p: [(k, v) for _, k, v, _ in sorted(ms)] for p, ms in by_part.items()}
    want_by = collections.defaultdict(list)
    for e in events:
        want_by[sarama_partition(e.key.encode(), n)].append((e.key.encode(), e.line))
    pairs = sorted(kv for ms in have.values() for kv in ms)
    want_pairs = sorted((e.key.encode(), e.line) for e in events)
    check("kafka: %d messages, key = bucket/object, value = the envelope byte-identical" % len(events),
          pairs == want_pairs, first_diff(pairs, want_pairs))
    check("kafka: every key on sarama's hash partition (abs(int32(fnv1a)) %% %d), in order" % n,
          dict(have) == dict(want_by),
          "\n".join("partition %d: %s" % (p, first_diff(have.get(p, []), want_by.get(p, [])))
                    for p in range(n) if have.get(p, []) != want_by.get(p, [])))
    hdrs = [h for ms in by_part.values() for _, _, _, h in ms if h]
    check("kafka: no record headers", not hdrs, hdrs[:3])


# ---- redis ---------------------------------------------------------------------
def redis_conn(port):
    import redis
    r = redis.Redis(host="127.0.0.1", port=int(port), socket_timeout=5)
    r.ping()
    return r


def c_redis_ns(events, port, key):
    try:
        r = redis_conn(port)
        typ = r.type(key)
        got = r.hgetall(key)
    except Exception as ex:
        bad("redis namespace: Redis on 127.0.0.1:%s unreachable" % port, repr(ex))
        return
    want = namespace(events)
    try:
        names = sorted({c.get("name") for c in r.client_list()})
    except Exception as ex:
        names = [repr(ex)]
    check("redis: the gateway's connections are named MinIO (CLIENT SETNAME)", "MinIO" in names, names)
    check("redis namespace: %s is a hash" % key, typ == b"hash", typ)
    gk, wk = sorted(got), sorted(k.encode() for k in want)
    check("redis namespace: field set = bucket/object after every upsert and delete (%d fields)" % len(wk),
          gk == wk, "missing: %r" % sorted(set(wk) - set(gk)), "unexpected: %r" % sorted(set(gk) - set(wk)))
    wrong = [k for k, v in want.items() if got.get(k.encode()) not in (None, v)]
    check("redis namespace: every value is {\"Records\":[record]} byte-identical", not wrong,
          *["%s: got %r" % (k, got[k.encode()][:200]) for k in wrong[:3]])


def c_redis_access(events, port, key):
    try:
        r = redis_conn(port)
        typ = r.type(key)
        got = r.lrange(key, 0, -1)
    except Exception as ex:
        bad("redis access: Redis on 127.0.0.1:%s unreachable" % port, repr(ex))
        return
    want = [e.access for e in events]
    check("redis access: %s is a list" % key, typ == b"list", typ)
    check("redis access: every event RPUSHed as [{\"Event\":[record],\"EventTime\":...}], in order",
          got == want, first_diff(got, want))


# ---- SQL -----------------------------------------------------------------------
def pg_conn(port, password):
    import psycopg2
    return psycopg2.connect(host="127.0.0.1", port=int(port), dbname="luagate", user="gw", password=password,
                            connect_timeout=5)


def my_conn(port, password):
    import pymysql
    return pymysql.connect(host="127.0.0.1", port=int(port), user="gw", password=password, database="luagate",
                           connect_timeout=5, charset="utf8mb4")


def sql_rows(kind, port, password, query):
    c = pg_conn(port, password) if kind == "postgres" else my_conn(port, password)
    try:
        cur = c.cursor()
        cur.execute(query)
        return cur.fetchall()
    finally:
        c.close()


def as_bytes(v):
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    return json.dumps(v).encode()


SQL_COLUMNS = {  # MinIO's DDL (MariaDB: JSON is LONGTEXT, key_hash carries a UNIQUE KEY, ERRATA)
    ("postgres", "ns"): [("key", "character varying"), ("value", "jsonb")],
    ("postgres", "access"): [("event_time", "timestamp with time zone"), ("event_data", "jsonb")],
    ("mysql", "ns"): [("key_name", "varchar(3072)"), ("key_hash", "char(64)"), ("value", "longtext")],
    ("mysql", "access"): [("event_time", "datetime"), ("event_data", "longtext")],
}


def check_columns(kind, fmt, port, password, table):
    if kind == "postgres":
        q = ("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '%s' "
             "ORDER BY ordinal_position" % table)
    else:
        q = ("SELECT column_name, column_type FROM information_schema.columns WHERE table_schema = 'luagate' "
             "AND table_name = '%s' ORDER BY ordinal_position" % table)
    try:
        cols = [tuple(as_bytes(x).decode() for x in r) for r in sql_rows(kind, port, password, q)]
    except Exception as ex:
        cols = [repr(ex)]
    want = SQL_COLUMNS[(kind, fmt)]
    check("%s %s: the table has MinIO's columns %s" % (kind, fmt, ", ".join("%s %s" % c for c in want)),
          cols == want, cols)


def c_sql_ns(kind, events, port, password, table):
    q = ("SELECT key, value::text FROM %s" if kind == "postgres" else "SELECT key_name, value FROM %s") % table
    try:
        rows = sql_rows(kind, port, password, q)
    except Exception as ex:
        bad("%s namespace: %s on 127.0.0.1:%s: %s" % (kind, kind, port, q), repr(ex))
        return
    check_columns(kind, "ns", port, password, table)
    want = namespace(events)
    got = {k: as_bytes(v) for k, v in rows}
    check("%s namespace: one row per bucket/object left after every upsert and delete (%d rows)"
          % (kind, len(want)), sorted(got) == sorted(want) and len(rows) == len(got),
          "missing: %r" % sorted(set(want) - set(got)), "unexpected: %r" % sorted(set(got) - set(want)),
          "rows: %d" % len(rows))
    wrong = [k for k, v in want.items() if k in got and json.loads(got[k]) != json.loads(v)]
    check("%s namespace: every value is the JSON of {\"Records\":[record]}" % kind, not wrong,
          *["%s: got %r" % (k, got[k][:200]) for k in wrong[:3]])
    if kind == "mysql":  # MariaDB's JSON is text: MinIO's bytes are stored as sent
        wrong = [k for k, v in want.items() if k in got and got[k] != v]
        check("mysql namespace: the stored values are byte-identical", not wrong,
              *["%s: got %r" % (k, got[k][:200]) for k in wrong[:3]])
        try:
            h = sql_rows(kind, port, password, "SELECT COUNT(*) FROM %s WHERE key_hash = SHA2(key_name, 256)"
                         % table)[0][0]
            check("mysql namespace: key_hash = SHA2(key_name, 256) on every row", h == len(rows), h)
        except Exception as ex:
            bad("mysql namespace: key_hash column", repr(ex))


def canon(obj):
    """JSON text independent of key order (JSONB reorders object keys)."""
    return json.dumps(obj, sort_keys=True)


def c_sql_access(kind, events, port, password, table):
    if kind == "postgres":
        # insertion order: transaction, then command within it
        q = ("SELECT event_time, event_data::text FROM %s ORDER BY xmin::text::bigint, cmin::text::bigint"
             % table)
    else:  # InnoDB without a primary key: the hidden row id is the insertion order
        q = "SELECT event_time, event_data FROM %s" % table
    try:
        rows = sql_rows(kind, port, password, q)
    except Exception as ex:
        bad("%s access: %s on 127.0.0.1:%s: %s" % (kind, kind, port, q), repr(ex))
        return
    check_columns(kind, "access", port, password, table)
    recs = [json.loads(as_bytes(d)) for _, d in rows]
    want = [json.loads(e.records_only) for e in events]
    check("%s access: one row per event (%d)" % (kind, len(events)), len(rows) == len(events), len(rows))
    check("%s access: event_data = {\"Records\":[record]}, every event once" % kind,
          sorted(map(canon, recs)) == sorted(map(canon, want)),
          "missing: %r" % sorted(set(map(canon, want)) - set(map(canon, recs)))[:2])
    # The driver splits a batch over max_open_connections (default 2) by a hash
    # of bucket/object, so only one object's rows keep their order; MinIO's
    # store replay (queue_dir) inserts one event after the other.  Check the
    # guarantee; report the global order as a note.
    label = lambda r: r["Records"][0]["s3"]["bucket"]["name"] + "/" + r["Records"][0]["s3"]["object"]["key"]
    per_got, per_want = collections.defaultdict(list), collections.defaultdict(list)
    for r in recs:
        per_got[label(r)].append(canon(r))
    for w in want:
        per_want[label(w)].append(canon(w))
    check("%s access: the rows of each object inserted in the order its events were posted" % kind,
          per_got == per_want, *["%s: order differs" % k for k in per_want if per_got.get(k) != per_want[k]][:3])
    if recs != want:
        print("# note: %s access: global row order differs from the posting order (rows of different "
              "objects go over different connections); %s" % (kind, first_diff(
                  [label(r) + " " + r["Records"][0]["eventTime"] for r in recs],
                  [label(w) + " " + w["Records"][0]["eventTime"] for w in want]).replace("\n", " |")))
    # event_time: eventTime parsed back (MySQL DATETIME has no fraction)
    tw, tg = [], []
    by_data = {canon(json.loads(e.records_only)): e for e in events}
    for t, d in rows:
        e = by_data.get(canon(json.loads(as_bytes(d))))
        if not e:
            continue
        wt = datetime.datetime.strptime(e.time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        if kind == "mysql":
            wt = wt.replace(microsecond=0, tzinfo=None)
        tw.append(wt)
        tg.append(t)
    check("%s access: event_time = the record's eventTime%s" % (kind, " (to the second)" if kind == "mysql" else ""),
          tg == tw and tg, first_diff(tg, tw))


# ---- elasticsearch -------------------------------------------------------------
M64 = (1 << 64) - 1
HH_INIT0 = [0xdbe6d5d5fe4cce2f, 0xa4093822299f31d0, 0x13198a2e03707344, 0x243f6a8885a308d3]
HH_INIT1 = [0x3bd39e10cb0ef593, 0xc0acf169b5f18a8c, 0xbe5466cf34e90c6c, 0x452821e638d01377]
MINIO_ES_KEY = bytes.fromhex("4be734fa8e238acd263e83e6bb968552040f935da39f441497e09d1322de36a0")


class HighwayHash:
    """HighwayHash (Google's portable reference), as minio/highwayhash computes it."""

    def __init__(self, key):
        k = struct.unpack("<4Q", key)
        self.v0 = [HH_INIT0[i] ^ k[i] for i in range(4)]
        self.v1 = [HH_INIT1[i] ^ (((k[i] >> 32) | (k[i] << 32)) & M64) for i in range(4)]
        self.mul0, self.mul1 = HH_INIT0[:], HH_INIT1[:]

    @staticmethod
    def zipper(v1, v0):
        a0 = ((((v0 & 0xff000000) | (v1 & 0xff00000000)) >> 24) |
              (((v0 & 0xff0000000000) | (v1 & 0xff000000000000)) >> 16) |
              (v0 & 0xff0000) | ((v0 & 0xff00) << 32) | ((v1 & 0xff00000000000000) >> 8) | (v0 << 56)) & M64
        a1 = ((((v1 & 0xff000000) | (v0 & 0xff00000000)) >> 24) | (v1 & 0xff0000) |
              ((v1 & 0xff0000000000) >> 16) | ((v1 & 0xff00) << 24) | ((v0 & 0xff000000000000) >> 8) |
              ((v1 & 0xff) << 48) | (v0 & 0xff00000000000000)) & M64
        return a1, a0

    def update(self, lanes):
        v0, v1, m0, m1 = self.v0, self.v1, self.mul0, self.mul1
        for i in range(4):
            v1[i] = (v1[i] + m0[i] + lanes[i]) & M64
            m0[i] ^= ((v1[i] & 0xffffffff) * (v0[i] >> 32)) & M64
            v0[i] = (v0[i] + m1[i]) & M64
            m1[i] ^= ((v0[i] & 0xffffffff) * (v1[i] >> 32)) & M64
        for dst, src in ((v0, v1), (v1, v0)):
            for hi, lo in ((1, 0), (3, 2)):
                a1, a0 = self.zipper(src[hi], src[lo])
                dst[hi] = (dst[hi] + a1) & M64
                dst[lo] = (dst[lo] + a0) & M64

    def feed(self, data):
        n32 = len(data) & ~31
        for off in range(0, n32, 32):
            self.update(struct.unpack_from("<4Q", data, off))
        mod32 = len(data) & 31
        if mod32:
            rest = data[n32:]
            for i in range(4):
                self.v0[i] = (self.v0[i] + ((mod32 << 32) + mod32)) & M64
            rot = lambda x: ((x << mod32) | (x >> (32 - mod32))) & 0xffffffff
            self.v1 = [(rot(v >> 32) << 32) | rot(v & 0xffffffff) for v in self.v1]
            mod4 = mod32 & 3
            packet = bytearray(32)
            packet[:mod32 & ~3] = rest[:mod32 & ~3]
            rem = rest[mod32 & ~3:]
            if mod32 & 16:  # the 4 bytes that end the input (0..3 of them after the last full 4)
                packet[28:32] = rest[len(rest) - 4:]
            elif mod4:
                packet[16], packet[17], packet[18] = rem[0], rem[mod4 >> 1], rem[mod4 - 1]
            self.update(struct.unpack("<4Q", bytes(packet)))
        return self

    def permute_update(self):
        r = lambda x: ((x >> 32) | (x << 32)) & M64
        v0 = self.v0
        self.update([r(v0[2]), r(v0[3]), r(v0[0]), r(v0[1])])

    def sum256(self):
        for _ in range(10):
            self.permute_update()
        out = []
        for hi, lo in ((1, 0), (3, 2)):
            a3 = (self.v1[hi] + self.mul1[hi]) & 0x3fffffffffffffff
            a2 = (self.v1[lo] + self.mul1[lo]) & M64
            a1 = (self.v0[hi] + self.mul0[hi]) & M64
            a0 = (self.v0[lo] + self.mul0[lo]) & M64
            m1 = a1 ^ (((a3 << 1) | (a2 >> 63)) & M64) ^ (((a3 << 2) | (a2 >> 62)) & M64)
            m0 = a0 ^ ((a2 << 1) & M64) ^ ((a2 << 2) & M64)
            out += [m0, m1]
        return struct.pack("<4Q", *out)


def es_doc_id(key):
    return base64.urlsafe_b64encode(HighwayHash(MINIO_ES_KEY).feed(key.encode()).sum256()).decode()


def c_es(events, port, ns_index, access_index):
    # the port of HighwayHash against minio-notify.md §3.6's vectors first
    vectors = {"images/myphoto.jpg": "p6Ki67qy3lCiC8S6O7Sqg45IYNdXdtxyGnAfASuSU2c=",
               "mybucket/a b/c.txt": "tHe2_CBr0o3cZV41IIdBN3QFRTWYwVzIQbHs1BnN98A=",
               "bucket/": "4pdeX0i5CptT7cRrDiq6KwCadUbpJAodOcWchI1RVuU="}
    hh_ok = all(es_doc_id(k) == v for k, v in vectors.items())
    if not hh_ok:
        bad("elasticsearch: the verifier's HighwayHash-256 reproduces MinIO's doc ids",
            *["%s: %s" % (k, es_doc_id(k)) for k in vectors])
    try:
        docs = http_json("http://127.0.0.1:%s/__docs" % port)
    except Exception as ex:
        bad("elasticsearch: es_peer on 127.0.0.1:%s unreachable" % port, repr(ex))
        return
    ns = docs.get(ns_index, {})
    want = namespace(events)
    want_src = {k: v.decode() for k, v in want.items()}
    got_src = {i: s.rstrip("\n") for i, s in ns.items()}
    check("elasticsearch namespace: one document per bucket/object left (%d)" % len(want),
          len(ns) == len(want), len(ns))
    check("elasticsearch namespace: every document is {\"Records\":[record]} byte-identical",
          sorted(got_src.values()) == sorted(want_src.values()),
          first_diff(sorted(got_src.values()), sorted(want_src.values())))
    if hh_ok:
        want_ids = {es_doc_id(k): v for k, v in want_src.items()}
        check("elasticsearch namespace: doc id = base64url(HighwayHash-256(bucket/object)), MinIO's key",
              got_src == want_ids, "missing ids: %r" % sorted(set(want_ids) - set(got_src))[:5],
              "unexpected ids: %r" % sorted(set(got_src) - set(want_ids))[:5])
    acc = docs.get(access_index, {})
    got = [s.rstrip("\n") for s in acc.values()]
    wanta = [e.records_only.decode() for e in events]
    check("elasticsearch access: one document per event, {\"Records\":[record]}, in order",
          got == wanta, first_diff(got, wanta))


def main():
    events = load(sys.argv[1])
    what, args = sys.argv[2], sys.argv[3:]
    f = {"amqp-setup": c_amqp_setup, "amqp": c_amqp, "subfile": c_subfile, "nsq": c_nsq, "kafka": c_kafka,
         "redis-ns": c_redis_ns, "redis-access": c_redis_access,
         "pg-ns": lambda ev, *a: c_sql_ns("postgres", ev, *a),
         "pg-access": lambda ev, *a: c_sql_access("postgres", ev, *a),
         "mysql-ns": lambda ev, *a: c_sql_ns("mysql", ev, *a),
         "mysql-access": lambda ev, *a: c_sql_access("mysql", ev, *a),
         "es": c_es, "hh": lambda ev, *keys: [print(k, es_doc_id(k)) for k in keys]}[what]
    try:
        f(events, *args)
    except Exception as ex:  # a crash is a failure with its reason, never a silent pass
        import traceback
        bad("%s: verifier crashed" % what, traceback.format_exc())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
