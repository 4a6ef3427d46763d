# The other operations, and the loop: one JSON request per line in, one reply per line out, each checked
# against the protocol. Part of the supervisor (10-base.py says how the parts are joined).


def init(request):
    for script in request["scripts"]:
        path = "/work/" + script["name"]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o555)
        with os.fdopen(fd, "w") as handle:
            handle.write(script["content"])
    sql_init(request["sql"])
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
    return {"content": b64(data[: request["max_bytes"]]), "truncated": len(data) > request["max_bytes"]}


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
        request = json_loads(line.decode("utf-8"))
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
