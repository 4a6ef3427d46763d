/**
 * Probe programs for the escape battery: each prints "ESCAPED <detail>" when
 * the capability it tries exists where it runs, else "CONTAINED <detail>".
 * The same program runs inside a sandbox and, where that is safe, on the host
 * (the differential: it shows the probe itself works).
 */
export interface ProbeContext {
  hostPid: number;
  tcpPort: number;
  udpPort: number;
  tcp6Port: number | null;
  abstractName: string;
  secretFile: string;
  secretDir: string;
  runSocket: string;
  dataDir: string;
  maxOpenFiles: number;
}

const py = (body: string) => `import os, sys, socket\ndef out(ok, detail=""):\n    print(("ESCAPED " if ok else "CONTAINED ") + str(detail))\n${body}\n`;
const attempt = (action: string, detail = 'type(e).__name__') =>
  py(`try:\n    ${action.split('\n').join('\n    ')}\n    out(True)\nexcept Exception as e:\n    out(False, ${detail})`);

export const PROBES = {
  tty: () => attempt('open("/dev/tty", "rb")'),
  tiocsti: () => attempt('import fcntl, termios\nfcntl.ioctl(0, termios.TIOCSTI, b"x")'),
  fds: () =>
    py(
      'fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))\nextra = [f for f in fds if f > 2 and os.path.exists("/proc/self/fd/%d" % f) and not os.readlink("/proc/self/fd/%d" % f).startswith("/proc/")]\nout(bool(extra), extra)',
    ),
  hostPid: (c: ProbeContext) => py(`out(os.path.exists("/proc/${c.hostPid}"), "pid ${c.hostPid}")`),
  processCount: () => py('n = len([p for p in os.listdir("/proc") if p.isdigit()])\nout(n > 10, n)'),
  sys: () => py('out(os.path.exists("/sys/kernel"))'),
  // Opens for writing without writing: on the host (as root) the open succeeds and nothing changes.
  procSys: () => attempt('open("/proc/sys/kernel/hostname", "r+").close()'),
  secretsInEnv: () =>
    py(
      'leaked = [k for k in ("ANTHROPIC_API_KEY", "KAFKA_BROKERS", "CLICKHOUSE_URL", "DSTACK_SIMULATOR_ENDPOINT") if k in os.environ]\nout(bool(leaked), leaked)',
    ),
  symlink: (c: ProbeContext) =>
    attempt(`p = os.path.join(os.environ.get("TMPDIR", "/tmp"), "ln-%d" % os.getpid())\nos.symlink(${JSON.stringify(c.secretFile)}, p)\nopen(p).read()`),
  hardlink: () =>
    attempt('p = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hl-%d" % os.getpid())\nos.link(os.path.realpath("/usr/bin/python3"), p)\nos.unlink(p)'),
  procRoot: (c: ProbeContext) => py(`out(any(os.path.exists(r + ${JSON.stringify(c.secretDir)}) for r in ("/proc/1/root", "/proc/${c.hostPid}/root")))`),
  tcp: (c: ProbeContext) => attempt(`socket.create_connection(("127.0.0.1", ${c.tcpPort}), timeout=2).close()`),
  // A datagram "sent" proves nothing: only the host server's echo does.
  udp: (c: ProbeContext) =>
    attempt(`s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(2)\ns.sendto(b"probe", ("127.0.0.1", ${c.udpPort}))\ns.recvfrom(16)`),
  tcp6: (c: ProbeContext) => attempt(`socket.create_connection(("::1", ${c.tcp6Port ?? 1}), timeout=2).close()`),
  metadata: () => attempt('socket.create_connection(("169.254.169.254", 80), timeout=2).close()'),
  rawIcmp: () => attempt('socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()'),
  dns: () =>
    py(
      'ok = os.path.exists("/etc/resolv.conf")\ntry:\n    socket.getaddrinfo("ephemera-probe.invalid", 80)\nexcept OSError:\n    pass\nout(ok, "resolver config" if ok else "no resolver")',
    ),
  abstractSocket: (c: ProbeContext) => attempt(`s = socket.socket(socket.AF_UNIX)\ns.connect("\\0${c.abstractName}")`),
  hostRunSocket: (c: ProbeContext) => attempt(`s = socket.socket(socket.AF_UNIX)\ns.connect(${JSON.stringify(c.runSocket)})`),
  dataDir: (c: ProbeContext) => py(`out(os.path.exists(${JSON.stringify(c.dataDir)}))`),
  newPrivs: () => py('line = [l for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0]\nout(line.split()[1] == "0", line.strip())'),
  capabilities: () => py('line = [l for l in open("/proc/self/status") if l.startswith("CapEff")][0]\nout(int(line.split()[1], 16) != 0, line.strip())'),
  setuid: () => attempt('os.setuid(0)\nassert os.getuid() == 0'),
  userns: () => py('import subprocess\nr = subprocess.run(["/usr/bin/unshare", "-U", "/bin/true"], capture_output=True)\nout(r.returncode == 0, r.returncode)'),
  bpf: () =>
    py(
      'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nattr = (ctypes.c_uint32 * 5)(1, 4, 4, 1, 0)\nfd = libc.syscall(321, 0, ctypes.byref(attr), ctypes.sizeof(attr))\nout(fd >= 0, "fd %d errno %d" % (fd, ctypes.get_errno()))',
    ),
  ptraceHost: (c: ProbeContext) =>
    py(
      `import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nr = libc.ptrace(16, ${c.hostPid}, 0, 0)\nif r == 0:\n    libc.ptrace(17, ${c.hostPid}, 0, 0)\nout(r == 0, "errno %d" % ctypes.get_errno())`,
    ),
  // A child of the probe itself: the most a process could ever be allowed to trace or read.
  ptraceSibling: () =>
    py(
      'import ctypes, time\nlibc = ctypes.CDLL(None, use_errno=True)\npid = os.fork()\nif pid == 0:\n    time.sleep(5)\n    os._exit(0)\nr = libc.ptrace(16, pid, 0, 0)\nerr = ctypes.get_errno()\nos.kill(pid, 9)\nout(r == 0, "errno %d" % err)',
    ),
  processVmRead: () =>
    py(
      'import ctypes, time\nlibc = ctypes.CDLL(None, use_errno=True)\nsecret = ctypes.create_string_buffer(b"x" * 64)\npid = os.fork()\nif pid == 0:\n    time.sleep(5)\n    os._exit(0)\nclass IoVec(ctypes.Structure):\n    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]\nmine = (ctypes.create_string_buffer(64))\nlocal = IoVec(ctypes.cast(mine, ctypes.c_void_p), 64)\nremote = IoVec(ctypes.cast(secret, ctypes.c_void_p), 64)\nn = libc.syscall(310, pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)\nerr = ctypes.get_errno()\nos.kill(pid, 9)\nout(n == 64, "read %d errno %d" % (n, err))',
    ),
  // pidfd_getfd copies another process's fd: the supervisor's end of the executor's channel, say.
  pidfdGetfd: () =>
    py(
      'import ctypes, time\nlibc = ctypes.CDLL(None, use_errno=True)\npid = os.fork()\nif pid == 0:\n    time.sleep(5)\n    os._exit(0)\nfd = libc.syscall(438, os.pidfd_open(pid), 0, 0)\nerr = ctypes.get_errno()\nos.kill(pid, 9)\nout(fd >= 0, "fd %d errno %d" % (fd, err))',
    ),
  // io_uring opens and reads files without the syscalls the tracer sees.
  ioUring: () =>
    py(
      'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nparams = (ctypes.c_uint8 * 120)()\nfd = libc.syscall(425, 4, ctypes.byref(params))\nout(fd >= 0, "fd %d errno %d" % (fd, ctypes.get_errno()))',
    ),
  interpreterWritable: () => py('out(os.access("/usr/bin/python3", os.W_OK) or os.access(os.path.realpath("/usr/bin/python3"), os.W_OK))'),
  loaderHijack: () =>
    py('hijack = [k for k in ("LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONSTARTUP") if os.environ.get(k)]\nout(bool(hijack), hijack)'),
  fdExhaustion: (c: ProbeContext) =>
    py(
      `fds = []\ntry:\n    for _ in range(${c.maxOpenFiles + 16}):\n        fds.append(os.open("/dev/null", os.O_RDONLY))\nexcept OSError:\n    pass\nout(len(fds) >= ${c.maxOpenFiles + 16}, len(fds))`,
    ),
  coreDumps: () => py('import resource\nsoft, hard = resource.getrlimit(resource.RLIMIT_CORE)\nout(soft != 0 or hard != 0, (soft, hard))'),
  forkBomb: () =>
    py(
      'import time\nn = 0\ntry:\n    while n < 2000:\n        if os.fork() == 0:\n            time.sleep(30)\n            os._exit(0)\n        n += 1\nexcept OSError as e:\n    pass\nout(n >= 2000, "forked %d before EAGAIN" % n)',
    ),
  tmpfsFill: () =>
    py(
      'written = 0\ntry:\n    with open("/work/fill", "wb") as f:\n        while written < (2 << 30):\n            f.write(b"x" * (1 << 20)); f.flush(); written += 1 << 20\nexcept OSError as e:\n    pass\nout(written >= (2 << 30), "%d MiB then %s" % (written >> 20, "ENOSPC"))',
    ),
} as const satisfies Record<string, (c: ProbeContext) => string>;
