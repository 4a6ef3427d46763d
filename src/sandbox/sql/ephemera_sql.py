#!/usr/bin/python3
"""Ephemera's `sql` tool runner (docs/sql-tool.md §2-4).

    python3 ephemera_sql.py <dataset-file> <csv|json|txt> [--max-rows N] [--max-bytes N] [--max-seconds N]

Reads one SQL query from stdin, loads the dataset into an in-memory SQLite
table `dataset` with inferred column types, runs the query read-only and
prints one JSON object on stdout (exit 0), or one JSON error (exit 2).
Standard library only: it runs with the sandbox's /usr/bin/python3.

Every byte of the dataset and the query is hostile. Nothing but the dataset is
opened; the database lives in memory; the query may only read. Error messages
about the dataset say where, never what (the dataset is private).
"""

import base64
import csv
import datetime
import io
import itertools
import json
import math
import re
import sqlite3
import sys
import time

MAX_QUERY_BYTES = 64 * 1024
DEFAULTS = {"--max-rows": 1000, "--max-bytes": 65536, "--max-seconds": 60}
# A value longer than this (64 MiB) is refused on load and cannot be built by a query.
MAX_VALUE_CHARS = 64 << 20
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Leading zeros are not numbers: "007" and "01234" are codes (zip, id) and stay TEXT.
INTEGER_RE = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
REAL_RE = re.compile(r"[+-]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class SqlError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def dataset_invalid(message):
    return SqlError("SQL_DATASET_INVALID", message)


# ---------------------------------------------------------------- typing

def is_date(text):
    if not DATE_RE.fullmatch(text):
        return False
    try:
        datetime.date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
        return True
    except ValueError:  # 2024-02-30: looks like a date, is not one
        return False


def text_kind(text):
    """The narrowest type one csv value fits: INTEGER, REAL, DATE or TEXT."""
    if INTEGER_RE.fullmatch(text):
        # Beyond 64 bits neither INTEGER (SQLite cannot hold it) nor REAL (it would
        # lose digits silently): TEXT keeps it exactly as written.
        # (Length first: int() refuses more than 4,300 digits.)
        return "INTEGER" if len(text) <= 20 and INT64_MIN <= int(text) <= INT64_MAX else "TEXT"
    if REAL_RE.fullmatch(text):
        return "REAL" if math.isfinite(float(text)) else "TEXT"
    return "DATE" if is_date(text) else "TEXT"


def column_type(kinds):
    """The type every non-null value of a column fits (kinds: the set of its values' kinds)."""
    if not kinds:
        return "TEXT"
    if kinds == {"INTEGER"}:
        return "INTEGER"
    if kinds <= {"INTEGER", "REAL"}:
        return "REAL"
    if kinds == {"DATE"}:
        return "DATE"
    return "TEXT"


MAX_NAME_CHARS = 1024
# Every answer carries the schema and the result's column names: each at most this much JSON, so that an
# answer is its rows (--max-bytes) and at most this twice (the supervisor's answer_overhead_bytes allows 256 KiB).
MAX_NAMES_JSON_BYTES = 64 * 1024


def column_names(raw_names):
    """SQL column names: an empty one becomes column_<n>, a repeat (SQLite names ignore case) gets _<n>.
    Every answer carries the schema: a name longer than MAX_NAME_CHARS is refused rather than repeated."""
    names, seen = [], set()
    for n, raw in enumerate(raw_names, start=1):
        if len(raw) > MAX_NAME_CHARS:
            raise dataset_invalid(f"column {n}'s name is longer than {MAX_NAME_CHARS} characters")
        name = raw if raw and "\0" not in raw else f"column_{n}"
        while name.lower() in seen:
            name = f"{name}_{n}"
        seen.add(name.lower())
        names.append(name)
    return names


# ---------------------------------------------------------------- loading

def decode(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise dataset_invalid(f"not UTF-8 (byte {e.start})") from None
    return text


def split_lines(text):
    """Lines as docs/row-proofs.md §1: end at LF or CRLF; a final terminator adds no line."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def csv_records(text):
    """RFC 4180 records, numbered from 1; a malformed one is SQL_DATASET_INVALID."""
    # newline="\n": records end only at LF (CRLF's CR is eaten by the csv module);
    # strict: a character after a closing quote, or a quote left open, is an error.
    reader = csv.reader(io.StringIO(text, newline="\n"), delimiter=",", quotechar='"', doublequote=True, strict=True)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record if record else [""]  # an empty line is one empty field
    except csv.Error:
        raise dataset_invalid(f"csv record {number + 1} is malformed (quoting or a line break)") from None


# Fast checks of a whole column chunk at C speed: short enough (18 characters) that
# the integer fits 64 bits and the decimal (without an exponent) is a finite double.
DECIMAL_RE = re.compile(r"[+-]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def chunk_kinds(values):
    """The kinds of a chunk of one column's non-empty csv values (text_kind of each, faster)."""
    if max(map(len, values)) <= 18:
        if all(map(INTEGER_RE.fullmatch, values)):
            return {"INTEGER"}
        if all(map(DECIMAL_RE.fullmatch, values)):
            return {"REAL"}
    return set(map(text_kind, set(values)))  # few distinct values in a chunk of dates or codes


def load_csv(text):
    """The header names the columns, each column typed by its values; empty is NULL.

    Two passes over the text, so that only the SQLite table holds the rows:
    the first checks every record and infers the types, the second inserts."""
    records = csv_records(text)
    header = next(records, (0, None))[1]
    if header is None:
        raise dataset_invalid("the csv has no header record")
    width = len(header)
    kinds = [set() for _ in header]
    undecided = list(range(width))  # columns not yet known to be TEXT: TEXT stays TEXT
    while chunk := list(itertools.islice(records, 4096)):
        for number, row in chunk:
            if len(row) != width:
                if row == [""] and width > 1:
                    raise dataset_invalid(f"csv record {number} is an empty line (the header has {width} fields)")
                raise dataset_invalid(f"csv record {number} has {len(row)} field{'s' * (len(row) != 1)}, the header has {width}")
        columns = list(zip(*(row for _, row in chunk)))
        for i in undecided:
            values = [v for v in columns[i] if v != ""]
            if values:
                kinds[i] |= chunk_kinds(values)
        undecided = [i for i in undecided if "TEXT" not in kinds[i]]
    types = [column_type(k) for k in kinds]
    # INSERT's NULLIF makes empty NULL, and the INTEGER column's affinity turns its digits into
    # an exact integer in SQLite; REAL is parsed here, where float() rounds correctly.
    reals = [i for i, t in enumerate(types) if t == "REAL"]
    records = csv_records(text)
    next(records)
    rows = (row for _, row in records)
    if reals:
        rows = (real_fields(row, reals) for row in rows)
    return column_names(header), types, rows, True


def real_fields(row, reals):
    for i in reals:
        if row[i] != "":
            row[i] = float(row[i])
    return row


class BigNumber(str):
    """A JSON number SQLite cannot hold exactly (beyond 64 bits, or overflowing a double): kept as written."""


def parse_json_int(text):
    return BigNumber(text) if len(text) > 20 or not INT64_MIN <= int(text) <= INT64_MAX else int(text)


def parse_json_float(text):
    value = float(text)
    return value if math.isfinite(value) else BigNumber(text)


def refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_json(text):
    return json.loads(text, parse_int=parse_json_int, parse_float=parse_json_float, parse_constant=refuse_constant)


def json_kind(value):
    if isinstance(value, int):  # booleans too: 0/1
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    if isinstance(value, BigNumber):
        return "TEXT"
    if isinstance(value, str):
        return "DATE" if is_date(value) else "TEXT"
    return "TEXT"  # an array or an object: its JSON


def json_value(value, type_):
    if value is None:
        return None
    if type_ == "INTEGER":
        return int(value)
    if type_ == "REAL":
        return float(value)
    if isinstance(value, str):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_json(text):
    """A JSON array of objects, or JSON Lines of objects: a column per top-level member."""
    objects = []
    try:
        if text.lstrip()[:1] == "[":
            objects = parse_json(text)
        else:
            for number, line in enumerate(split_lines(text), start=1):
                if not line.strip():
                    raise dataset_invalid(f"json line {number} is empty")
                objects.append(parse_json(line))
    except (ValueError, RecursionError):
        where = "the json array" if text.lstrip()[:1] == "[" else f"json line {len(objects) + 1}"
        raise dataset_invalid(f"{where} is not JSON") from None
    if not isinstance(objects, list):
        raise dataset_invalid("the json is not an array of objects")
    keys = {}  # member name -> column index, in order of first appearance
    for number, obj in enumerate(objects, start=1):
        if not isinstance(obj, dict):
            raise dataset_invalid(f"json record {number} is not an object")
        for key in obj:
            keys.setdefault(key, len(keys))
    if not keys:
        raise dataset_invalid("the json has no members to make columns of")
    types = [column_type({json_kind(obj[k]) for obj in objects if obj.get(k) is not None}) for k in keys]
    values = ([json_value(obj.get(k), t) for k, t in zip(keys, types)] for obj in objects)
    return column_names(list(keys)), types, values, False


def load_txt(text):
    return ["line_number", "line"], ["INTEGER", "TEXT"], ([n, line] for n, line in enumerate(split_lines(text), start=1)), False


LOADERS = {"csv": load_csv, "json": load_json, "txt": load_txt}


def quote_name(name):
    return '"' + name.replace('"', '""') + '"'


def load(db, path, fmt):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        raise dataset_invalid("the dataset file cannot be read") from None
    text = decode(data)
    del data  # the text is all that is kept while loading
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark (spreadsheet exports) is not part of the first name
    if fmt != "txt":
        text = text.rstrip("\r\n")  # blank lines at the end (an editor's, a spreadsheet's) end nothing: no record
    names, types, rows, empty_is_null = LOADERS[fmt](text)
    schema = [{"name": n, "type": t} for n, t in zip(names, types)]
    if len(encode(schema).encode("utf-8")) > MAX_NAMES_JSON_BYTES:
        raise dataset_invalid(f"the column names come to over {MAX_NAMES_JSON_BYTES} bytes of schema: every answer carries them")
    columns = ", ".join(f"{quote_name(n)} {t}" for n, t in zip(names, types))
    marks = ", ".join(["NULLIF(?, '')" if empty_is_null else "?"] * len(names))
    try:
        db.execute(f"CREATE TABLE dataset ({columns})")
        db.executemany(f"INSERT INTO dataset VALUES ({marks})", rows)
    except (sqlite3.Error, OverflowError):
        # SQLite's message may quote a name or value from the dataset: say only what kind of failure.
        raise dataset_invalid("the dataset does not fit a SQLite table (too many columns, or a value too large)") from None
    return schema


# ---------------------------------------------------------------- the read-only lock

# Functions a query may call: SQLite's core scalar, aggregate, window, date, math and JSON
# functions. Anything else (a name this list does not know) is refused: fail closed.
ALLOWED_FUNCTIONS = frozenset("""
abs changes char coalesce concat concat_ws format glob hex ifnull iif instr last_insert_rowid length like
likelihood likely lower ltrim max min nullif octet_length printf quote random randomblob replace round rtrim sign
soundex sqlite_source_id sqlite_version substr substring total_changes trim typeof unhex unicode unlikely upper
zeroblob
avg count group_concat string_agg sum total
row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
date time datetime julianday unixepoch strftime current_date current_time current_timestamp timediff
acos acosh asin asinh atan atan2 atanh ceil ceiling cos cosh degrees exp floor ln log log10 log2 mod pi pow power
radians sin sinh sqrt tan tanh trunc
json json_array json_array_length json_extract json_insert json_object json_patch json_remove json_replace json_set
json_type json_valid json_quote json_group_array json_group_object json_each json_tree -> ->>
""".split())
# SQLite shell's file functions: not in the library, so registered as stubs (lock()) for the authorizer
# to refuse them by name rather than "no such function", whatever the build. load_extension and
# fts3_tokenizer (a pointer-taking door into the engine) are refused by not being on the list above.
SHELL_FILE_FUNCTIONS = ("readfile", "writefile", "edit")
# Tables a query may read: the dataset, SQLite's schema, and the JSON table functions.
READABLE_TABLES = frozenset(("dataset", "sqlite_schema", "sqlite_master", "json_each", "json_tree"))
# A query's first word: these read; those write or change the connection (refused); anything else is not a query.
READING_STATEMENTS = frozenset(("SELECT", "WITH", "VALUES"))
WRITING_STATEMENTS = frozenset(
    "INSERT UPDATE DELETE REPLACE UPSERT CREATE DROP ALTER ATTACH DETACH PRAGMA VACUUM REINDEX ANALYZE "
    "BEGIN COMMIT END ROLLBACK SAVEPOINT RELEASE".split()
)
LEADING_WORD_RE = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))*([A-Za-z]*)", re.DOTALL)


