# One tool call: its argv, its limits, its deadline, its output caps, and every process it leaves killed.
# Part of the supervisor (10-base.py says how the parts are joined).


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




def limiter(limits, cpu_hard=None):
    """The rlimits and filter of a tool process. cpu_hard: RLIMIT_CPU's hard limit, when not one past the soft
    (the sql engine's: its soft limit is raised before each of its queries, 45-sql.py)."""

    def apply():
        os.setsid()
        for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGXFSZ):  # ignored here (below, and by Python): not in a tool
            signal.signal(sig, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits["max_open_files"], limits["max_open_files"]))
        cpu = limits["cpu_seconds"]
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1 if cpu_hard is None else cpu_hard))
        if limits.get("address_space_bytes"):
            space = limits["address_space_bytes"]
            resource.setrlimit(resource.RLIMIT_AS, (space, space))
        if limits.get("max_processes"):
            # Counted per uid within this sandbox's own user namespace (and so never shared with another sandbox):
            # every task here, this supervisor's threads included, is that uid. Set here, not before bwrap, where
            # it would also count every other sandbox running as the same host uid.
            nproc = limits["max_processes"]
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        if SECCOMP_ARCH:
            install_seccomp()
    return apply


class Watch:
    """Where rlimits stand in for cgroups: the sandbox's tasks and memory, sampled while a call runs.
    RLIMIT_NPROC refuses the fork past the cap (EAGAIN) and RLIMIT_AS the allocation past the cap, in one process;
    this notices the first (the call ends as killed by pids, as with pids.max) and kills a call whose processes
    together hold more memory than the limit (proportional set sizes; killed by memory, as an OOM kill in a cgroup).
    Sampled, so a cap reached and left between two looks is missed: the tasks are counted on every turn of the
    call's loop (a directory listing and stats, cheap) and once more before anything is killed, the memory every 50 ms
    (one read per process)."""

    def __init__(self, limits):
        self.max_processes = limits.get("max_processes")
        self.memory_bytes = limits.get("memory_watch_bytes")
        self.at_process_cap = False
        self.next_memory = 0.0

    def count_tasks(self):
        if self.max_processes and not self.at_process_cap:
            tasks = threads_of(SELF) + sum(threads_of(pid) for pid in others())
            self.at_process_cap = tasks >= self.max_processes

    def over_memory(self):
        """True when the call must die for memory."""
        self.count_tasks()
        now = time.monotonic()
        if not self.memory_bytes or now < self.next_memory:
            return False
        self.next_memory = now + 0.05
        return sum(proportional_bytes(pid) for pid in others()) > self.memory_bytes


def proportional_bytes(pid):
    """The process's proportional set size: pages it shares (a fork's copy-on-write ones) counted once over all."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def threads_of(pid):
    try:
        return os.stat("/proc/%d/task" % pid).st_nlink - 2  # procfs: one link per thread, plus . and ..
    except OSError:
        return 0


def call_loop(pid, out_r, err_r, streams, err_tail, totals, open_fds, deadline, watch, limits, cap, hard_cap):
    """Until the call ends: its pipes read into their capped streams, the sql command's connections served, its
    deadline, memory and output watched. Returns how it ended (killed_by or None) and whether its process exited."""
    killed_by, drain_until, exited = None, None, False
    while open_fds or not exited:
        # Once the call's own process has exited, a background child holding its pipes gets a short grace, then dies.
        if drain_until is not None and time.monotonic() > drain_until:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            killed_by = "timeout"
            break
        if watch.over_memory():
            killed_by = "memory"
            break
        # The call's pipes, and the sql command's connections (45-sql.py) when the run offers sql.
        readers, writers = open_fds + sql_readers(), sql_writers()
        if readers or writers:
            ready, ready_w, _ = select.select(readers, writers, [], min(remaining, 0.05))
            for fd in ready_w:
                sql_writable(fd)
            for fd in ready:
                if fd not in streams:
                    sql_readable(fd, deadline, watch, limits)
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    open_fds.remove(fd)
                    continue
                totals[fd] += len(chunk)
                room = cap - len(streams[fd])
                if room > 0:
                    streams[fd] += chunk[:room]
                if fd == err_r:
                    err_tail += chunk
                    del err_tail[: max(0, len(err_tail) - PROTOCOL["stderr_tail_bytes"])]
            if totals[out_r] + totals[err_r] > hard_cap:
                killed_by = "output_limit"
                break
        if not exited:
            # Seen, not reaped: until the call ends, the exited process still counts among the sandbox's tasks.
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                exited = True
                drain_until = time.monotonic() + 0.25
            elif not readers and not writers:
                time.sleep(0.01)
    return killed_by, exited


def run(request):
    call = request["call"]
    if call["kind"] == "sql":
        return run_sql(request)
    limits = request["limits"]
    cap = limits["output_bytes"]
    hard_cap = limits["output_hard_bytes"]
    deadline = time.monotonic() + request["timeout_ms"] / 1000.0
    argv = argv_for(call)
    engine_ready(limits)  # 45-sql.py: now, while no process of the call exists
    mark("begin-%d" % request["mark"])
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    engine_cpu_before = engine_reaped_cpu_ms
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
    # The end of stderr, kept apart from the capped head: a failing script's traceback comes last.
    err_tail = bytearray()
    totals = {out_r: 0, err_r: 0}
    open_fds = [out_r, err_r]
    watch = Watch(limits)
    try:
        killed_by, exited = call_loop(pid, out_r, err_r, streams, err_tail, totals, open_fds, deadline, watch, limits, cap, hard_cap)
    except Exception:  # noqa: BLE001  a tool found a way to make this loop raise: the call ends, its processes die below
        killed_by, exited = "sandbox_lost", False

    # A full tmpfs is a breach of the disk limit: the call ends as killed by it.
    if killed_by is None and any(disk_full(p) for p in ("/work", "/out", "/tmp")):
        killed_by = "disk"
    # A fork refused at RLIMIT_NPROC is a breach of the process limit, reported as one refused at pids.max is
    # (over anything but memory: a bomb that then stalls is a bomb, not a timeout).
    watch.count_tasks()
    if killed_by != "memory" and watch.at_process_cap:
        killed_by = "pids"
    # Every process the call started dies now, whatever it did (setsid, double fork, traps).
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass
    try:
        _, status = os.waitpid(pid, 0)  # its own status if it had exited, else the SIGKILL's
    except ChildProcessError:
        status = None
    if kill_others(keep=engine_pids):
        engine_stop()  # a process survived the kill rounds: no engine may run beside it, nor start (engine_ready)
    sql_close_all()
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
    cpu_ms -= engine_reaped_cpu_ms - engine_cpu_before  # the sql engine's, reaped during the call, is not the call's
    return {
        "exit_code": exit_code,
        "killed_by": killed_by,
        "stdout": b64(bytes(streams[out_r])),
        "stderr": b64(bytes(streams[err_r])),
        "stderr_tail": b64(bytes(err_tail)),
        "stdout_bytes": totals[out_r],
        "stderr_bytes": totals[err_r],
        "truncated": totals[out_r] > cap or totals[err_r] > cap,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "cpu_ms": max(cpu_ms, 0),
        "max_rss_kb": after.ru_maxrss,
        "sql": None,
    }
