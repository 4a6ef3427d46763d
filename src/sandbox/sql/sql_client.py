#!/usr/bin/python3 -IS
"""sql: ask the run's SQL engine a question about the dataset (docs/sql-tool.md §7).

    sql [--max-rows N] [--max-bytes N] [--max-seconds N] [--csv] [--] [QUERY | -]

The query is the argument (after "--" if it starts with an SQL comment), or
stdin when it is absent or "-". The answer (one JSON object: schema, columns,
rows, truncated) goes to stdout; with --csv, the columns and rows as CSV
instead (NULL as an empty field); a cut answer says which cap cut it on
stderr. Caps: 1,000 rows, 64 KiB of rows and 60 s by default; at most
1,000,000 rows, 16 MiB and 3,600 s (the call's own time bounds it too). A refused or
failed query writes "sql: CODE: message" to stderr and exits 2 (1 when the
engine failed or the run does not offer sql). Every query is a call of its own in
the run's certificate: the supervisor answers it and reports it.
"""
import json
import os
import socket
import sys

USAGE = "usage: sql [--max-rows N] [--max-bytes N] [--max-seconds N] [--csv] [--] [QUERY | -]"
CAPS = {
    "--max-rows": ("max_rows", 1000, 1_000_000),
    "--max-bytes": ("max_bytes", 65536, 16 << 20),
    "--max-seconds": ("max_seconds", 60, 3600),
}
MAX_ANSWER_BYTES = 64 << 20


def fail(status, message):
    sys.stderr.write("sql: %s\n" % message)
    sys.exit(status)


def parse(argv):
    caps = {name: default for name, default, _ in CAPS.values()}
    as_csv, query = False, None
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            sys.stdout.write(__doc__)
            sys.exit(0)
        if arg in CAPS:
            name, _, most = CAPS[arg]
            value = args.pop(0) if args else ""
            if not value.isdigit() or not 1 <= int(value) <= most:
                fail(2, "%s wants an integer from 1 to %d" % (arg, most))
            caps[name] = int(value)
        elif arg == "--csv":
            as_csv = True
        elif arg == "--":  # the query follows, whatever it starts with (an SQL comment starts with --)
            query = " ".join(args) if args else None
            break
        elif query is None and (arg == "-" or not arg.startswith("--") or any(c.isspace() for c in arg)):
            query = arg
        else:
            fail(2, "%s: unknown flag, or a second query\n%s" % (arg, USAGE))
    if query is None or query == "-":
        query = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    return query, caps, as_csv


def ask(request):
    name = os.environ.get("EPHEMERA_SQL_SOCKET")
    if not name:
        fail(1, 'this run does not offer the sql tool: add "sql" to sandbox.tools')
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect("\0" + name)
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            fail(1, "the sql engine cannot be reached")
        answer = bytearray()
        while len(answer) <= MAX_ANSWER_BYTES:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            answer += chunk
    if not answer:
        fail(1, "the sql engine is busy (too many sql commands at once) or gone")
    return bytes(answer)


def main(argv):
    query, caps, as_csv = parse(argv)
    request = json.dumps(dict(caps, query=query)).encode("utf-8", "surrogatepass")
    raw = ask(request)
    answer = json.loads(raw)
    if "error" in answer:
        code = answer["error"]["code"]
        fail(1 if code == "SQL_RUNNER_FAILED" else 2, "%s: %s" % (code, answer["error"]["message"]))
    if as_csv:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(answer["columns"])
        for row in answer["rows"]:
            writer.writerow(["" if v is None else json.dumps(v) if isinstance(v, dict) else v for v in row])
    else:
        sys.stdout.buffer.write(raw)
    if answer["truncated"]:
        # Which cap cut it, and how far it goes: the rows cap if the answer holds that many rows, else the bytes cap.
        flag = "--max-rows" if answer["row_count"] == caps["max_rows"] else "--max-bytes"
        name, _, most = CAPS[flag]
        sys.stderr.write("sql: the answer was cut at %d rows by %s %d (raise it, at most %d; or narrow the query)\n"
                         % (answer["row_count"], flag, caps[name], most))


if __name__ == "__main__":
    main(sys.argv[1:])