class Authorizer:
    """SQLite's authorizer callback: allows reading the dataset, denies everything else."""

    def __init__(self):
        self.refused = None  # what was denied, for the error's message

    def __call__(self, action, arg1, arg2, db_name, source):
        if action == sqlite3.SQLITE_SELECT or action == sqlite3.SQLITE_RECURSIVE:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and (arg1 or "").lower() in READABLE_TABLES and db_name == "main":
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and db_name is None:  # a WITH RECURSIVE table reading its own rows
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in ALLOWED_FUNCTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            self.refused = f"the function {arg2}()"
        elif action == sqlite3.SQLITE_READ:
            self.refused = f"reading {arg1}"
        else:
            self.refused = f"a statement that is not a read (authorizer action {action})"
        return sqlite3.SQLITE_DENY


def refused_function(*args):
    raise sqlite3.OperationalError("refused")  # never called: the authorizer denies it first


def lock(db):
    """After loading: only reading from here on, and no way out of memory."""
    # The JSON table functions are virtual tables SQLite adds to the schema on first use:
    # add them now, so a query's use of them is a plain read, not a schema write.
    db.execute("SELECT * FROM json_each('[]'), json_tree('[]')").fetchall()
    db.execute("PRAGMA query_only = ON")
    for name in SHELL_FILE_FUNCTIONS:
        db.create_function(name, -1, refused_function)
    for limit, value in (
        (sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_QUERY_BYTES),
        (sqlite3.SQLITE_LIMIT_ATTACHED, 0),
        (sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 100),
        (sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, 100),
        (sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_CHARS),
    ):
        db.setlimit(limit, value)
    authorizer = Authorizer()
    db.set_authorizer(authorizer)
    return authorizer


