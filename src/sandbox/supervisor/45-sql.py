# The sql tool (docs/sql-tool.md §7): one engine per run, kept across calls (loading is most of a query's
# cost), so it is the one process besides this supervisor that outlives a call. It is started only where no tool
# process exists (a call's start, before the call's process is forked) and must say it is not dumpable before
# any tool runs: from its exec to that moment it is an ordinary process of the sandbox's uid, whose /proc files
# a tool could open. A model's sql call asks it directly (run_sql); any process of a call asks it through the
# `sql` command, whose requests arrive on an abstract unix socket of the sandbox's own network namespace (no
# file a tool could replace) and are reported to the executor as nested calls, one notice each, before the
# call's reply. Part of the supervisor (10-base.py says how the parts are joined).

SQL = PROTOCOL["sql"]
sql_config = None  # init's: {"format", "max_seconds"} when the run offers sql
sql_listener = None
sql_connections = {}  # fd -> SqlConnection
engine = None  # {"pid", "channel"} while it lives (channel: this end of a socket pair, its stdin and stdout)
engine_ended = None  # why no engine runs, for the refusal's message: how the last ended (a killed_by), or did not start
engine_failed = None  # why no engine starts again: "memory" once engines kept dying (a reload would too)
engine_deaths = 0  # engines that died under a query without a word (SIGKILL): twice, and no engine starts again
engine_reaped_cpu_ms = 0  # CPU of engines reaped so far: a call's children's CPU, less this, is the call's own
# Time left to a call after a query stopped at its own cap, so that the call can use the answer.
QUERY_GRACE_SECONDS = 0.5
ENGINE_START_SECONDS = 10
READY = b'{"ready":true}\n'


def sql_init(config):
    global sql_config, sql_listener, socket
    if config is None:
        return
    import socket

    sql_config = config
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
    listener.bind("\0" + SQL["socket"])
    listener.listen(SQL["max_connections"])
    sql_listener = listener
    ENV[SQL["socket_env"]] = SQL["socket"]


def engine_pids():
    return (engine["pid"],) if engine else ()


def engine_ready(limits):
    """At a call's start, before its process exists: an engine that answers, if the run offers sql (started
    now if none runs, and waited for until it says it is not dumpable). Never during a call (see above)."""
    global engine, engine_ended
    if sql_config is None or engine_failed:
        return
    if engine is not None and not engine_alive():
        engine_stop()
    if engine is not None:
        return
    if others():  # a process outlived the last call's kill rounds: it could open a starting engine's /proc files
        engine_ended = "not started: a process of an earlier call is still alive"
        return
    try:
        engine = engine_start(limits)
        hello = engine_read(time.monotonic() + ENGINE_START_SECONDS, None, len(READY))
    except (OSError, EngineStopped):
        hello = None
    if hello != READY:
        engine_stop()
        engine_ended = "could not start"  # this call's queries are answered SQL_RUNNER_FAILED; the next call tries again


def engine_start(limits):
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)  # no pipe for /proc/PID/fd to reopen
    argv = ["/usr/bin/python3", "-I", "-S", SQL["engine_path"], "--serve", ENV[PROTOCOL["dataset_env"]], sql_config["format"],
            "--max-seconds", str(sql_config["max_seconds"])]
    try:
        pid = os.fork()
    except OSError:
        ours.close()
        theirs.close()
        raise
    if pid == 0:
        try:
            os.dup2(theirs.fileno(), 0)
            os.dup2(theirs.fileno(), 1)
            os.dup2(os.open("/dev/null", os.O_WRONLY), 2)
            os.closerange(3, 65536)
            os.chdir("/work")
            # The same session, rlimits and seccomp filter as any tool process; RLIMIT_CPU's hard limit open, so that
            # each query can be given the run's CPU limit anew (sql_ask): the process lives for the run.
            limiter(limits, cpu_hard=resource.RLIM_INFINITY)()
            os.execve(argv[0], argv, ENV)
        except BaseException:
            os._exit(127)
    theirs.close()
    ours.setblocking(False)
    return {"pid": pid, "channel": ours}


