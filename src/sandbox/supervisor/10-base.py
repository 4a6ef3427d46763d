"""Ephemera in-sandbox supervisor.

Runs as the only long-lived process inside one execution's bubblewrap sandbox.
Reads one JSON request per line on stdin, answers one JSON line on stdout.
Every tool call runs in its own session with rlimits and a deadline; after each
call every other process in the sandbox's PID namespace is killed, so no
background process outlives the call that started it (THREATS B23, A13); the
one exception is the sql tool's engine, which this supervisor starts, not a
tool (45-sql.py).
With file tracing, one strace outside the sandbox traces every process in it;
the executor attributes a call's lines by the markers this supervisor leaves
in the trace (mark()) before and after the call.

The sandbox gets the supervisor as one file through a pipe, so its parts are
joined in name order by the host (protocol.ts, supervisorSource): this base
(imports, the protocol, the tools' environment, process bookkeeping), then the
network proxy, the seccomp filter, tool calls, and the request loop. Each part
uses what the parts before it define, but for the sql part (45), whose hooks the call loop (40) calls.

SECURITY: this file is copied in read-only (--ro-bind-data); the sandbox has
no network, no host filesystem beyond read-only system directories, and no
credentials. It runs as the sandbox's pid 1, not dumpable: tools (same uid)
can neither signal it nor reach its channel to the executor.
"""
import binascii
import ctypes
import os
import resource
import select

# The C module under signal: signal's Python layer builds enums (about 4 ms of every start); plain numbers do here.
import _signal as signal
import stat
import struct
import sys
import time

# The protocol's JSON, without the json package: its Python layer imports re, enum and functools, about 8 ms of
# every sandbox's start on a small VM (docs/performance.md), for the C scanner and encoder it wraps, used here
# directly. Strict: one value per line, nothing after it, no NaN or Infinity either way.
try:
    from _json import encode_basestring_ascii, make_encoder, make_scanner
except ImportError:  # not CPython: the json package, at its cost
    import json

    def json_loads(text):
        return json.loads(text, parse_constant=_not_json)

    def json_dumps(value):
        return json.dumps(value, separators=(",", ":"), allow_nan=False)

else:

    class _JsonRules:
        # What json.JSONDecoder hands the C scanner.
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = staticmethod(lambda name: _not_json(name))

    _SCAN = make_scanner(_JsonRules)
    _ENCODE = make_encoder({}, lambda value: _not_json(type(value).__name__), encode_basestring_ascii, None, ":", ",", False, False, False)

    def json_loads(text):
        try:
            value, end = _SCAN(text, 0)
        except StopIteration as error:  # the scanner's way to say "no value here" (json.decoder translates it)
            raise ValueError("not JSON at %s" % error.value) from None
        if text[end:] not in ("", "\n"):  # nothing after the value but the end of its line
            raise ValueError("more than one JSON value")
        return value

    def json_dumps(value):
        return "".join(_ENCODE(value, 0))


def _not_json(what):
    raise ValueError("not JSON: %s" % what)


def b64(data):
    return binascii.b2a_base64(data, newline=False).decode()


PROTOCOL = None  # the host puts the protocol here (protocol.ts)
MESSAGES = PROTOCOL["messages"]
SELF = os.getpid()
MARK_DIR = PROTOCOL["mark_dir"]  # never exists: a marker is an open that fails, seen only by the tracer
PROTOCOL_OUT = sys.stdout.buffer
ENV = {
    "PATH": PROTOCOL["sql"]["bin_dir"] + ":/usr/local/bin:/usr/bin:/bin",  # the sql command, in every sandbox
    "HOME": "/work",
    # UTF-8 text handling, every other locale category the builtin C (byte collation: the same on every host).
    # Loading only LC_CTYPE, under glibc's normalized name, costs one open per process instead of 26.
    "LC_CTYPE": "C.utf8",
    "TMPDIR": "/tmp",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    PROTOCOL["dataset_env"]: os.environ.get(PROTOCOL["dataset_env"], ""),
}
call_counter = 0
PROXY_SOCKET = PROTOCOL["proxy_socket"]
PROXY_PORT = PROTOCOL["proxy_port"]
if os.path.exists(PROXY_SOCKET):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        ENV[name] = "http://127.0.0.1:%d" % PROXY_PORT

def reply(message):
    try:
        PROTOCOL_OUT.write(json_dumps(message).encode() + b"\n")
        PROTOCOL_OUT.flush()
    except BrokenPipeError:
        os._exit(0)  # the executor is gone: so is this sandbox


def others():
    """Every process of this PID namespace but this supervisor (pid 1: bwrap runs it --as-pid-1)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            pid = int(entry)
            if pid not in (1, SELF):
                pids.append(pid)
    return pids


def kill_others(keep=lambda: ()):
    """Kills every process but this one and those `keep()` names (read each round: a reaped one's pid is free)."""
    for _ in range(50):
        pids = [pid for pid in others() if pid not in keep()]
        if not pids:
            return 0
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap()
        time.sleep(0.01)
    return len([pid for pid in others() if pid not in keep()])


def reap():
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        engine_reaped(pid, status, usage)  # 45-sql.py: the engine's CPU is its own, and its record goes with it


def write_private(suffix, content):
    global call_counter
    call_counter += 1
    path = "%s/call-%d%s" % (PROTOCOL["run_dir"], call_counter, suffix)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o500)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    return path


def mark(name):
    """Leaves a marker line in the file trace (an open of a path that does not exist)."""
    try:
        os.close(os.open(MARK_DIR + name, os.O_RDONLY))
    except OSError:
        pass
