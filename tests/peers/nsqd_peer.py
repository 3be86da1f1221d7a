#!/usr/bin/python3
"""nsqd_peer.py -- a protocol-level nsqd stand-in for luagate's tests (stdlib only).

    /usr/bin/python3 tests/peers/nsqd_peer.py TCP_PORT HTTP_PORT [--heartbeat-ms N]
        [--max-msg-size N] [--max-body-size N] [--tls-cert F --tls-key F]

TCP (protocol V2): magic, IDENTIFY (feature negotiation, optional TLS
upgrade), PUB, MPUB, NOP, CLS, AUTH (disabled); heartbeats at the
negotiated interval (--heartbeat-ms overrides what the client asks for);
a client silent for two intervals is closed, as nsqd does.  Error frames
and which of them close the connection follow nsqd's protocol_v2.go.

HTTP (127.0.0.1 only), for the tests:
  GET  /ping                      -> OK
  GET  /__messages[?topic=T]      -> [{"topic","body","body_b64","cmd","conn"}] in arrival order
  GET  /__commands                -> [{"cmd","topic","count","conn"}] every command seen
  DELETE /__messages              -> forget messages and commands
  POST /__fail?cmd=PUB|MPUB|any&error=E_PUB_FAILED&count=N   next N publishes fail
  POST /__drop?count=N&skip=K     after K more publishes, the next N close the
                                  connection without a reply (nothing recorded)
  POST /__delay?ms=M&count=N      the next N publishes are recorded, then answered after M ms
  POST /__close                   close every client connection now
"""
import argparse
import asyncio
import base64
import json
import re
import ssl
import struct
import time
from urllib.parse import parse_qs, urlparse

TOPIC_RE = re.compile(r'^[.a-zA-Z0-9_-]+(#ephemeral)?$')
RESPONSE, ERROR = 0, 1


class Fatal(Exception):
    """An error frame after which nsqd closes the connection."""