def engine_alive():
    try:
        return os.waitid(os.P_PID, engine["pid"], os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


def engine_reaped(pid, status, usage):
    """Whoever reaps the engine (engine_stop, or reap() after a call): its CPU is counted, its record dropped."""
    global engine, engine_ended, engine_reaped_cpu_ms
    if engine is None or pid != engine["pid"]:
        return
    engine_reaped_cpu_ms += int((usage.ru_utime + usage.ru_stime) * 1000)
    engine["channel"].close()
    engine = None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    # SIGXCPU is the CPU limit's. A SIGKILL may be the cgroup's OOM killer or a tool's (same uid): the executor, which
    # sees the cgroup's OOM counter, tells them apart (bwrap-sandbox.ts); here it is only "lost".
    engine_ended = "cpu" if sig == signal.SIGXCPU else "sandbox_lost"


def engine_stop():
    """Kills and reaps the engine (a kill is harmless to one dead already): how it ended, as a killed_by."""
    if engine is None:
        return "sandbox_lost"
    pid = engine["pid"]
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        engine_reaped(*os.wait4(pid, 0))
    except ChildProcessError:  # not ours to reap: cannot be, but never leave a stale record
        engine_reaped(pid, 0, NO_USAGE)
    return engine_ended


def engine_usage(pid):
    """CPU milliseconds so far and peak resident KiB of the engine, from /proc (0 once it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu_ms = (int(fields[11]) + int(fields[12])) * 1000 // os.sysconf("SC_CLK_TCK")
        with open("/proc/%d/status" % pid) as f:
            rss = next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
        return cpu_ms, rss
    except (OSError, ValueError, IndexError):
        return 0, 0


class NO_USAGE:  # noqa: N801  (a stand-in for a struct_rusage)
    ru_utime = ru_stime = 0.0


class EngineStopped(Exception):
    """Why a query got no answer, as a killed_by ("ended": the engine died)."""


def engine_read(deadline, watch, hard_cap, outgoing=b""):
    """Sends `outgoing` and reads one line from the engine, both without blocking past the deadline."""
    channel, answer, view = engine["channel"], bytearray(), memoryview(outgoing)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EngineStopped("timeout")
        if watch is not None and watch.over_memory():
            raise EngineStopped("memory")
        readable, writable, _ = select.select([channel], [channel] if view else [], [], min(remaining, 0.05))
        if writable:
            view = view[channel.send(view) :]
        if readable:
            chunk = channel.recv(1 << 20)
            if not chunk:
                raise EngineStopped("ended")
            answer += chunk
            if len(answer) > hard_cap:  # before the line is taken: no answer past the cap is ever passed on
                raise EngineStopped("output_limit")
            if answer.endswith(b"\n"):
                return bytes(answer)


def sql_ask(query, max_rows, max_bytes, max_seconds, deadline, watch, limits, hard_cap):
    """One query to the engine, bounded by its own time cap (an answer, SQL_QUERY_TIMEOUT, with time left for the
    call to go on) and by the call's deadline, memory and output (a kill). Returns the reply's members for it:
    exit_code, killed_by, answer (the line), duration_ms, cpu_ms, max_rss_kb, sql (its summary)."""
    global engine_failed, engine_deaths
    started = time.monotonic()
    if engine is not None and not engine_alive():
        engine_stop()  # killed by a tool (same uid) since the call began
    if engine is None:
        why = ("kept dying in this run (out of memory?): raise environment.max_memory_mb (loading takes several times the "
               "dataset's size)" if engine_failed else "is not running (%s): it starts again with the next call" % engine_ended)
        return sql_refused_answer(started, "SQL_RUNNER_FAILED", "the sql engine " + why)
    pid = engine["pid"]
    cpu_before, _ = engine_usage(pid)
    try:
        os.kill(pid, signal.SIGCONT)  # a tool may have stopped it (same uid)
        # RLIMIT_CPU counts a process's life: each query gets the run's CPU limit from what the engine has used.
        # Only the soft limit (SIGXCPU): the hard one stays open, since an unprivileged process cannot raise it again.
        resource.prlimit(pid, resource.RLIMIT_CPU, (cpu_before // 1000 + 1 + limits["cpu_seconds"], resource.RLIM_INFINITY))
    except (ProcessLookupError, PermissionError):
        pass
    max_ms = int(min(max_seconds, deadline - started - QUERY_GRACE_SECONDS) * 1000)
    request = json_dumps({"query": query, "max_rows": max_rows, "max_bytes": max_bytes, "max_ms": max(max_ms, 1)}).encode() + b"\n"
    killed_by = None
    try:
        answer = engine_read(deadline, watch, hard_cap, request)[:-1]
    except (EngineStopped, OSError) as stopped:
        killed_by = stopped.args[0] if isinstance(stopped, EngineStopped) else "ended"
        answer = None
    cpu_after, rss = engine_usage(pid)  # read before a kill: the query's CPU is known up to it
    if killed_by is not None:
        how = engine_stop()  # always a kill: the engine may live on after a broken channel (a zombie keeps its status)
        killed_by = how if killed_by == "ended" else killed_by
        # Over the memory watch, or dead twice without a word under queries: a reload would meet the same limit.
        engine_deaths += killed_by == "sandbox_lost"
        if killed_by == "memory" or engine_deaths >= 2:
            engine_failed = "memory"
    summary = sql_summary(answer) if answer is not None else None
    return {
        "exit_code": None if summary is None else (0 if summary["error_code"] is None else 1 if summary["error_code"] == "SQL_RUNNER_FAILED" else 2),
        "killed_by": killed_by,
        "answer": answer if answer is not None else b"",
        "duration_ms": int((time.monotonic() - started) * 1000),
        "cpu_ms": max(cpu_after - cpu_before, 0),
        "max_rss_kb": rss,
        "sql": summary,
    }


def sql_refused_answer(started, code, message):
    """An answer the supervisor gives without the engine: the call's members, as sql_ask returns them."""
    return {"exit_code": 1 if code == "SQL_RUNNER_FAILED" else 2, "killed_by": None, "answer": sql_error_answer(code, message)[:-1],
            "duration_ms": int((time.monotonic() - started) * 1000), "cpu_ms": 0, "max_rss_kb": 0,
            "sql": {"rows": 0, "bytes": 0, "truncated": False, "error_code": code}}


def sql_summary(answer):
    """What the events keep of an answer: rows returned, their bytes, whether cut, the error's code."""
    try:
        value = json_loads(answer.decode("utf-8"))
        if "error" in value:
            return {"rows": 0, "bytes": 0, "truncated": False, "error_code": str(value["error"]["code"])}
        return {"rows": int(value["row_count"]), "bytes": int(value["bytes"]), "truncated": value["truncated"] is True, "error_code": None}
    except (ValueError, KeyError, TypeError):
        return {"rows": 0, "bytes": 0, "truncated": False, "error_code": "SQL_RUNNER_FAILED"}


def run_sql(request):
    """A model's sql call: the query straight to the engine; the answer is the call's stdout."""
    call = request["call"]
    check_sql_request(call["query"], call["max_rows"], call["max_bytes"], call["max_seconds"])
    limits = request["limits"]
    deadline = time.monotonic() + request["timeout_ms"] / 1000.0  # before the engine's start, which is the call's time too
    engine_ready(limits)
    mark("begin-%d" % request["mark"])
    asked = sql_ask(call["query"], call["max_rows"], call["max_bytes"], call["max_seconds"], deadline, Watch(limits), limits,
                    limits["output_hard_bytes"])
    mark("end-%d" % request["mark"])
    out = asked["answer"][: limits["output_bytes"]]
    return {
        "exit_code": asked["exit_code"],
        "killed_by": asked["killed_by"],
        "stdout": b64(out),
        "stderr": "",
        "stderr_tail": "",
        "stdout_bytes": len(asked["answer"]),
        "stderr_bytes": 0,
        "truncated": len(out) < len(asked["answer"]),
        "duration_ms": asked["duration_ms"],
        "cpu_ms": asked["cpu_ms"],
        "max_rss_kb": asked["max_rss_kb"],
        "sql": asked["sql"],
    }


def check_sql_request(query, max_rows, max_bytes, max_seconds):
    if not isinstance(query, str) or not all(type(v) is int for v in (max_rows, max_bytes, max_seconds)):
        raise ValueError("not an sql request")
    if not (1 <= max_rows <= SQL["max_rows"] and 1 <= max_bytes <= SQL["max_bytes"] and 1 <= max_seconds <= SQL["max_seconds"]):
        raise ValueError("sql caps out of range")


class SqlConnection:
    """One `sql` command's request (JSON, then the client's end of writing) and, once answered, its answer."""

    def __init__(self, sock):
        self.sock = sock
        self.inbox = bytearray()
        self.outbox = None


def sql_readers():
    if sql_listener is None:
        return []
    return [sql_listener.fileno()] + [fd for fd, c in sql_connections.items() if c.outbox is None]


def sql_writers():
    return [fd for fd, c in sql_connections.items() if c.outbox is not None]


def sql_readable(fd, deadline, watch, limits):
    if fd == sql_listener.fileno():
        try:
            sock, _ = sql_listener.accept()
        except OSError:
            return
        if len(sql_connections) >= SQL["max_connections"]:
            sock.close()  # the client says the engine is busy
            return
        sock.setblocking(False)
        sql_connections[sock.fileno()] = SqlConnection(sock)
        return
    connection = sql_connections[fd]
    try:
        chunk = connection.sock.recv(65536)
    except OSError:
        chunk = b""
        connection.inbox = None
    if chunk:
        connection.inbox += chunk
        if len(connection.inbox) > SQL["max_request_bytes"]:
            connection.outbox = sql_error_answer("SQL_QUERY_TOO_LARGE", "the request is over %d bytes" % SQL["max_request_bytes"])
        return
    if connection.inbox is None:
        sql_drop(fd)
        return
    connection.outbox = sql_nested(bytes(connection.inbox), deadline, watch, limits)


def sql_nested(data, deadline, watch, limits):
    """A `sql` command's request, run and reported to the executor as a call of its own: the answer to send back."""
    try:
        request = json_loads(data.decode("utf-8"))
        if set(request) != {"query", "max_rows", "max_bytes", "max_seconds"}:
            raise ValueError("not the sql command's request")
        query, max_rows, max_bytes, max_seconds = request["query"], request["max_rows"], request["max_bytes"], request["max_seconds"]
        check_sql_request(query, max_rows, max_bytes, max_seconds)
    except Exception:  # noqa: BLE001  ValueError, KeyError, TypeError, and RecursionError on "[[[[…": never this loop's end
        # The command's own checks make this a request written by hand: not a query, so not a call.
        return sql_error_answer("SQL_USAGE", "not a request of the sql command")
    asked = sql_ask(query, max_rows, max_bytes, max_seconds, deadline, watch, limits, max_bytes + SQL["answer_overhead_bytes"])
    notify("sql", dict({key: asked[key] for key in ("exit_code", "killed_by", "duration_ms", "cpu_ms", "max_rss_kb", "sql")},
                       query=query, answer=b64(asked["answer"])))
    if asked["killed_by"]:
        return sql_error_answer("SQL_RUNNER_FAILED", "the sql engine was stopped (%s)%s" % (
            asked["killed_by"], ": raise environment.max_memory_mb" if asked["killed_by"] == "memory" else ""))
    return asked["answer"] + b"\n"


def notify(kind, members):
    # A notice of the wrong shape is this file's bug: it fails here, not in the executor's reading.
    if set(members) != set(PROTOCOL["notices"][kind]):
        raise AssertionError("a %s notice with members %s" % (kind, sorted(members)))
    reply(dict(members, notice=kind))


def sql_error_answer(code, message):
    return json_dumps({"error": {"code": code, "message": message}}).encode() + b"\n"


def sql_writable(fd):
    connection = sql_connections[fd]
    try:
        sent = connection.sock.send(connection.outbox)
    except OSError:
        sql_drop(fd)
        return
    connection.outbox = connection.outbox[sent:]
    if not connection.outbox:
        sql_drop(fd)


def sql_drop(fd):
    sql_connections.pop(fd).sock.close()


def sql_close_all():
    """At a call's end: every connection closed, and the backlog of clients killed with the call emptied."""
    for fd in list(sql_connections):
        sql_drop(fd)
    while sql_listener is not None:
        try:
            sql_listener.accept()[0].close()
        except OSError:
            return