def check_statement(query):
    match = LEADING_WORD_RE.match(query)
    if match.end() == len(query.rstrip(";")) and not match.group(1):
        raise SqlError("SQL_QUERY_INVALID", "the query is empty")
    word = match.group(1).upper()
    if word in WRITING_STATEMENTS:
        raise SqlError("SQL_QUERY_REFUSED", f"{word} is refused: the sql tool only reads")
    if word not in READING_STATEMENTS:
        raise SqlError("SQL_QUERY_INVALID", "the query is not a SELECT, WITH or VALUES statement")


# ---------------------------------------------------------------- running

def json_cell(value):
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def encode(value):
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def run(db, authorizer, query, caps):
    seconds = caps.get("max_ms", caps["--max-seconds"] * 1000) / 1000
    deadline = time.monotonic() + seconds
    timed_out = []

    def over_time():
        if time.monotonic() > deadline:
            timed_out.append(True)
            return 1  # non-zero interrupts the statement
        return 0

    db.set_progress_handler(over_time, 10000)
    authorizer.refused = None  # a refusal is this query's: the engine serves many (--serve)
    rows, size, truncated = [], 2, False  # size: the JSON of the rows array, "[" and "]" included
    try:
        cursor = db.execute(query)
        columns = [d[0] for d in cursor.description or []]
        if len(encode(columns).encode("utf-8")) > MAX_NAMES_JSON_BYTES:
            raise ValueError(f"the result's column names come to over {MAX_NAMES_JSON_BYTES} bytes")
        for row in cursor:
            if len(rows) == caps["--max-rows"]:
                truncated = True
                break
            cells = [json_cell(v) for v in row]
            cost = len(encode(cells).encode("utf-8")) + (1 if rows else 0)
            if size + cost > caps["--max-bytes"]:
                truncated = True
                break
            rows.append(cells)
            size += cost
    except (sqlite3.Error, ValueError, OverflowError) as e:
        if timed_out:
            raise SqlError("SQL_QUERY_TIMEOUT", f"the query ran longer than {seconds:g} s") from None
        if authorizer.refused:
            raise SqlError(
                "SQL_QUERY_REFUSED", f"{authorizer.refused} is refused: the sql tool only reads the table dataset (every answer carries its schema)"
            ) from None
        raise SqlError("SQL_QUERY_INVALID", str(e)[:500]) from None
    return columns, rows, truncated, size


