#!/usr/bin/env python3
"""load.py URL N OUT [CONCURRENCY] [TOKEN] -- post N unique MinIO envelopes.

Each event is a sample envelope with its object key made unique
("load/<i>.bin"), posted over keep-alive connections by CONCURRENCY threads.
The index of every event answered 200 is appended to OUT as soon as the
answer arrives, so a test can kill the gateway mid-way and still know what
was acknowledged.  Stops by itself after N events (or when the gateway is gone)."""
import http.client
import json
import sys
import threading
from urllib.parse import urlparse

url, total, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conc = int(sys.argv[4]) if len(sys.argv) > 4 else 8
token = sys.argv[5] if len(sys.argv) > 5 else None
u = urlparse(url)
TEMPLATE = ('{"EventName":"s3:ObjectCreated:Put","Key":"load/%d.bin","Records":[{"eventVersion":"2.0",'
            '"eventSource":"minio:s3","awsRegion":"","eventTime":"2026-11-21T08:00:02.653Z",'
            '"eventName":"s3:ObjectCreated:Put","userIdentity":{"principalId":"minioadmin"},'
            '"requestParameters":{"principalId":"minioadmin","region":"","sourceIPAddress":"10.0.0.1"},'
            '"responseElements":{"x-amz-request-id":"%016X"},"s3":{"s3SchemaVersion":"1.0",'
            '"configurationId":"Config","bucket":{"name":"load","ownerIdentity":{"principalId":"minioadmin"},'
            '"arn":"arn:aws:s3:::load"},"object":{"key":"%d.bin","size":%d,"eTag":"d41d8cd98f00b204e9800998ecf8427e",'
            '"sequencer":"%016X"}},"source":{"host":"10.0.0.1","port":"","userAgent":"load.py"}}]}')
lock = threading.Lock()
next_i = [0]
acked = open(out, "a", buffering=1)


def worker():
    conn = None
    while True:
        with lock:
            i = next_i[0]
            if i >= total:
                return
            next_i[0] += 1
        body = TEMPLATE % (i, i, i, i + 1, i)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        for attempt in range(3):
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                conn.request("POST", u.path or "/", body, headers)
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    with lock:
                        acked.write("%d\n" % i)
                break
            except Exception:
                conn = None
                if attempt == 2:
                    return  # the gateway is gone: stop this worker


threads = [threading.Thread(target=worker) for _ in range(conc)]
for t in threads:
    t.start()
for t in threads:
    t.join()
