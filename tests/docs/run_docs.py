#!/usr/bin/env python3
"""tests/docs/run_docs.py [FILE.md]... -- run the documentation's examples.

Every fenced block of README.md, docs/*.md and examples/*/README.md (or of
the files named) whose info string is sh, bash, shell, console or lua is run
against the build under test (LUAGATE_BIN, else build/release/luagate), or
is explicitly marked not runnable.  Prints "ok - FILE:LINE ..." / "not ok - FILE:LINE ..." lines (as
every test of tests/run.sh does) and exits 1 if any example failed.

Conventions (a writer of documentation follows these):

  ```sh, ```bash    run by `bash -e -o pipefail` in a new temporary
  ```shell          directory holding links to the checkout's examples/,
                    lua/ and tests/, and ./luagate, ./luagate.so of the build; `luagate` on PATH
                    is the build's.  LUAGATE_QUEUE_DIR points into the
                    temporary directory (the environment wins over a file's
                    queue_dir, so a documented /var/lib/luagate is not
                    touched).  60 s at most; it passes when it exits 0.
  ```console        lines starting with "$ " are the commands (run as one
                    sh block), every other line is their expected output.
  ```lua            a busted spec if it calls describe(): run by busted;
                    a routing script if it has `return function(event, send)`:
                    `luagate check -c CONF script.lua EVENTS` (the sample
                    events, LUAGATE_EVENTS) with CONF from the directive
                    config= (default examples/luagate.conf.lua): no event
                    may fail;
                    anything else is a configuration file: `luagate check -c`.
  ```text           right after a run block (nothing but blank lines between
                    them): the output it must print, stdout and stderr
                    together.  Masks: "…" (U+2026) in it matches any text
                    within one line.  127.0.0.1:9100 (the documented address)
                    is the gateway's test port in the command and is written
                    back as 9100 in the output before comparing; the
                    temporary directory's path is written as $TMP.
  ```sh norun       (or ```lua norun, ...) not run.  The block's first line
                    must be a comment (# or --) giving the reason; a norun
                    block without one fails.
  <!-- docs: gateway=CONFIG -->   on the line just before a fence: start
                    `luagate -c CONFIG` on the test port for that block (and
                    stop it after).
  <!-- docs: config=CONFIG -->    the configuration a lua routing script
                    is checked with.

Blocks with another info string (text, c, yaml, none) are not run.  A fence
may be indented (in a list item): its lines lose that indentation.
"""
import difflib
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("LUAGATE_BUILD", "build/release")
BIN = os.environ.get("LUAGATE_BIN") or os.path.join(ROOT, BUILD, "luagate")
SO_DIR = os.path.dirname(os.path.join(ROOT, BUILD, "luagate.so"))
PORT = int(os.environ.get("GATEWAY_PORT") or 17100 + int(os.environ.get("PORT_OFFSET") or 0))
DOC_ADDR = "127.0.0.1:9100"
RUN_KINDS = {"sh", "bash", "shell", "console", "lua"}
TIMEOUT = 60

FENCE = re.compile(r"^( *)(```+)\s*([^`]*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*docs:(.*?)-->\s*$")


