#!/usr/bin/python3
"""drills/seen.py KIND ARGS... -- what a target holds, as load.py indices.

Prints one line per message the target holds, in the order the target shows
(arrival order, list order, insertion order, stream sequence), as "INDEX" or,
for Kafka, "PARTITION INDEX" (order only holds within a partition).  The
index comes from the object key load.py gives every event (load/<i>.bin).

  lines FILE                      JSON lines (file target, subscriber logs, snapshots)
  webhook RXLOG                   tests/peers/webhook_rx.py's log, requests answered 200
  redis-hash PORT KEY             namespace format: the hash's fields (no order)
  redis-list PORT KEY             access format: the list, in order
  pg PORT PASSWORD TABLE          access format: rows in insertion order
  mysql PORT PASSWORD TABLE       access format: rows in insertion order
  amqp PORT QUEUE                 drains the queue (basic_get), in order
  kafka BOOTSTRAP TOPIC           every partition from the beginning (kcat)
  nsq HTTP_PORT TOPIC             nsqd_peer.py's /__messages, in order
  es PORT INDEX                   es_peer.py's /__docs, insertion order
  nats-setup PORT STREAM SUBJECT  create a file-backed JetStream stream
  nats PORT STREAM                the stream's messages by sequence
"""
import base64
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request

PAY = re.compile(rb'"key":\s*"(\d+)\.bin"')
KEY = re.compile(rb'load/(\d+)\.bin')


def emit(blobs, rx=PAY):
    out = []
    for b in blobs:
        if isinstance(b, str):
            b = b.encode("utf-8", "surrogateescape")
        for m in rx.findall(b):      # a torn line glued to the next one holds two
            out.append(m.decode())
    sys.stdout.write("".join(x + "\n" for x in out))


def http_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


