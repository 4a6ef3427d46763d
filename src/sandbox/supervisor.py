"""Ephemera in-sandbox supervisor.

Runs as the only long-lived process inside one execution's bubblewrap sandbox.
Reads one JSON request per line on stdin, answers one JSON line on stdout.
Every tool call runs in its own session with rlimits and a deadline; after each
call every other process in the sandbox's PID namespace is killed, so no
background process outlives the call that started it (THREATS B23, A13).
With file tracing, one strace outside the sandbox traces every process in it;
the executor attributes a call's lines by the markers this supervisor leaves
in the trace (mark()) before and after the call.

SECURITY: this file is copied in read-only (--ro-bind-data); the sandbox has
no network, no host filesystem beyond read-only system directories, and no
credentials. It runs as the sandbox's pid 1, not dumpable: tools (same uid)
can neither signal it nor reach its channel to the executor.
"""
import base64
import ctypes
import json
import os
import platform
import socket
import threading
import resource
import select
import signal
import stat
import struct
import sys
import time

PROTOCOL = None  # the host puts the protocol here (protocol.ts)
MESSAGES = PROTOCOL["messages"]
SELF = os.getpid()
MARK_DIR = PROTOCOL["mark_dir"]  # never exists: a marker is an open that fails, seen only by the tracer
PROTOCOL_OUT = sys.stdout.buffer
ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
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
        PROTOCOL_OUT.write(json.dumps(message).encode() + b"\n")
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


def kill_others():
    for _ in range(50):
        pids = others()
        if not pids:
            return 0
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap()
        time.sleep(0.01)
    return len(others())


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def write_private(suffix, content):
    global call_counter
    call_counter += 1
    path = "%s/call-%d%s" % (PROTOCOL["run_dir"], call_counter, suffix)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o500)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    return path


def argv_for(call):
    kind = call["kind"]
    if kind == "script":
        path = "/work/" + call["name"]
        return ["/usr/bin/python3", path] if call["name"].endswith(".py") else ["/bin/bash", path]
    if kind == "bash":
        return ["/bin/bash", write_private(".sh", call["command"])]
    if kind == "python":
        return ["/usr/bin/python3", write_private(".py", call["code"])]
    if kind == "grep":
        return ["/bin/grep"] + [str(a) for a in call["args"]]
    raise ValueError("unknown call kind")


def disk_full(path):
    try:
        st = os.statvfs(path)
    except OSError:
        return False
    return st.f_bavail == 0


def mark(name):
    """Leaves a marker line in the file trace (an open of a path that does not exist)."""
    try:
        os.close(os.open(MARK_DIR + name, os.O_RDONLY))
    except OSError:
        pass


def forward(client):
    """One sandbox TCP connection to the executor's proxy socket, both ways."""
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(PROXY_SOCKET)
    except OSError:
        client.close()
        return

    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
    pump(client, upstream)


def serve_proxy():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", PROXY_PORT))
    listener.listen(64)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=forward, args=(client,), daemon=True).start()


# x86_64 numbers; the filter is only installed there (see SECCOMP_ARCH). Why each: protocol.ts.
BLOCKED_SYSCALLS = PROTOCOL["seccomp"]["blocked"]
AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_KILL_PROCESS = 0x80000000
EPERM = 1


# Syscalls that can signal a pid given in their first argument: refused for pid 1, this supervisor (protocol.ts).
SIGNALLING_SYSCALLS = PROTOCOL["seccomp"]["signalling"]


