# The seccomp filter every tool process runs under (x86_64), built once before any fork. Part of the
# supervisor (10-base.py says how the parts are joined).


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
# Syscalls refused unless their first argument, a pid, is 0: the caller itself (protocol.ts).
OWN_ONLY_SYSCALLS = PROTOCOL["seccomp"]["own_only"]


def seccomp_program():
    """Classic BPF: another ABI (i386 through int 0x80) is killed; x32, every blocked syscall and a signal to
    pid 1 get EPERM; the rest pass."""
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
    # Instructions with symbolic jump targets, resolved to relative offsets below.
    prog = [(ld, None, None, 4), (jeq, "nr", "kill", AUDIT_ARCH_X86_64), ("kill", ret, None, None, SECCOMP_RET_KILL_PROCESS),
            ("nr", ld, None, None, 0), (jge, "deny", None, X32_SYSCALL_BIT)]
    prog += [(jeq, "deny", None, nr) for nr in sorted(BLOCKED_SYSCALLS.values())]
    prog += [(jeq, "pid", None, nr) for nr in sorted(SIGNALLING_SYSCALLS.values())]
    prog += [(jeq, "self", None, nr) for nr in sorted(OWN_ONLY_SYSCALLS.values())]
    prog += [(ret, None, None, SECCOMP_RET_ALLOW),
             ("pid", ld, None, None, 16),  # the low word of args[0] (x86_64 is little-endian): a pid_t
             (jeq, "deny", "allow", 1),
             ("self", ld, None, None, 16),
             (jeq, "allow", "deny", 0),
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


SECCOMP_ARCH = os.uname().machine == "x86_64"
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
