#!/usr/bin/python3
"""e2e_sub.py OUTDIR MQTT_PORT MQTT_TOPIC NATS_PORT NATS_SUBJECT -- live
subscribers for test_e2e_targets.sh: an MQTT client (QoS 1, clean session)
and a core NATS client, subscribed before the events are posted.

Every message received is appended to OUTDIR/mqtt.jsonl or OUTDIR/nats.jsonl
as one JSON line {"topic"/"subject", "body", "qos", "retain", ...} (body is
the payload decoded as UTF-8, with surrogateescape for stray bytes).
OUTDIR/ready is written once both subscriptions are confirmed (MQTT SUBACK,
NATS PONG after SUB).  Runs until SIGTERM or 120 s."""
import json
import os
import signal
import socket
import sys
import threading
import time

import paho.mqtt.client as mqtt

out, mqtt_port, mqtt_topic, nats_port, nats_subject = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4]), sys.argv[5]
lock = threading.Lock()
ready = {"mqtt": False, "nats": False}
stop = threading.Event()


def record(name, obj):
    with lock:
        with open(os.path.join(out, name + ".jsonl"), "a") as f:
            f.write(json.dumps(obj) + "\n")


def mark(name):
    with lock:
        ready[name] = True
        if all(ready.values()):
            with open(os.path.join(out, "ready"), "w") as f:
                f.write("ready\n")


def text(b):
    return b.decode("utf-8", "surrogateescape")


# ---- MQTT -------------------------------------------------------------------
def on_connect(client, userdata, flags, rc):
    if rc != 0:
        sys.stderr.write("mqtt connect refused: %d\n" % rc)
        return
    client.subscribe(mqtt_topic, qos=1)


def on_subscribe(client, userdata, mid, granted):
    mark("mqtt")


def on_message(client, userdata, msg):
    record("mqtt", {"topic": msg.topic, "body": text(msg.payload), "qos": msg.qos, "retain": int(msg.retain)})


m = mqtt.Client(client_id="e2e-sub-%d" % os.getpid(), clean_session=True)
m.on_connect, m.on_subscribe, m.on_message = on_connect, on_subscribe, on_message
m.connect("127.0.0.1", mqtt_port, keepalive=30)
m.loop_start()


# ---- NATS (core protocol over a plain socket) ---------------------------------
def nats_loop():
    s = socket.create_connection(("127.0.0.1", nats_port), timeout=5)
    s.settimeout(0.5)
    buf = b""

    def fill():
        nonlocal buf
        try:
            d = s.recv(65536)
        except socket.timeout:
            return True
        if not d:
            return False
        buf += d
        return True

    s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"name":"e2e-sub","lang":"python","protocol":1}\r\n'
              + b"SUB " + nats_subject.encode() + b" 1\r\nPING\r\n")
    while not stop.is_set():
        nl = buf.find(b"\r\n")
        if nl < 0:
            if not fill():
                break
            continue
        line = buf[:nl]
        if line.startswith(b"MSG ") or line.startswith(b"HMSG "):
            parts = line.split()
            size = int(parts[-1])
            hdr = int(parts[-2]) if line.startswith(b"HMSG ") else 0
            while len(buf) < nl + 2 + size + 2:
                if not fill():
                    return
            payload = buf[nl + 2:nl + 2 + size]
            buf = buf[nl + 2 + size + 2:]
            reply = parts[3].decode() if len(parts) == (6 if hdr else 5) else None
            record("nats", {"subject": parts[1].decode(), "body": text(payload[hdr:]),
                            "headers": text(payload[:hdr]), "reply": reply})
            continue
        buf = buf[nl + 2:]
        if line == b"PING":
            s.sendall(b"PONG\r\n")
        elif line == b"PONG":
            mark("nats")
        elif line.startswith(b"-ERR"):
            sys.stderr.write("nats: %s\n" % text(line))


t = threading.Thread(target=nats_loop, daemon=True)
t.start()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
stop.wait(120)
m.loop_stop()