def seccomp_program():
    """Classic BPF: another ABI (i386 through int 0x80) is killed; x32, every blocked syscall and a signal to
    pid 1 get EPERM; the rest pass."""
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
    # Instructions with symbolic jump targets, resolved to relative offsets below.
    prog = [(ld, None, None, 4), (jeq, "nr", "kill", AUDIT_ARCH_X86_64), ("kill", ret, None, None, SECCOMP_RET_KILL_PROCESS),
            ("nr", ld, None, None, 0), (jge, "deny", None, X32_SYSCALL_BIT)]
    prog += [(jeq, "deny", None, nr) for nr in sorted(BLOCKED_SYSCALLS.values())]
    prog += [(jeq, "pid", None, nr) for nr in sorted(SIGNALLING_SYSCALLS.values())]
    prog += [(ret, None, None, SECCOMP_RET_ALLOW),
             ("pid", ld, None, None, 16),  # the low word of args[0] (x86_64 is little-endian): a pid_t
             (jeq, "deny", "allow", 1),
             ("allow", ret, None, None, SECCOMP_RET_ALLOW),
             ("deny", ret, None, None, SECCOMP_RET_ERRNO | EPERM)]
    labels = {ins[0]: i for i, ins in enumerate(prog) if isinstance(ins[0], str)}
    code = []
    for i, ins in enumerate(prog):
        op, jt, jf, k = ins[1:] if isinstance(ins[0], str) else ins
        offset = lambda target: 0 if target is None else labels[target] - i - 1
        code.append(struct.pack("HBBI", op, offset(jt), offset(jf), k))
    return b"".join(code), len(code)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


SECCOMP_ARCH = platform.machine() == "x86_64"
# Built before any fork: between fork and exec the child only calls prctl (no dlopen, no allocation to speak of).
LIBC = ctypes.CDLL(None, use_errno=True)
_SECCOMP_BYTES, _SECCOMP_LEN = seccomp_program()
_SECCOMP_BUFFER = ctypes.create_string_buffer(_SECCOMP_BYTES, len(_SECCOMP_BYTES))
SECCOMP_PROG = SockFprog(_SECCOMP_LEN, ctypes.cast(_SECCOMP_BUFFER, ctypes.c_char_p))


def install_seccomp():
    """In a call's child, before exec: raises OSError when the kernel refuses, so the call never runs unfiltered."""
    # PR_SET_SECCOMP (22), SECCOMP_MODE_FILTER (2); bubblewrap already set no_new_privs.
    if LIBC.prctl(22, 2, ctypes.byref(SECCOMP_PROG), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp")


def seccomp_works():
    """Installs the filter in a throwaway child and sees unshare(0), a no-op otherwise, refused."""
    if not SECCOMP_ARCH:
        return False
    pid = os.fork()
    if pid == 0:
        try:
            install_seccomp()
            os._exit(0 if LIBC.unshare(0) == -1 and ctypes.get_errno() == EPERM else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def limiter(limits):
    def apply():
        os.setsid()
        for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGXFSZ):  # ignored here (below, and by Python): not in a tool
            signal.signal(sig, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits["max_open_files"], limits["max_open_files"]))
        cpu = limits["cpu_seconds"]
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        if limits.get("address_space_bytes"):
            space = limits["address_space_bytes"]
            resource.setrlimit(resource.RLIMIT_AS, (space, space))
        if SECCOMP_ARCH:
            install_seccomp()
    return apply


def run(request):
    call = request["call"]
    limits = request["limits"]
    cap = limits["output_bytes"]
    hard_cap = limits["output_hard_bytes"]
    deadline = time.monotonic() + request["timeout_ms"] / 1000.0
    argv = argv_for(call)
    mark("begin-%d" % request["mark"])
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.closerange(3, 65536)
            os.chdir("/work")
            limiter(limits)()
            os.execve(argv[0], argv, ENV)
        except BaseException:
            os._exit(127)
    os.close(out_w)
    os.close(err_w)
    streams = {out_r: bytearray(), err_r: bytearray()}
    totals = {out_r: 0, err_r: 0}
    open_fds = [out_r, err_r]
    killed_by = None
    status = None
    drain_until = None
    while open_fds or status is None:
        # Once the call's own process has exited, a background child holding its pipes gets a short grace, then dies.
        if drain_until is not None and time.monotonic() > drain_until:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            killed_by = "timeout"
            break
        if open_fds:
            ready, _, _ = select.select(open_fds, [], [], min(remaining, 0.05))
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    open_fds.remove(fd)
                    continue
                totals[fd] += len(chunk)
                room = cap - len(streams[fd])
                if room > 0:
                    streams[fd] += chunk[:room]
            if totals[out_r] + totals[err_r] > hard_cap:
                killed_by = "output_limit"
                break
        if status is None:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = raw
                drain_until = time.monotonic() + 0.25
            elif not open_fds:
                time.sleep(0.01)
    # A full tmpfs is a breach of the disk limit: the call ends as killed by it.
    if killed_by is None and any(disk_full(p) for p in ("/work", "/out", "/tmp")):
        killed_by = "disk"
    # Every process the call started dies now, whatever it did (setsid, double fork, traps).
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    kill_others()
    if status is None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = None
    for fd in (out_r, err_r):
        try:
            os.close(fd)
        except OSError:
            pass
    reap()
    mark("end-%d" % request["mark"])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    exit_code = None
    if killed_by is None and status is not None:
        if os.WIFEXITED(status):
            exit_code = os.WEXITSTATUS(status)
        elif os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            exit_code = 128 + sig
            if sig == signal.SIGXCPU:
                killed_by = "cpu"
    cpu_ms = int(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000)
    return {
        "exit_code": exit_code,
        "killed_by": killed_by,
        "stdout": base64.b64encode(bytes(streams[out_r])).decode(),
        "stderr": base64.b64encode(bytes(streams[err_r])).decode(),
        "stdout_bytes": totals[out_r],
        "stderr_bytes": totals[err_r],
        "truncated": totals[out_r] > cap or totals[err_r] > cap,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "cpu_ms": max(cpu_ms, 0),
        "max_rss_kb": after.ru_maxrss,
    }