def parse_args(argv):
    if len(argv) < 2 or argv[1] not in LOADERS or len(argv) % 2 != 0:
        raise SqlError("SQL_USAGE", "usage: ephemera_sql.py [--serve] <dataset-file> <csv|json|txt> [--max-rows N] [--max-bytes N] [--max-seconds N]")
    caps = dict(DEFAULTS)
    for flag, value in zip(argv[2::2], argv[3::2]):
        if flag not in caps or not re.fullmatch(r"[1-9][0-9]{0,9}", value):
            raise SqlError("SQL_USAGE", f"{flag} wants a positive integer (flags: {', '.join(DEFAULTS)})")
        caps[flag] = int(value)
    return argv[0], argv[1], caps


def decode_query(data):
    if len(data) > MAX_QUERY_BYTES:
        raise SqlError("SQL_QUERY_TOO_LARGE", f"the query is over {MAX_QUERY_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SqlError("SQL_QUERY_INVALID", "the query is not UTF-8") from None


class Engine:
    """One dataset, loaded on the first query that passes its first-word check, then locked read-only."""

    def __init__(self, path, fmt):
        self.path, self.fmt = path, fmt
        self.db = self.authorizer = self.schema = self.unloadable = None

    def answer(self, query, caps):
        check_statement(query)  # before loading: a refused query costs nothing
        if self.unloadable:
            raise self.unloadable  # loading fails the same way every time: once is enough
        if self.db is None:
            try:
                self.open()
            except SqlError as e:
                self.unloadable = e
                raise
        columns, rows, truncated, size = run(self.db, self.authorizer, query, caps)
        return {
            "table": "dataset",
            "schema": self.schema,
            "columns": columns,
            "rows": rows,
            "row_count": len(rows),
            "truncated": truncated,
            "bytes": size,
        }

    def open(self):
        db = sqlite3.connect(":memory:", isolation_level=None)  # autocommit: no implicit BEGIN
        if hasattr(db, "enable_load_extension"):  # Debian's build has no extension loading at all; another might
            db.enable_load_extension(False)
        db.text_factory = lambda b: b.decode("utf-8", "replace")  # CAST(x'ff' AS TEXT) is not an error
        db.execute("PRAGMA temp_store = MEMORY")  # sorts and temporary b-trees never spill to a file
        self.schema = load(db, self.path, self.fmt)
        self.authorizer = lock(db)
        self.db = db


def main(argv):
    path, fmt, caps = parse_args(argv)
    query = decode_query(sys.stdin.buffer.read(MAX_QUERY_BYTES + 1))
    return Engine(path, fmt).answer(query, caps)


def serve(argv):
    """--serve: one engine for a run's queries (docs/sql-tool.md §7). Each request is one line of JSON,
    {"query": text, "max_rows": n, "max_bytes": n, "max_ms": n}; each answer one line, as main() writes it
    (max_ms bounds the query's run, at most --max-seconds). The dataset is
    loaded once, on the first query that gets that far; a query's error leaves the engine serving."""
    path, fmt, caps = parse_args(argv)
    no_dump()
    write({"ready": True})  # the supervisor starts no tool before this line: no tool saw this process dumpable
    engine = Engine(path, fmt)
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            query = request["query"]
            limits = dict(caps, **{"--max-rows": request["max_rows"], "--max-bytes": request["max_bytes"], "max_ms": request["max_ms"]})
            if not isinstance(query, str) or any(type(v) is not int or v < 1 for v in limits.values()):
                raise ValueError("a request of the wrong shape")
            limits["max_ms"] = min(limits["max_ms"], caps["--max-seconds"] * 1000)
            write(engine.answer(decode_query(query.encode("utf-8", "surrogatepass")), limits))
        except Exception as e:  # noqa: BLE001  a bad request too: its kind only
            write(failure(e)[0])


def failure(error):
    """An exception as the error answer and exit code: a SqlError says its own words; anything else (out of
    memory, a bug) only its kind, never its message (it may hold dataset content)."""
    if isinstance(error, SqlError):
        return {"error": {"code": error.code, "message": error.message}}, 2
    message = "out of memory" if isinstance(error, MemoryError) else f"internal error ({type(error).__name__})"
    return {"error": {"code": "SQL_RUNNER_FAILED", "message": message}}, 1


def no_dump():
    """Not dumpable: another process of the sandbox (same uid) cannot read or write this one's memory
    (/proc/PID/mem), which holds the dataset and writes the answers the run's events record."""
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE
        raise SystemExit(1)


def write(obj):
    sys.stdout.buffer.write(encode(obj).encode("utf-8") + b"\n")
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    csv.field_size_limit(MAX_VALUE_CHARS)  # the default, 128 Ki characters, would refuse a long text field
    if sys.argv[1:2] == ["--serve"]:
        try:
            serve(sys.argv[2:])
        except SqlError as e:  # usage: the supervisor's bug
            write({"error": {"code": e.code, "message": e.message}})
            sys.exit(2)
        sys.exit(0)
    try:
        write(main(sys.argv[1:]))
        sys.exit(0)
    except Exception as e:  # noqa: BLE001
        answer, status = failure(e)
        write(answer)
        sys.exit(status)
