#!/usr/bin/env python3
"""drills/load.py URL N OUT [options] -- post N unique MinIO envelopes.

tests/integration/load.py with what the drills need on top: a START index so
that several runs (kill -9 cycles) never reuse a key, a RATE limit and one
connection (--conc 1) for runs whose delivery order is checked, and a record
of what was offered and how each request was answered.

  OUT             the index of every event answered 200, one per line, written
                  as soon as the answer arrives (a kill -9 mid-way keeps it)
  --start S       first index (default 0): keys are load/S.bin ... load/S+N-1.bin
  --conc C        concurrent keep-alive connections (default 8)
  --rate R        at most R events per second over all connections (default: no limit)
  --token T       Authorization: Bearer T
  --offered F     append the index of every event sent (before its answer) to F
  --codes F       write {"200": n, "503": n, ..., "retry_after": n, "error": n} to F at the end
  --stop-on-fail  stop when the gateway is unreachable (default: stop a worker after 3 failed tries)
"""
import argparse
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlparse

ap = argparse.ArgumentParser()
ap.add_argument("url"); ap.add_argument("n", type=int); ap.add_argument("out")
ap.add_argument("--start", type=int, default=0)
ap.add_argument("--conc", type=int, default=8)
ap.add_argument("--rate", type=float, default=0)
ap.add_argument("--token")
ap.add_argument("--offered")
ap.add_argument("--codes")
a = ap.parse_args()
u = urlparse(a.url)
TEMPLATE = ('{"EventName":"s3:ObjectCreated:Put","Key":"load/%d.bin","Records":[{"eventVersion":"2.0",'
            '"eventSource":"minio:s3","awsRegion":"","eventTime":"2026-11-21T08:00:02.653Z",'
            '"eventName":"s3:ObjectCreated:Put","userIdentity":{"principalId":"minioadmin"},'
            '"requestParameters":{"principalId":"minioadmin","region":"","sourceIPAddress":"10.0.0.1"},'
            '"responseElements":{"x-amz-request-id":"%016X"},"s3":{"s3SchemaVersion":"1.0",'
            '"configurationId":"Config","bucket":{"name":"load","ownerIdentity":{"principalId":"minioadmin"},'
            '"arn":"arn:aws:s3:::load"},"object":{"key":"%d.bin","size":%d,"eTag":"d41d8cd98f00b204e9800998ecf8427e",'
            '"sequencer":"%016X"}},"source":{"host":"10.0.0.1","port":"","userAgent":"load.py"}}]}')
lock = threading.Lock()
nxt = [a.start]
end = a.start + a.n
acked = open(a.out, "a", buffering=1)
offered = open(a.offered, "a", buffering=1) if a.offered else None
codes = {}
t0 = time.time()


def count(k):
    with lock:
        codes[k] = codes.get(k, 0) + 1


def worker():
    conn = None
    while True:
        with lock:
            i = nxt[0]
            if i >= end:
                return
            nxt[0] += 1
            if offered:
                offered.write("%d\n" % i)
        if a.rate > 0:
            due = t0 + (i - a.start) / a.rate
            d = due - time.time()
            if d > 0:
                time.sleep(d)
        body = TEMPLATE % (i, i, i, i + 1, i)
        headers = {"Content-Type": "application/json"}
        if a.token:
            headers["Authorization"] = "Bearer " + a.token
        for attempt in range(3):
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                conn.request("POST", u.path or "/", body, headers)
                r = conn.getresponse()
                r.read()
                count(str(r.status))
                if r.status == 200:
                    with lock:
                        acked.write("%d\n" % i)
                elif r.status == 503 and r.getheader("Retry-After"):
                    count("retry_after")
                break
            except Exception:
                conn = None
                if attempt == 2:
                    count("error")
                    return  # the gateway is gone: stop this worker
                time.sleep(0.05)


threads = [threading.Thread(target=worker) for _ in range(a.conc)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if a.codes:
    with open(a.codes, "w") as f:
        json.dump(codes, f)
