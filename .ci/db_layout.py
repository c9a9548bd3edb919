#!/usr/bin/env python3
"""Check db/'s layout and install order: `python .ci/db_layout.py [db_dir]` (make lint runs it).

The migration runner installs the repeatable files (db/functions, db/views, db/backfills) in the order of their
`-- depends:` headers (novara/migrate.py) and re-applies a changed file together with the files that depend on it.
That is only right when the headers are complete, which a fresh install proves only by luck of the lexical order.
This script proves it without a database: it parses every file with pglast (PostgreSQL's own parser), collects what
each file defines and what it references (`core.x`, `api.y`, `public.z`, in top-level statements and inside
function bodies) and reports, each as `db/<file>: <problem>`:

1. install order: what a file uses while it is installed (view and materialized-view queries, SQL-language
   function bodies, argument and result types, aggregates, GRANT/COMMENT targets, DO blocks) is defined by a
   versioned migration, earlier in the same file, or by a file it depends on (directly or through other files);
2. late references: a PL/pgSQL body is bound when it runs, so its references need no header, but each one must name
   something a file defines (a removed or misspelt function fails here, not at the first request that calls it);
3. a DO block runs at install time: every file whose functions it reaches (through calls) is installed before it;
4. every `-- depends:` line is used (a header naming what the file does not use re-applies it for nothing);
5. names (db/README.md, "Where a function lives"): functions/api_<name>.sql defines api.<name>;
   functions/core_<stem>.sql defines core functions named <stem> or <stem>_<...> (FAMILIES lists the exceptions);
   functions/public_<name>.sql likewise; views/<name>.sql defines the view public.<name>; backfills/ define nothing;
6. conventions (db/README.md, "Conventions of a function"): each function sets `search_path = pg_catalog` and has a
   COMMENT; a SECURITY DEFINER one is handed to novara_definer and its file carries the [definer] tag.

Exit status 1 when anything is reported.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pglast import ast as a
from pglast import parse_sql
from pglast.enums import ObjectType
from pglast.parser import scan

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from novara.migrate import REPEATABLE_DIRS, MigrationError, discover_repeatable  # noqa: E402

SCHEMAS = ("api", "core", "public")
# Objects that exist without a file defining them: the runner's own table, and what extensions install.
BUILTIN = {"public.schema_migrations", "public.pg_stat_statements", "public.pg_stat_statements_info"}
# Files holding several functions without a shared prefix, and why.
FAMILIES = {
    "functions/core_identity.sql": "the identity functions behind the row-level security policies, kept together",
}
DEFINER_TAG = "[definer]"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Statement:
    """One top-level statement: what it defines, and what it references, by when the reference is resolved."""

    kind: str  # the parse node's name: CreateFunctionStmt, ViewStmt, DoStmt, ...
    defines: list[str] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)  # while the file is installed
    late: set[str] = field(default_factory=set)  # when a PL/pgSQL body runs
    run: set[str] = field(default_factory=set)  # called by a DO block while the file is installed


@dataclass
class SqlFile:
    name: str  # "functions/x.sql"; versioned files: "schema/0001_x.sql"
    path: Path
    depends: tuple[str, ...]
    statements: list[Statement]

    @property
    def defines(self) -> list[str]:
        return [d for s in self.statements for d in s.defines]

    def refs(self, *kinds: str) -> set[str]:
        return {r for s in self.statements for k in kinds for r in getattr(s, k)}


def qualified(parts: Iterable[a.Node | str]) -> str:
    names = [p if isinstance(p, str) else p.sval for p in parts]
    return ".".join(names[-2:])


def references(text: str, body: bool = False) -> Iterator[tuple[str, bool]]:
    """(schema.name, inside a dollar-quoted body) for every `schema.name` in `text`, looking into dollar-quoted
    strings (function bodies, DO blocks, nested EXECUTE texts) but not into comments or ordinary string literals."""
    tokens = [t for t in scan(text) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    for i, tok in enumerate(tokens):
        word = text[tok.start : tok.end + 1]
        if tok.name == "SCONST" and word.startswith("$"):
            tag = word[: word.index("$", 1) + 1]
            yield from references(word[len(tag) : -len(tag)], body=True)
        elif word.lower() in SCHEMAS and i + 2 < len(tokens) and text[tokens[i + 1].start] == ".":
            name = text[tokens[i + 2].start : tokens[i + 2].end + 1]
            if _NAME.fullmatch(name):
                yield f"{word.lower()}.{name.lower()}", body


def option(stmt: a.CreateFunctionStmt, name: str) -> a.Node | None:
    return next((o.arg for o in stmt.options or () if o.defname == name), None)


def defined_by(stmt: a.Node) -> list[str]:
    if isinstance(stmt, a.CreateFunctionStmt):
        return [qualified(stmt.funcname)]
    if isinstance(stmt, a.DefineStmt) and stmt.kind == ObjectType.OBJECT_AGGREGATE:
        return [qualified(stmt.defnames)]
    rel = (
        stmt.view
        if isinstance(stmt, a.ViewStmt)
        else stmt.into.rel
        if isinstance(stmt, a.CreateTableAsStmt)
        else stmt.relation
        if isinstance(stmt, a.CreateStmt)
        else stmt.typevar
        if isinstance(stmt, a.CompositeTypeStmt)
        else None
    )
    if rel is not None:
        return [f"{rel.schemaname or 'public'}.{rel.relname}"]
    if isinstance(stmt, a.IndexStmt) and stmt.idxname:
        return [f"{stmt.relation.schemaname or 'public'}.{stmt.idxname}"]
    return []


def parse(path: Path, name: str, depends: tuple[str, ...] = ()) -> SqlFile:
    text = path.read_text(encoding="utf-8")
    out = SqlFile(name, path, depends, [])
    for raw in parse_sql(text):
        stmt = raw.stmt
        end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(text)
        st = Statement(type(stmt).__name__, defined_by(stmt))
        out.statements.append(st)
        if isinstance(stmt, a.DropStmt):
            continue  # dropping needs nothing (a DROP … IF EXISTS of what the file creates next)
        body_kind = "bound"
        if isinstance(stmt, a.CreateFunctionStmt):
            language = option(stmt, "language")
            body_kind = "late" if language is not None and language.sval == "plpgsql" else "bound"
        elif isinstance(stmt, a.DoStmt):
            body_kind = "run"
        for ref, in_body in references(text[raw.stmt_location : end]):
            getattr(st, body_kind if in_body else "bound").add(ref)
    return out


def load(db_dir: Path) -> tuple[list[SqlFile], list[SqlFile]]:
    """(versioned files, repeatable files in install order). Raises MigrationError as the runner would."""
    versioned = [parse(p, f"schema/{p.name}") for p in sorted((db_dir / "schema").glob("*.sql"))]
    return versioned, [parse(m.path, m.name, m.depends) for m in discover_repeatable(db_dir)]


def closure(start: Iterable[str], edges: dict[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(edges.get(n, ()))
    return seen


def check_names(f: SqlFile) -> Iterator[str]:
    folder, stem = f.name.split("/")[0], Path(f.name).stem
    functions = [d for s in f.statements if s.kind in ("CreateFunctionStmt", "DefineStmt") for d in s.defines]
    views = [d for s in f.statements if s.kind in ("ViewStmt", "CreateTableAsStmt") for d in s.defines]
    if folder == "backfills":
        if f.defines:
            yield f"a backfill defines nothing, but this file defines {', '.join(f.defines)}"
    elif folder == "views":
        if views != [f"public.{stem}"] or functions:
            yield f"defines {', '.join(views + functions) or 'no view'}: views/{stem}.sql defines public.{stem}"
    else:
        schema, _, rest = stem.partition("_")
        if schema not in SCHEMAS or not rest:
            yield f"a function file is named <schema>_<function>.sql, schema one of {', '.join(SCHEMAS)}"
        elif not functions:
            yield "defines no function"
        elif f.name not in FAMILIES:
            for d in functions:
                s, _, n = d.partition(".")
                if s != schema or not (n == rest or (schema != "api" and n.startswith(rest + "_"))):
                    allowed = f"{schema}.{rest}" + ("" if schema == "api" else f" or {schema}.{rest}_…")
                    yield f"defines {d}: {f.name} defines {allowed} (db/README.md, 'Where a function lives')"


def check_conventions(f: SqlFile) -> Iterator[str]:
    text = f.path.read_text(encoding="utf-8")
    commented: set[str] = set()
    owned: set[str] = set()
    functions: list[tuple[str, a.CreateFunctionStmt]] = []
    for raw in parse_sql(text):
        stmt = raw.stmt
        target = getattr(stmt, "object", None)
        if isinstance(stmt, a.CreateFunctionStmt):
            functions.append((qualified(stmt.funcname), stmt))
        elif isinstance(stmt, a.CommentStmt) and isinstance(target, a.ObjectWithArgs):
            commented.add(qualified(target.objname))
        elif (
            isinstance(stmt, a.AlterOwnerStmt)
            and isinstance(target, a.ObjectWithArgs)
            and stmt.newowner.rolename == "novara_definer"
        ):
            owned.add(qualified(target.objname))
    for name, stmt in functions:
        setting = option(stmt, "set")
        if not (
            isinstance(setting, a.VariableSetStmt)
            and setting.name == "search_path"
            and [x.val.sval for x in setting.args or ()] == ["pg_catalog"]
        ):
            yield f"{name}: a function sets search_path = pg_catalog"
        if name not in commented:
            yield f"{name}: no COMMENT ON FUNCTION"
        definer = option(stmt, "security")
        if definer is not None and definer.boolval:
            if name not in owned:
                yield f"{name}: a SECURITY DEFINER function is handed to novara_definer (ALTER FUNCTION … OWNER TO)"
            if DEFINER_TAG not in text:
                yield f"{name}: the file of a SECURITY DEFINER function carries the {DEFINER_TAG} tag (db/README.md)"


def check(db_dir: Path) -> list[str]:
    """Every problem of db_dir's repeatable files, as `db/<file>: <problem>` (empty: all good)."""
    try:
        versioned, files = load(db_dir)
    except MigrationError as err:  # what the runner itself refuses: a header naming no file, a cycle
        return [str(err).replace(f"{db_dir}/", "db/")]
    always = {d for v in versioned for d in v.defines} | BUILTIN
    home: dict[str, str] = {}  # object -> the repeatable file that defines it
    out: list[str] = []
    for f in files:
        for d in f.defines:
            if d in home and d not in always:
                out.append(f"db/{f.name}: {d} is also defined by db/{home[d]}")
            home.setdefault(d, f.name)
    edges = {f.name: f.depends for f in files}
    uses = {f.name: {home[r] for r in f.refs("bound", "late", "run") if r in home} - {f.name} for f in files}
    position = {f.name: i for i, f in enumerate(files)}
    for f in files:
        deps = closure(f.depends, edges)
        used: set[str] = set()
        own: set[str] = set()
        for st in f.statements:
            for ref in sorted((st.bound | st.run) - own - always):
                where = home.get(ref)
                if where is None:
                    out.append(f"db/{f.name}: uses {ref}, which no file defines")
                elif where == f.name:
                    if ref not in st.defines:
                        out.append(f"db/{f.name}: uses {ref} before the statement that defines it")
                elif where not in deps:
                    out.append(f"db/{f.name}: uses {ref} (db/{where}) when installed: add `-- depends: {where}`")
                else:
                    used.add(where)
            out.extend(
                f"db/{f.name}: calls {ref}, which no file defines"
                for ref in sorted(st.late - own - always)
                if ref not in home
            )
            own.update(st.defines)
        out.extend(
            f"db/{f.name}: `-- depends: {dep}` names nothing this file uses when installed"
            for dep in f.depends
            if dep not in used
        )
        if f.refs("run"):
            reached = closure({home[r] for r in f.refs("run") if r in home}, uses) - {f.name}
            out.extend(
                f"db/{f.name}: its DO block reaches db/{other}, which is installed after it"
                for other in sorted(reached, key=position.__getitem__)
                if position[other] > position[f.name]
            )
        out.extend(f"db/{f.name}: {p}" for p in [*check_names(f), *check_conventions(f)])
    return out


def main(argv: list[str]) -> int:
    db_dir = Path(argv[1]).resolve() if len(argv) > 1 else ROOT / "db"
    problems = check(db_dir)
    for p in problems:
        print(p)
    folders = ", ".join(f"db/{d}" for d in REPEATABLE_DIRS)
    if problems:
        print(f"db_layout: {len(problems)} problem(s) in {folders}", flush=True)
        return 1
    print(f"db_layout: {folders}: names, install order and conventions ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