class Nats:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
        self.buf = b""
        self.line()  # INFO
        self.s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n'
                       b"SUB _INBOX.drill 1\r\nPING\r\n")
        while self.line() != b"PONG":
            pass
        self.n = 0

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise IOError("nats closed")
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def take(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.s.recv(65536)
        d, self.buf = self.buf[:n], self.buf[n + 2:]
        return d

    def request(self, subject, body):
        self.n += 1
        body = json.dumps(body).encode()
        self.s.sendall(b"PUB %s _INBOX.drill %d\r\n%s\r\n" % (subject.encode(), len(body), body))
        while True:
            l = self.line()
            if l == b"PING":
                self.s.sendall(b"PONG\r\n")
                continue
            p = l.split()
            if p and p[0] == b"MSG":
                return json.loads(self.take(int(p[-1])))
            if p and p[0] == b"HMSG":
                d = self.take(int(p[-1]))
                return json.loads(d[int(p[-2]):] or b"{}")
            if p and p[0] == b"-ERR":
                raise IOError(l.decode())


def main():
    kind, a = sys.argv[1], sys.argv[2:]
    if kind == "lines":
        try:
            emit(open(a[0], "rb").read().split(b"\n"))
        except FileNotFoundError:
            pass
    elif kind == "webhook":
        bodies = []
        try:
            for l in open(a[0], "rb"):
                try:
                    r = json.loads(l)
                except ValueError:
                    continue
                if r.get("status") == 200:
                    bodies.append(r.get("body", ""))
        except FileNotFoundError:
            pass
        emit(bodies)
    elif kind in ("redis-hash", "redis-list"):
        import redis
        r = redis.Redis(host="127.0.0.1", port=int(a[0]), socket_timeout=10)
        if kind == "redis-hash":
            emit(r.hkeys(a[1]), KEY)
        else:
            emit(r.lrange(a[1], 0, -1))
    elif kind == "pg":
        import psycopg2
        c = psycopg2.connect(host="127.0.0.1", port=int(a[0]), dbname="luagate", user="gw", password=a[1],
                             connect_timeout=5)
        cur = c.cursor()
        cur.execute("SELECT event_data::text FROM %s ORDER BY xmin::text::bigint, cmin::text::bigint" % a[2])
        emit([r[0] for r in cur.fetchall()])
    elif kind == "mysql":
        import pymysql
        c = pymysql.connect(host="127.0.0.1", port=int(a[0]), user="gw", password=a[1], database="luagate",
                            connect_timeout=5)
        cur = c.cursor()
        cur.execute("SELECT event_data FROM %s" % a[2])
        emit([r[0] if isinstance(r[0], (bytes, str)) else json.dumps(r[0]) for r in cur.fetchall()])
    elif kind == "amqp":
        import pika
        c = pika.BlockingConnection(pika.ConnectionParameters(
            "127.0.0.1", int(a[0]), "/", pika.PlainCredentials("guest", "guest"), socket_timeout=5))
        ch = c.channel()
        got = []
        while True:
            m, _, body = ch.basic_get(a[1], auto_ack=True)
            if m is None:
                break
            got.append(body)
        c.close()
        emit(got)
    elif kind == "amqp-setup":  # PORT EXCHANGE QUEUE: durable queue bound to a durable topic exchange
        import pika
        c = pika.BlockingConnection(pika.ConnectionParameters(
            "127.0.0.1", int(a[0]), "/", pika.PlainCredentials("guest", "guest"), socket_timeout=5))
        ch = c.channel()
        ch.exchange_declare(a[1], exchange_type="topic", durable=True)
        ch.queue_delete(a[2])
        ch.queue_declare(a[2], durable=True)
        ch.queue_bind(a[2], a[1], routing_key="#")
        c.close()
    elif kind == "kafka-file":
        # what a consumer running through the whole drill wrote ("%p %k" lines):
        # the mock cluster keeps only ~5 MB per partition, so a long drill must be
        # read while it runs, not at the end
        for l in open(a[0], "rb").read().split(b"\n"):
            p = l.split(b" ", 1)
            if len(p) == 2:
                m = KEY.search(p[1])
                if m:
                    sys.stdout.write("%s %s\n" % (p[0].decode(), m.group(1).decode()))
    elif kind == "kafka":
        # right after the mock's brokers come back kcat may see no partition yet: retry
        out = b""
        for attempt in range(10):
            r = subprocess.run(["kcat", "-C", "-b", a[0], "-t", a[1], "-e", "-o", "beginning", "-q",
                                "-f", "%p %k\\n"], capture_output=True, timeout=120)
            out = r.stdout
            if r.returncode == 0 and out.strip():
                break
            time.sleep(1)
        for l in out.split(b"\n"):
            p = l.split(b" ", 1)
            if len(p) == 2:
                m = KEY.search(p[1])
                if m:
                    sys.stdout.write("%s %s\n" % (p[0].decode(), m.group(1).decode()))
    elif kind == "nsq":
        got = http_json("http://127.0.0.1:%s/__messages?topic=%s" % (a[0], a[1]))
        emit([base64.b64decode(m["body_b64"]) for m in got])
    elif kind == "es":
        docs = http_json("http://127.0.0.1:%s/__docs" % a[0]).get(a[1], {})
        emit(list(docs.values()))
    elif kind == "nats-setup":
        n = Nats(a[0])
        r = n.request("$JS.API.STREAM.CREATE." + a[1],
                      {"name": a[1], "subjects": [a[2]], "storage": "file", "num_replicas": 1})
        if "error" in r and r["error"].get("err_code") != 10058:
            sys.exit("stream create: %r" % r)
    elif kind == "nats":
        n = Nats(a[0])
        info = n.request("$JS.API.STREAM.INFO." + a[1], {})
        st = info["state"]
        blobs = []
        for seq in range(st["first_seq"], st["last_seq"] + 1):
            r = n.request("$JS.API.STREAM.MSG.GET." + a[1], {"seq": seq})
            if "message" in r:
                blobs.append(base64.b64decode(r["message"].get("data", "")))
        emit(blobs)
    else:
        sys.exit("seen.py: unknown kind " + kind)


main()