class Peer:
    def __init__(self, args):
        self.args = args
        self.messages = []
        self.commands = []
        self.fail = []  # [cmd, error, count]
        self.drop_skip = 0
        self.drop_count = 0
        self.delay_ms = 0
        self.delay_count = 0
        self.writers = set()
        self.next_conn = 0
        self.tls = None
        if args.tls_cert:
            self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls.load_cert_chain(args.tls_cert, args.tls_key)

    # ---- TCP -------------------------------------------------------------
    @staticmethod
    def frame(kind, data):
        return struct.pack('>ii', len(data) + 4, kind) + data

    async def client(self, reader, writer):
        self.next_conn += 1
        conn = self.next_conn
        self.writers.add(writer)
        st = {'hb': self.args.heartbeat_ms or 30000, 'upgrading': False}
        hb_task = asyncio.ensure_future(self.heartbeats(writer, st))
        try:
            magic = await asyncio.wait_for(reader.readexactly(4), 10)
            if magic != b'  V2':
                writer.write(self.frame(ERROR, b'E_BAD_PROTOCOL client sent bad protocol magic'))
                return
            while True:
                timeout = 2 * st['hb'] / 1000 if st['hb'] > 0 else None
                try:
                    line = await asyncio.wait_for(reader.readuntil(b'\n'), timeout)
                except asyncio.TimeoutError:
                    return  # nsqd: read deadline of two heartbeat intervals
                params = line.rstrip(b'\n').rstrip(b'\r').split(b' ')
                try:
                    reply = await self.exec(conn, params, reader, writer, st)
                except Fatal as e:
                    writer.write(self.frame(ERROR, str(e).encode()))
                    return
                if reply is None:
                    continue
                if reply is False:
                    return  # injected drop
                writer.write(self.frame(RESPONSE, reply))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError,
                ssl.SSLError, asyncio.TimeoutError):
            pass
        finally:
            hb_task.cancel()
            self.writers.discard(writer)
            try:
                await writer.drain()
                writer.close()
            except (ConnectionError, ssl.SSLError, RuntimeError):
                pass

    async def heartbeats(self, writer, st):
        while True:
            await asyncio.sleep(max(st['hb'], 100) / 1000)
            if st['hb'] > 0 and not st['upgrading'] and not writer.is_closing():
                writer.write(self.frame(RESPONSE, b'_heartbeat_'))

    async def body(self, reader):
        (size,) = struct.unpack('>i', await reader.readexactly(4))
        return size

    async def exec(self, conn, params, reader, writer, st):
        cmd = params[0].decode('latin-1')
        if cmd == 'NOP':
            self.commands.append({'cmd': 'NOP', 'conn': conn})
            return None
        if cmd == 'CLS':
            self.commands.append({'cmd': 'CLS', 'conn': conn})
            return b'CLOSE_WAIT'
        if cmd == 'IDENTIFY':
            return await self.identify(conn, reader, writer, st)
        if cmd == 'AUTH':
            raise Fatal('E_AUTH_DISABLED AUTH disabled')
        if cmd in ('PUB', 'MPUB'):
            return await self.publish(conn, cmd, params, reader)
        raise Fatal('E_INVALID invalid command %s' % cmd)

    async def identify(self, conn, reader, writer, st):
        size = await self.body(reader)
        if size <= 0 or size > self.args.max_body_size:
            raise Fatal('E_BAD_BODY IDENTIFY invalid body size %d' % size)
        try:
            req = json.loads(await reader.readexactly(size))
        except ValueError:
            raise Fatal('E_BAD_BODY IDENTIFY failed to decode JSON body')
        self.commands.append({'cmd': 'IDENTIFY', 'conn': conn, 'body': req})
        hb = req.get('heartbeat_interval', 0)
        if hb == -1:
            st['hb'] = -1
        elif hb == 0:
            st['hb'] = 30000
        elif 1000 <= hb <= 60000:
            st['hb'] = hb
        else:
            raise Fatal('E_BAD_BODY IDENTIFY heartbeat interval (%d) is invalid' % hb)
        if self.args.heartbeat_ms:
            st['hb'] = self.args.heartbeat_ms
        if not req.get('feature_negotiation'):
            return b'OK'
        tls = bool(req.get('tls_v1')) and self.tls is not None
        resp = {'max_rdy_count': 2500, 'version': '1.2.1-peer', 'max_msg_timeout': 900000,
                'msg_timeout': 60000, 'tls_v1': tls, 'deflate': False, 'deflate_level': 6,
                'max_deflate_level': 6, 'snappy': False, 'sample_rate': 0,
                'auth_required': False, 'output_buffer_size': 16384,
                'output_buffer_timeout': 250}
        writer.write(self.frame(RESPONSE, json.dumps(resp).encode()))
        await writer.drain()
        if not tls:
            return None
        st['upgrading'] = True
        await writer.start_tls(self.tls)
        st['upgrading'] = False
        return b'OK'

    async def publish(self, conn, cmd, params, reader):
        if len(params) < 2:
            raise Fatal('E_INVALID %s insufficient number of parameters' % cmd)
        topic = params[1].decode('utf-8', 'replace')
        if len(topic) > 64 or not TOPIC_RE.match(topic):
            raise Fatal('E_BAD_TOPIC %s topic name "%s" is not valid' % (cmd, topic))
        size = await self.body(reader)
        msgs = []
        if cmd == 'PUB':
            if size <= 0:
                raise Fatal('E_BAD_MESSAGE PUB invalid message body size %d' % size)
            if size > self.args.max_msg_size:
                raise Fatal('E_BAD_MESSAGE PUB message too big %d > %d'
                            % (size, self.args.max_msg_size))
            msgs.append(await reader.readexactly(size))
        else:
            if size <= 0:
                raise Fatal('E_BAD_BODY MPUB invalid body size %d' % size)
            if size > self.args.max_body_size:
                raise Fatal('E_BAD_BODY MPUB body too big %d > %d'
                            % (size, self.args.max_body_size))
            data = await reader.readexactly(size)
            if len(data) < 4:
                raise Fatal('E_BAD_BODY MPUB invalid body')
            (count,) = struct.unpack('>i', data[:4])
            if count <= 0:
                raise Fatal('E_BAD_BODY MPUB invalid message count %d' % count)
            pos = 4
            for i in range(count):
                if pos + 4 > len(data):
                    raise Fatal('E_BAD_BODY MPUB failed to read message body size')
                (mlen,) = struct.unpack('>i', data[pos:pos + 4])
                pos += 4
                if mlen <= 0:
                    raise Fatal('E_BAD_MESSAGE MPUB invalid message(%d) body size %d' % (i, mlen))
                if mlen > self.args.max_msg_size:
                    raise Fatal('E_BAD_MESSAGE MPUB message too big %d > %d'
                                % (mlen, self.args.max_msg_size))
                if pos + mlen > len(data):
                    raise Fatal('E_BAD_BODY MPUB failed to read message body')
                msgs.append(data[pos:pos + mlen])
                pos += mlen
        self.commands.append({'cmd': cmd, 'topic': topic, 'count': len(msgs), 'conn': conn})
        for f in self.fail:
            if f[2] > 0 and f[0] in (cmd, 'any'):
                f[2] -= 1
                err = f[1] or ('E_%s_FAILED' % cmd)
                raise Fatal('%s %s failed (injected)' % (err, cmd))
        if self.drop_skip > 0:
            self.drop_skip -= 1
        elif self.drop_count > 0:
            self.drop_count -= 1
            return False
        for m in msgs:
            self.messages.append({'topic': topic, 'cmd': cmd, 'conn': conn,
                                  'body': m.decode('utf-8', 'replace'),
                                  'body_b64': base64.b64encode(m).decode()})
        if self.delay_count > 0:
            self.delay_count -= 1
            await asyncio.sleep(self.delay_ms / 1000)
        return b'OK'

    # ---- HTTP ------------------------------------------------------------
    async def http(self, reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), 10)
            lines = head.decode('latin-1').split('\r\n')
            method, target = lines[0].split(' ')[:2]
            length = 0
            for h in lines[1:]:
                if h.lower().startswith('content-length:'):
                    length = int(h.split(':', 1)[1])
            if length:
                await reader.readexactly(length)
            status, body = self.route(method, target)
            if isinstance(body, (list, dict)):
                body = json.dumps(body)
            data = body.encode()
            writer.write(('HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: close\r\n'
                          'Content-Type: text/plain\r\n\r\n' % (status, len(data))).encode() + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.TimeoutError,
                asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def route(self, method, target):
        u = urlparse(target)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if u.path == '/ping':
            return '200 OK', 'OK'
        if u.path == '/__messages' and method == 'GET':
            t = q.get('topic')
            return '200 OK', [m for m in self.messages if t is None or m['topic'] == t]
        if u.path == '/__messages' and method == 'DELETE':
            self.messages.clear()
            self.commands.clear()
            return '200 OK', 'OK'
        if u.path == '/__commands':
            return '200 OK', self.commands
        if u.path == '/__fail' and method == 'POST':
            self.fail.append([q.get('cmd', 'any'), q.get('error'), int(q.get('count', 1))])
            return '200 OK', 'OK'
        if u.path == '/__drop' and method == 'POST':
            self.drop_skip = int(q.get('skip', 0))
            self.drop_count = int(q.get('count', 1))
            return '200 OK', 'OK'
        if u.path == '/__delay' and method == 'POST':
            self.delay_ms = int(q.get('ms', 1000))
            self.delay_count = int(q.get('count', 1))
            return '200 OK', 'OK'
        if u.path == '/__close' and method == 'POST':
            for w in list(self.writers):
                w.close()
            return '200 OK', 'OK'
        return '404 Not Found', 'not found'


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('tcp_port', type=int)
    ap.add_argument('http_port', type=int)
    ap.add_argument('--heartbeat-ms', type=int, default=0)
    ap.add_argument('--max-msg-size', type=int, default=1024 * 1024)
    ap.add_argument('--max-body-size', type=int, default=5 * 1024 * 1024)
    ap.add_argument('--tls-cert')
    ap.add_argument('--tls-key')
    peer = Peer(ap.parse_args())
    tcp = await asyncio.start_server(peer.client, '127.0.0.1', peer.args.tcp_port,
                                     limit=1 << 16)
    web = await asyncio.start_server(peer.http, '127.0.0.1', peer.args.http_port)
    async with tcp, web:
        await asyncio.gather(tcp.serve_forever(), web.serve_forever())


if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