def blocks(path):
    """Yield (line, info, text, directives) for every fenced block of path."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info, start = m.group(1), m.group(2), m.group(3).strip(), i
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        if j >= len(lines):
            raise SystemExit("not ok - %s:%d: fence never closed" % (path, start + 1))
        directives = {}
        d = DIRECTIVE.match(lines[start - 1]) if start > 0 else None
        if d:
            for word in d.group(1).split():
                k, _, v = word.partition("=")
                directives[k] = v
        # a fence indented in a list item: its lines lose that indentation
        body = [l[len(indent):] if l.startswith(indent) else l.lstrip() for l in lines[start + 1:j]]
        yield start + 1, info, "\n".join(body) + "\n", directives, j + 1
        i = j + 1


def with_expected(path):
    """The blocks of path, each run block paired with the text block after it."""
    all_blocks = list(blocks(path))
    src = open(path, encoding="utf-8").read().split("\n")
    out = []
    for n, (line, info, text, directives, end) in enumerate(all_blocks):
        expected = None
        if n + 1 < len(all_blocks):
            nline, ninfo, ntext, _, _ = all_blocks[n + 1]
            between = src[end:nline - 1]
            if ninfo == "text" and all(not s.strip() for s in between):
                expected = ntext
        out.append((line, info, text, directives, expected))
    return out


def sandbox():
    d = tempfile.mkdtemp(prefix="luagate-docs.")
    for name in ("examples", "lua", "tests"):
        os.symlink(os.path.join(ROOT, name), os.path.join(d, name))
    os.symlink(BIN, os.path.join(d, "luagate"))
    so = os.path.join(SO_DIR, "luagate.so")
    if os.path.exists(so):
        os.symlink(so, os.path.join(d, "luagate.so"))
    bindir = os.path.join(d, ".bin")
    os.mkdir(bindir)
    os.symlink(BIN, os.path.join(bindir, "luagate"))
    return d


def environment(d):
    env = dict(os.environ)
    env["PATH"] = os.path.join(d, ".bin") + ":" + env.get("PATH", "/usr/bin:/bin")
    env["LUAGATE_QUEUE_DIR"] = os.path.join(d, "queue")
    env["LUA_PATH"] = "%s/lua/?.lua;%s/lua/?/init.lua;;" % (ROOT, ROOT)
    env["LUA_CPATH"] = "%s/?.so;;" % SO_DIR
    for k in ("LUAGATE_LISTEN", "LUAGATE_SCRIPT", "LUAGATE_AUTH_TOKEN"):
        env.pop(k, None)
    return env


def run(cmd, d, env, stdin=None):
    try:
        p = subprocess.run(cmd, cwd=d, env=env, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return 124, "(timed out after %d s)\n" % TIMEOUT
    return p.returncode, p.stdout.decode("utf-8", "replace")


def start_gateway(conf, d, env):
    genv = dict(env, LUAGATE_LISTEN="127.0.0.1:%d" % PORT)
    log = open(os.path.join(d, "gateway.log"), "wb")
    p = subprocess.Popen([BIN, "-c", conf], cwd=d, env=genv, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/health" % PORT, timeout=1).read()
            return p
        except OSError:
            if p.poll() is not None:
                break
            time.sleep(0.1)
    stop_gateway(p)
    raise RuntimeError("the gateway did not start: " + open(os.path.join(d, "gateway.log")).read()[-300:])


def stop_gateway(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def lua_command(text, d, directives):
    """The command checking one lua block, after writing it into d."""
    if re.search(r"\bdescribe\s*\(", text):
        with open(os.path.join(d, "doc_spec.lua"), "w") as f:
            f.write(text)
        return ["busted", "--output=TAP", "doc_spec.lua"]
    if re.search(r"return\s+function\s*\(\s*event\s*,\s*send\s*\)", text):
        with open(os.path.join(d, "doc_routes.lua"), "w") as f:
            f.write(text)
        conf = directives.get("config", "examples/luagate.conf.lua")
        events = os.environ.get("LUAGATE_EVENTS") or os.path.join(ROOT, "examples/events/minio-webhook.jsonl")
        return [BIN, "check", "-c", conf, "doc_routes.lua", events]
    with open(os.path.join(d, "doc.conf.lua"), "w") as f:
        f.write(text)
    return [BIN, "check", "-c", "doc.conf.lua"]


def matches(expected, actual):
    """expected (with … masks) against actual, line by line."""
    e, a = expected.rstrip("\n").split("\n"), actual.rstrip("\n").split("\n")
    if len(e) != len(a):
        return False
    for el, al in zip(e, a):
        pattern = "^" + ".*".join(re.escape(part) for part in el.split("…")) + "$"
        if not re.match(pattern, al):
            return False
    return True


def run_block(where, info, text, directives, expected):
    words = info.split()
    kind = words[0] if words else ""
    if kind not in RUN_KINDS:
        return None
    if words[1:] == ["norun"]:
        first = text.split("\n", 1)[0].strip()
        if first.startswith("#") or first.startswith("--"):
            return "ok - %s %s norun: %s" % (where, kind, first.lstrip("#- ")[:100])
        return "not ok - %s %s norun: its first line must be a comment giving the reason" % (where, kind)
    if len(words) > 1:
        return "not ok - %s: unknown info string '%s' (only '%s norun' is known)" % (where, info, kind)
    if kind == "console":
        cmds = [l[2:] for l in text.split("\n") if l.startswith("$ ")]
        shown = "\n".join(l for l in text.rstrip("\n").split("\n") if not l.startswith("$ "))
        text, expected = "\n".join(cmds) + "\n", (shown + "\n" if shown else None)
    d = sandbox()
    env = environment(d)
    gw = None
    try:
        if "gateway" in directives:
            gw = start_gateway(directives["gateway"], d, env)
        if kind == "lua":
            rc, out = run(lua_command(text, d, directives), d, env)
        else:
            script = text.replace(DOC_ADDR, "127.0.0.1:%d" % PORT)
            rc, out = run(["bash", "-e", "-o", "pipefail", "-s"], d, env, script.encode())
    except RuntimeError as e:
        return "not ok - %s %s: %s" % (where, kind, e)
    finally:
        if gw:
            stop_gateway(gw)
        shutil.rmtree(d, ignore_errors=True)
    out = out.replace("127.0.0.1:%d" % PORT, DOC_ADDR).replace(d, "$TMP")
    if rc != 0:
        tail = "\n".join("#   " + l for l in out.rstrip("\n").split("\n")[-15:])
        return "not ok - %s %s exited %d:\n%s" % (where, kind, rc, tail)
    if expected is not None and not matches(expected, out):
        diff = difflib.unified_diff(expected.rstrip("\n").split("\n"), out.rstrip("\n").split("\n"),
                                    "shown", "printed", lineterm="")
        return "not ok - %s %s: its output is not the one shown after it:\n%s" % (
            where, kind, "\n".join("#   " + l for l in list(diff)[:40]))
    return "ok - %s %s%s" % (where, kind, " (output as shown)" if expected is not None else "")


def main(files):
    if not files:
        files = ["README.md"] + sorted(
            os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs")) if f.endswith(".md"))
        files += sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "examples/*/README.md")))
    failed = 0
    for rel in files:
        path = os.path.join(ROOT, rel)
        ran = 0
        for line, info, text, directives, expected in with_expected(path):
            res = run_block("%s:%d" % (rel, line), info, text, directives, expected)
            if res is None:
                continue
            print(res, flush=True)
            ran += 1
            failed += res.startswith("not ok")
        print("# %s: %d blocks" % (rel, ran))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
