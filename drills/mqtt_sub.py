#!/usr/bin/python3
"""drills/mqtt_sub.py PORT TOPIC OUT CLIENT_ID -- a persistent-session MQTT
subscriber (clean session off, QoS 1) that survives broker restarts: paho
reconnects by itself and the broker (persistence on) keeps what arrived for
the session while it was away.  Appends every message body as one line to
OUT; writes OUT.ready once subscribed.  Runs until SIGTERM."""
import signal
import sys
import threading

import paho.mqtt.client as mqtt

port, topic, out, cid = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
f = open(out, "ab", buffering=0)
stop = threading.Event()


def on_connect(c, u, flags, rc):
    if rc == 0:
        c.subscribe(topic, qos=1)


def on_subscribe(c, u, mid, granted):
    open(out + ".ready", "w").write("ready\n")


def on_message(c, u, msg):
    f.write(msg.payload.replace(b"\n", b" ") + b"\n")


m = mqtt.Client(client_id=cid, clean_session=False)
m.on_connect, m.on_subscribe, m.on_message = on_connect, on_subscribe, on_message
m.reconnect_delay_set(0.1, 1)
m.connect_async("127.0.0.1", port, keepalive=5)
m.loop_start()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
stop.wait()
m.loop_stop()