def init(request):
    for script in request["scripts"]:
        path = "/work/" + script["name"]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o555)
        with os.fdopen(fd, "w") as handle:
            handle.write(script["content"])
    mark("ready")  # before any tool runs: the executor learns this process's host pid from it
    return {"pid": SELF, "seccomp": seccomp_works()}


def list_dir(request):
    entries = []
    base = request["dir"]
    for name in sorted(os.listdir(base))[:1000]:
        st = os.lstat(os.path.join(base, name))
        if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
            entries.append({"path": os.path.join(base, name), "bytes": st.st_size, "type": "dir" if stat.S_ISDIR(st.st_mode) else "file"})
    return {"entries": entries}


def read_file(request):
    # No-follow, regular files only, byte-capped (THREATS A6).
    fd = os.open(request["path"], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        data = os.read(fd, request["max_bytes"] + 1)
    finally:
        os.close(fd)
    return {"content": base64.b64encode(data[: request["max_bytes"]]).decode(), "truncated": len(data) > request["max_bytes"]}


HANDLERS = {"init": init, "run": run, "list": list_dir, "read": read_file}
assert set(HANDLERS) | {"exit"} == set(MESSAGES), "the protocol's operations are not the handlers"


def main():
    # Not dumpable: a tool (same uid) can neither open /proc/1/fd, /proc/1/mem nor pidfd_getfd this process's
    # end of the executor's channel to forge a call's outcome, on any arch (seccomp is x86_64 only). Tools
    # become dumpable again at exec; strace, outside, attached before this.
    if LIBC.prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE
        sys.exit("cannot make the supervisor non-dumpable")
    # As pid 1, the kernel drops every signal a tool sends unless there is a handler: Python's SIGINT
    # handler is the one there is, and a KeyboardInterrupt would end the sandbox.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.path.exists(PROXY_SOCKET):
        threading.Thread(target=serve_proxy, daemon=True).start()
    for line in sys.stdin.buffer:
        request = json.loads(line)
        op = request.get("op")
        if op == "exit":
            kill_others()
            reply(answer(op, request.get("id"), {"remaining": len(others())}))
            return
        try:
            if op not in HANDLERS or set(request) != set(MESSAGES[op]["request"]) | {"op", "id"}:
                raise ValueError("not a request of the protocol")
            reply(answer(op, request["id"], HANDLERS[op](request)))
        except Exception as error:  # the reason goes back as a type name only: no content
            reply({"id": request.get("id"), "ok": False, "error": type(error).__name__})


def answer(op, request_id, result):
    # A reply of the wrong shape is this file's bug: it fails here, not in the executor's reading.
    if set(result) != set(MESSAGES[op]["reply"]):
        raise AssertionError("a %s reply with members %s" % (op, sorted(result)))
    return dict(result, id=request_id, ok=True)


if __name__ == "__main__":
    main()
