"""SOQL for the local org: parse the subset the portal sends and answer it from SQLite.

A query becomes one parameterised SQLite statement, with a LEFT JOIN per parent
relationship it names, plus one statement per child subquery that fetches the
children of every parent row at once. Records come back shaped exactly as
Salesforce's REST query endpoint shapes them.

Salesforce semantics kept here: text compares without regard to case, `!=` and
`NOT IN` also match records whose field is null, `''` means null, Ids match on
their case-sensitive first 15 characters, date literals such as `TODAY` are
UTC ranges, and parentheses are required when AND and OR are mixed.

A semi-join (`Id IN (SELECT ...)`) or anti-join (`NOT IN`) becomes a sub-select in the
same statement, under the restrictions Salesforce documents: an Id or reference field
of the queried object on the left, one Id or reference field pointing at the same
object selected on the right, no ORDER BY, LIMIT or nesting in the sub-select, at most
two per query, and only at the top of a WHERE clause, never under NOT or OR.

An aggregate query (GROUP BY, or a function in the SELECT list) is one statement too, and
answers rows whose attributes are `{"type": "AggregateResult"}`:

- COUNT(field), COUNT_DISTINCT, SUM, AVG, MIN and MAX ignore nulls. COUNT answers an int,
  SUM and AVG a float (null over no values), MIN and MAX a value of the field's own type.
  Without GROUP BY there is one row; `SELECT COUNT() ...` alone still answers only a total.
- A function without an alias is named `expr0`, `expr1`, ... in the order it comes. A
  grouped field is named by its field name, even through a parent: `Partner_Account__r.Name`
  answers `Name`. Two grouped fields of one name (`Name`, `Owner.Name`) share that key, and
  the later one's value is kept, as a JSON parser keeps it; alias one of them to see both.
- Date functions (CALENDAR_YEAR, WEEK_IN_YEAR, DAY_ONLY, ...) work in SELECT, WHERE, GROUP
  BY, HAVING and ORDER BY. Salesforce applies them to dateTimes in UTC unless wrapped in
  convertTimezone(), which converts to the user's time zone; the integration user's zone is
  UTC here, so convertTimezone() is accepted and changes nothing.
- Salesforce's restrictions are kept: every selected, HAVING or ORDER BY field must be
  grouped or aggregated; GROUP BY refuses currency, number, percent, dateTime, long text
  area and auto-number fields; SUM and AVG take numbers only; aliases only in aggregate
  queries; no child subqueries in one, nor COUNT() with GROUP BY.

Differences from Salesforce: MIN and MAX of a picklist compare its values alphabetically
(without regard to case), not in the picklist's order; the fiscal year is the standard one,
starting in January; the results are paged at the batch size like any other query's, rather
than refused past 2,000 rows.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from salesforce.localorg.tables import quote
from salesforce.schema import Field, Schema, SObject


class SoqlError(Exception):
    """A query Salesforce would refuse as malformed."""

    code = "MALFORMED_QUERY"


class InvalidFieldError(SoqlError):
    """The query names a field or relationship the object does not have."""

    code = "INVALID_FIELD"


class InvalidTypeError(SoqlError):
    """The query names an object, or a child relationship, the org does not have."""

    code = "INVALID_TYPE"


@dataclass
class QueryResult:
    total_size: int
    records: list[dict]


def execute(
    conn: sqlite3.Connection,
    schema: Schema,
    soql: str,
    *,
    api_version: str = "62.0",
    now: datetime | None = None,
) -> QueryResult:
    """Run one SOQL query and answer its records in Salesforce's REST shape."""
    query = _Parser(soql).parse()
    sobject = schema.get(query.sobject)
    if sobject is None:
        raise InvalidTypeError(_unknown_object(query.sobject))
    context = _Context(schema, _utc(now).date(), api_version.removeprefix("v"))
    plan = _compile(context, sobject, query)

    if plan.count:
        (total,) = conn.execute(plan.sql, plan.params).fetchone()
        return QueryResult(total, [])

    rows = conn.execute(plan.sql, plan.params).fetchall()
    if plan.aggregate is not None:
        records = [_aggregate_record(plan.aggregate, row) for row in rows]
        return QueryResult(len(records), records)
    parent_ids = [row[0] for row in rows]
    for child in plan.children:
        child.results = _fetch_children(conn, context, child, parent_ids)
    records = [_build(context, plan.shape, row) for row in rows]
    return QueryResult(len(records), records)


# --- Messages, worded as Salesforce words them ------------------------------------------------

_REFERENCE_HINT = "Please reference your WSDL or the describe call for the appropriate names."


def _unknown_object(name: str) -> str:
    return (
        f"sObject type '{name}' is not supported. If you are attempting to use a custom "
        f"object, be sure to append the '__c' after the entity name. {_REFERENCE_HINT}"
    )


def _unknown_field(name: str, entity: str) -> str:
    return (
        f"No such column '{name}' on entity '{entity}'. If you are attempting to use a custom "
        f"field, be sure to append the '__c' after the custom field name. {_REFERENCE_HINT}"
    )


def _unknown_relationship(name: str, where: str) -> str:
    return (
        f"Didn't understand relationship '{name}' in {where}. If you are attempting to use a "
        f"custom relationship, be sure to append the '__r' after the custom relationship "
        f"name. {_REFERENCE_HINT}"
    )


def _wrong_type(field: Field, expected: str) -> SoqlError:
    quoting = (
        "be enclosed in quotes" if expected in ("string", "id") else "not be enclosed in quotes"
    )
    return SoqlError(
        f"value of filter criterion for field '{field.name}' must be of type {expected} "
        f"and should {quoting}"
    )


def _semi_join_error(problem: str) -> SoqlError:
    return SoqlError(f"Semi join sub-selects {problem}")


# --- Tokens -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>[+-]?(?:\d+(?:\.\d+)?|\.\d+))
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),.:])
    """,
    re.VERBOSE,
)
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):?(\d{2}))?"
)
_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


@dataclass(frozen=True)
class _Token:
    kind: str  # name, string, number, date, datetime, op, punct, end
    text: str
    value: object = None


@dataclass(frozen=True)
class _String:
    # None when the literal holds `\%` or `\_`, which only a LIKE pattern may use.
    plain: str | None
    # The same text as an SQLite LIKE pattern with `\` as its escape character.
    pattern: str


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position] == "'":
            body, position = _scan_string(text, position)
            tokens.append(_Token("string", f"'{body}'", _decode_string(body)))
            continue
        match = _TOKEN.match(text, position)
        if match is None:
            raise SoqlError(f"unexpected token: '{text[position]}'")
        position = match.end()
        if match.lastgroup != "space":
            tokens.append(_Token(match.lastgroup, match.group()))
    tokens.append(_Token("end", "<EOF>"))
    return tokens


def _scan_string(text: str, start: int) -> tuple[str, int]:
    position = start + 1
    while position < len(text):
        if text[position] == "\\":
            position += 2
        elif text[position] == "'":
            return text[start + 1 : position], position + 1
        else:
            position += 1
    raise SoqlError(f"unterminated string literal starting at position {start + 1}")


def _decode_string(body: str) -> _String:
    plain: list[str] = []
    pattern: list[str] = []
    like_only = False
    position = 0
    while position < len(body):
        char = body[position]
        position += 1
        if char != "\\":
            plain.append(char)
            pattern.append(char)
            continue
        code = body[position : position + 1]
        position += 1
        if code in ("%", "_"):
            like_only = True
            pattern.append("\\" + code)
            continue
        if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[position : position + 4]):
            char = chr(int(body[position : position + 4], 16))
            position += 4
        elif code in _ESCAPES:
            char = _ESCAPES[code]
        else:
            raise SoqlError(f"Invalid string literal '{body}'. Illegal escape sequence '\\{code}'")
        plain.append(char)
        pattern.append("\\" + char if char in "\\%_" else char)
    return _String(None if like_only else "".join(plain), "".join(pattern))


# --- Syntax tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Path:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class _Literal:
    kind: str  # string, number, boolean, null, date, datetime, date_literal
    value: object
    text: str


@dataclass(frozen=True)
class _Function:
    """An aggregate function, such as `SUM(Deal_Value__c)`, or a date function of a field."""

    name: str  # upper case: COUNT, SUM, CALENDAR_YEAR, ...
    argument: _Path
    text: str  # as written, for messages: `SUM(Deal_Value__c)`

    @property
    def aggregate(self) -> bool:
        return self.name in _AGGREGATES


@dataclass(frozen=True)
class _Aliased:
    """A SELECT item given a name of its own, as in `COUNT(Id) total`."""

    expression: _Path | _Function
    alias: str


@dataclass(frozen=True)
class _Compare:
    operand: _Path | _Function
    op: str  # =, <, <=, >, >=, like, in
    value: _Literal | tuple[_Literal, ...]


@dataclass(frozen=True)
class _SemiJoin:
    path: _Path
    query: _Query
    negated: bool  # NOT IN: an anti-join


@dataclass(frozen=True)
class _Not:
    condition: object


@dataclass(frozen=True)
class _Junction:
    op: str  # AND, OR
    conditions: tuple


@dataclass(frozen=True)
class _Order:
    expression: _Path | _Function
    descending: bool
    nulls_first: bool


@dataclass
class _Query:
    sobject: str
    # _Path, _Function, _Aliased, or _Query (a child subquery, whose sobject is the relationship)
    fields: list
    count: bool = False
    where: object = None
    group_by: list = dataclasses.field(default_factory=list)  # _Path or _Function
    having: object = None
    order: list[_Order] = dataclasses.field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


_DATE_LITERALS = {
    "TODAY",
    "YESTERDAY",
    "TOMORROW",
    "THIS_WEEK",
    "LAST_WEEK",
    "NEXT_WEEK",
    "THIS_MONTH",
    "LAST_MONTH",
    "NEXT_MONTH",
    "THIS_YEAR",
    "LAST_YEAR",
    "NEXT_YEAR",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
}
_DATE_LITERALS_WITH_N = {"LAST_N_DAYS", "NEXT_N_DAYS"}
_AGGREGATES = {"AVG", "COUNT", "COUNT_DISTINCT", "MAX", "MIN", "SUM"}
# Each date function as SQL over a stored date (`YYYY-MM-DD`) or dateTime
# (`YYYY-MM-DDTHH:MM:SS.000+0000`, UTC): both begin with the date.
_DATE_FUNCTIONS = {
    "CALENDAR_YEAR": "CAST(substr({0}, 1, 4) AS INTEGER)",
    "CALENDAR_QUARTER": "((CAST(substr({0}, 6, 2) AS INTEGER) + 2) / 3)",
    "CALENDAR_MONTH": "CAST(substr({0}, 6, 2) AS INTEGER)",
    # The org's fiscal year is the standard one, starting in January.
    "FISCAL_YEAR": "CAST(substr({0}, 1, 4) AS INTEGER)",
    "FISCAL_QUARTER": "((CAST(substr({0}, 6, 2) AS INTEGER) + 2) / 3)",
    "FISCAL_MONTH": "CAST(substr({0}, 6, 2) AS INTEGER)",
    # Week 1 is the 1st to the 7th of the year (or month), whatever day it starts on.
    "WEEK_IN_YEAR": "((CAST(strftime('%j', substr({0}, 1, 10)) AS INTEGER) + 6) / 7)",
    "WEEK_IN_MONTH": "((CAST(substr({0}, 9, 2) AS INTEGER) + 6) / 7)",
    "DAY_IN_YEAR": "CAST(strftime('%j', substr({0}, 1, 10)) AS INTEGER)",
    "DAY_IN_MONTH": "CAST(substr({0}, 9, 2) AS INTEGER)",
    # 1 for Sunday to 7 for Saturday.
    "DAY_IN_WEEK": "(CAST(strftime('%w', substr({0}, 1, 10)) AS INTEGER) + 1)",
    "HOUR_IN_DAY": "CAST(substr({0}, 12, 2) AS INTEGER)",
    "DAY_ONLY": "substr({0}, 1, 10)",
}
_DATETIME_FUNCTIONS = {"DAY_ONLY", "HOUR_IN_DAY"}
# Words that end a SELECT item, so cannot be its alias.
_RESERVED = {
    "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES",
    "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH",
}  # fmt: skip


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.position = 0

    def parse(self) -> _Query:
        query = self.query(nested=False)
        self.expect_end()
        return query

    def query(self, nested: bool) -> _Query:
        self.expect_keyword("SELECT")
        fields, count = self.select_list(nested)
        self.expect_keyword("FROM")
        query = _Query(self.name(), fields, count)
        if self.keyword("WHERE"):
            query.where = self.condition()
        if self.keyword("GROUP"):
            self.expect_keyword("BY")
            query.group_by = [self.expression()]
            while self.punct(","):
                query.group_by.append(self.expression())
            # HAVING belongs to GROUP BY: without it, HAVING is an unexpected token.
            if self.keyword("HAVING"):
                query.having = self.condition()
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            query.order = self.order_list()
        if self.keyword("LIMIT"):
            query.limit = self.integer()
        if self.keyword("OFFSET"):
            query.offset = self.integer()
        return query

    def select_list(self, nested: bool) -> tuple[list, bool]:
        fields: list = []
        count = False
        while True:
            if self.punct("("):
                if nested:
                    raise SoqlError("nested child subqueries are not supported")
                fields.append(self.query(nested=True))
                self.expect_punct(")")
            elif self.peek().text.upper() == "COUNT" and [
                token.text for token in (self.peek(1), self.peek(2))
            ] == ["(", ")"]:
                self.advance()
                self.advance()
                self.advance()
                count = True
            else:
                expression = self.expression()
                alias = self.alias()
                fields.append(expression if alias is None else _Aliased(expression, alias))
            if not self.punct(","):
                break
        if count and (fields or nested):
            raise SoqlError("COUNT() must be the only element in the SELECT list")
        return fields, count

    def condition(self):
        conditions = [self.term()]
        joiner = None
        while self.peek().kind == "name" and self.peek().text.upper() in ("AND", "OR"):
            word = self.peek().text.upper()
            if joiner not in (None, word):
                raise self.unexpected()
            joiner = word
            self.advance()
            conditions.append(self.term())
        return conditions[0] if joiner is None else _Junction(joiner, tuple(conditions))

    def term(self):
        if self.keyword("NOT"):
            return _Not(self.term())
        if self.punct("("):
            condition = self.condition()
            self.expect_punct(")")
            return condition
        return self.comparison()

    def comparison(self):
        operand = self.expression()
        token = self.advance()
        if token.kind == "op":
            value = self.literal()
            if token.text in ("!=", "<>"):
                return _Not(_Compare(operand, "=", value))
            return _Compare(operand, token.text, value)
        word = token.text.upper() if token.kind == "name" else ""
        if word == "LIKE":
            value = self.literal()
            if value.kind != "string":
                raise SoqlError(f"LIKE needs a quoted string, not {value.text}")
            return _Compare(operand, "like", value)
        if word == "IN":
            return self.membership(operand, negated=False)
        if word == "NOT" and self.keyword("IN"):
            return self.membership(operand, negated=True)
        raise self.unexpected(token)

    def membership(self, path: _Path | _Function, negated: bool):
        if self.peek().text == "(" and self.peek(1).text.upper() == "SELECT":
            if isinstance(path, _Function):
                raise _semi_join_error(
                    f"need a field of the queried object on the left of IN, not '{path.text}'"
                )
            self.advance()
            # What a semi-join's sub-select may hold is checked when it is compiled.
            subquery = self.query(nested=False)
            self.expect_punct(")")
            return _SemiJoin(path, subquery, negated)
        compare = _Compare(path, "in", self.literal_list())
        return _Not(compare) if negated else compare

    def literal_list(self) -> tuple[_Literal, ...]:
        self.expect_punct("(")
        values = [self.literal()]
        while self.punct(","):
            values.append(self.literal())
        self.expect_punct(")")
        return tuple(values)

    def literal(self) -> _Literal:
        token = self.advance()
        if token.kind == "string":
            return _Literal("string", token.value, token.text)
        if token.kind == "number":
            number = float(token.text) if "." in token.text else int(token.text)
            return _Literal("number", number, token.text)
        if token.kind == "date":
            return _Literal("date", _parse_date(token.text), token.text)
        if token.kind == "datetime":
            return _Literal("datetime", _parse_datetime(token.text), token.text)
        word = token.text.upper() if token.kind == "name" else ""
        if word in ("TRUE", "FALSE"):
            return _Literal("boolean", word == "TRUE", token.text)
        if word == "NULL":
            return _Literal("null", None, token.text)
        if word in _DATE_LITERALS:
            return _Literal("date_literal", (word, None), token.text)
        if word in _DATE_LITERALS_WITH_N:
            self.expect_punct(":")
            days = self.integer()
            return _Literal("date_literal", (word, days), f"{token.text}:{days}")
        raise self.unexpected(token)

    def order_list(self) -> list[_Order]:
        order = []
        while True:
            expression = self.expression()
            descending = self.keyword("DESC")
            if not descending:
                self.keyword("ASC")
            nulls_first = not descending
            if self.keyword("NULLS"):
                if self.keyword("FIRST"):
                    nulls_first = True
                else:
                    self.expect_keyword("LAST")
                    nulls_first = False
            order.append(_Order(expression, descending, nulls_first))
            if not self.punct(","):
                return order

    def expression(self) -> _Path | _Function:
        """A field path, or a function of one: `SUM(Deal_Value__c)`, `DAY_ONLY(CreatedDate)`."""
        name = self.peek().text.upper() if self.peek().kind == "name" else ""
        if self.peek(1).text != "(" or (name not in _AGGREGATES and name not in _DATE_FUNCTIONS):
            return self.path()
        written = self.advance().text
        self.expect_punct("(")
        if self.peek().text.upper() == "CONVERTTIMEZONE" and self.peek(1).text == "(":
            if name not in _DATE_FUNCTIONS:
                raise SoqlError("convertTimezone() can only be used in a date function")
            # The user's time zone is UTC here, so converting changes nothing.
            converter = self.advance().text
            self.expect_punct("(")
            argument = self.path()
            self.expect_punct(")")
            inner = f"{converter}({'.'.join(argument.parts)})"
        else:
            argument = self.path()
            inner = ".".join(argument.parts)
        self.expect_punct(")")
        return _Function(name, argument, f"{written}({inner})")

    def alias(self) -> str | None:
        token = self.peek()
        if token.kind != "name" or token.text.upper() in _RESERVED:
            return None
        return self.advance().text

    def path(self) -> _Path:
        parts = [self.name()]
        while self.punct("."):
            parts.append(self.name())
        return _Path(tuple(parts))

    def name(self) -> str:
        token = self.advance()
        if token.kind != "name":
            raise self.unexpected(token)
        return token.text

    def integer(self) -> int:
        token = self.advance()
        if token.kind != "number" or not token.text.isdigit():
            raise self.unexpected(token)
        return int(token.text)

    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.position + offset, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.peek()
        self.position = min(self.position + 1, len(self.tokens) - 1)
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "name" and token.text.upper() == word:
            self.advance()
            return True
        return False

    def punct(self, char: str) -> bool:
        if self.peek().kind == "punct" and self.peek().text == char:
            self.advance()
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.unexpected()

    def expect_punct(self, char: str) -> None:
        if not self.punct(char):
            raise self.unexpected()

    def expect_end(self) -> None:
        if self.peek().kind != "end":
            raise self.unexpected()

    def unexpected(self, token: _Token | None = None) -> SoqlError:
        return SoqlError(f"unexpected token: '{(token or self.peek()).text}'")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SoqlError(f"invalid date: {text}") from None


def _parse_datetime(text: str) -> datetime:
    match = _DATETIME.fullmatch(text)
    if match is None or match.group(8) is None:
        raise SoqlError(f"invalid dateTime: {text}; it needs seconds and a time zone")
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    millis = int((match.group(7) or "0")[:3].ljust(3, "0"))
    offset = timedelta(0)
    if match.group(9):
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        offset = -offset if match.group(9) == "-" else offset
    try:
        moment = datetime(year, month, day, hour, minute, second, millis * 1000, timezone(offset))
    except ValueError:
        raise SoqlError(f"invalid dateTime: {text}") from None
    return moment.astimezone(UTC)


# --- Values -----------------------------------------------------------------------------------

_TEXT_TYPES = {"string", "textarea", "email", "url", "phone", "picklist", "multipicklist"}
_ID_TYPES = {"id", "reference"}
_NUMBER_TYPES = {"currency", "double", "percent", "int"}
_DATE_TYPES = {"date", "datetime"}
# What COUNT, COUNT_DISTINCT, MIN and MAX take; SUM and AVG take numbers only. Salesforce
# refuses checkboxes, base64, multi-select picklists and long text areas.
_AGGREGATABLE_TYPES = (_TEXT_TYPES - {"multipicklist"}) | _ID_TYPES | _NUMBER_TYPES | _DATE_TYPES
# What GROUP BY takes: not currency, double, percent or dateTime fields (a date function of
# a dateTime groups it), nor multi-select picklists, long text areas or auto-numbers.
_GROUPABLE_TYPES = (_TEXT_TYPES - {"multipicklist"}) | _ID_TYPES | {"boolean", "date", "int"}
# Long text areas cannot be filtered in Salesforce; short ones (255 or less) can.
_FILTERABLE_TEXT_LENGTH = 255
_MAX_SEMI_JOINS = 2
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
# Above every character an Id may hold: `prefix <= id < prefix + _AFTER_ID_CHARS` is a prefix match.
_AFTER_ID_CHARS = "\x7f"


@dataclass(frozen=True)
class _Range:
    """Values from `low` (inclusive) to `high` (exclusive), as stored strings."""

    low: str
    high: str


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def _stored_datetime(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _start_of_day(day: date) -> str:
    return f"{day.isoformat()}T00:00:00.000+0000"


def _add_months(first: date, months: int) -> date:
    years, month = divmod(first.month - 1 + months, 12)
    return date(first.year + years, month + 1, 1)


def _date_literal_range(name: str, days: int | None, today: date) -> tuple[date, date]:
    """The days a date literal covers, from the first (inclusive) to the last (exclusive)."""
    one_day = timedelta(days=1)
    # Weeks start on Sunday, as in the en_US locale.
    week = today - timedelta(days=(today.weekday() + 1) % 7)
    month = today.replace(day=1)
    year = today.replace(month=1, day=1)
    ranges = {
        "TODAY": (today, today + one_day),
        "YESTERDAY": (today - one_day, today),
        "TOMORROW": (today + one_day, today + 2 * one_day),
        "LAST_N_DAYS": (today - (days or 0) * one_day, today + one_day),
        "NEXT_N_DAYS": (today + one_day, today + ((days or 0) + 1) * one_day),
        "LAST_90_DAYS": (today - 90 * one_day, today + one_day),
        "NEXT_90_DAYS": (today + one_day, today + 91 * one_day),
        "THIS_WEEK": (week, week + 7 * one_day),
        "LAST_WEEK": (week - 7 * one_day, week),
        "NEXT_WEEK": (week + 7 * one_day, week + 14 * one_day),
        "THIS_MONTH": (month, _add_months(month, 1)),
        "LAST_MONTH": (_add_months(month, -1), month),
        "NEXT_MONTH": (_add_months(month, 1), _add_months(month, 2)),
        "THIS_YEAR": (year, year.replace(year=year.year + 1)),
        "LAST_YEAR": (year.replace(year=year.year - 1), year),
        "NEXT_YEAR": (year.replace(year=year.year + 1), year.replace(year=year.year + 2)),
    }
    return ranges[name]


def _operand(field: Field, literal: _Literal, today: date):
    """The stored value (or `_Range`) a literal stands for; None for null."""
    if literal.kind == "null":
        return None
    kind = field.type
    if kind in _TEXT_TYPES or kind in _ID_TYPES:
        expected = "string" if kind in _TEXT_TYPES else "id"
        if literal.kind != "string":
            raise _wrong_type(field, expected)
        text = literal.value.plain
        if text is None:
            raise SoqlError(
                f"Invalid string literal {literal.text}: \\% and \\_ are only allowed in LIKE"
            )
        if text == "":
            return None
        if kind in _TEXT_TYPES:
            return text
        if not _ID.fullmatch(text):
            raise SoqlError(f"invalid ID field: {text}")
        return _Range(text[:15], text[:15] + _AFTER_ID_CHARS)
    if kind in _NUMBER_TYPES:
        if literal.kind != "number":
            raise _wrong_type(field, "int" if kind == "int" else "double")
        return literal.value
    if kind == "boolean":
        if literal.kind != "boolean":
            raise _wrong_type(field, "boolean")
        return int(literal.value)
    if kind in ("date", "datetime"):
        return _date_operand(field, literal, today)
    raise SoqlError(f"field '{field.name}' can not be filtered in a query call")


def _date_operand(field: Field, literal: _Literal, today: date):
    if literal.kind == "date_literal":
        first, last = _date_literal_range(*literal.value, today)
        if field.type == "date":
            return _Range(first.isoformat(), last.isoformat())
        return _Range(_start_of_day(first), _start_of_day(last))
    if field.type == "date" and literal.kind == "date":
        return literal.value.isoformat()
    if field.type == "datetime" and literal.kind == "datetime":
        return _stored_datetime(literal.value)
    raise _wrong_type(field, "date" if field.type == "date" else "dateTime")


def _record_value(context: _Context, value, field: Field, sobject: SObject, record_id: str):
    if value is not None and field.type == "base64":
        # Query answers point at the blob rather than carry it.
        return f"{context.record_url(sobject.name, record_id)}/{field.name}"
    return _typed(value, field)


def _typed(value, field: Field):
    """A stored value as JSON answers it: checkboxes as booleans, numbers by their type."""
    if value is None:
        return None
    if field.type == "boolean":
        return bool(value)
    if field.type in ("currency", "double", "percent"):
        return float(value)
    if field.type == "int":
        return int(value)
    return value


# --- Compiling to SQLite ----------------------------------------------------------------------


@dataclass
class _Context:
    schema: Schema
    today: date
    api_version: str
    semi_joins: int = 0  # how many the query holds so far, in all its WHERE clauses

    def record_url(self, object_name: str, record_id: str) -> str:
        return f"/services/data/v{self.api_version}/sobjects/{object_name}/{record_id}"


@dataclass(eq=False)
class _Node:
    """One object in the statement: the queried one, or a parent reached through a path.

    A polymorphic parent (Owner: a User or a Group) has one joined table per possible type.
    """

    targets: list[tuple[SObject, str]]  # (object, SQL alias)
    id_columns: list[int] | None = None  # result columns holding each target's Id

    @property
    def entity(self) -> str:
        return self.targets[0][0].name if len(self.targets) == 1 else "Name"


@dataclass(frozen=True)
class _Column:
    sql: str
    field: Field
    names: tuple[str, ...]  # canonical relationship names, then the field name
    nodes: tuple[_Node, ...]  # the parent reached by each relationship name


@dataclass(frozen=True)
class _Value:
    index: int
    field: Field


@dataclass(eq=False)
class _Shape:
    """How to build one record (or nested parent record) out of a result row."""

    node: _Node
    entries: dict = dataclasses.field(default_factory=dict)  # name -> _Value | _Shape | _Plan


@dataclass(eq=False)
class _Plan:
    sql: str
    params: list
    shape: _Shape
    children: list[_Plan]
    count: bool = False
    # For an aggregate query: each result row's (key, column index, result type).
    aggregate: list[tuple[str, int, Field]] | None = None
    # For a child subquery: its relationship name and the paging applied per parent.
    relationship: str = ""
    limit: int | None = None
    offset: int | None = None
    results: dict = dataclasses.field(default_factory=dict)


class _Scope:
    """The tables one SQLite statement reads and the columns it returns."""

    def __init__(self, context: _Context, sobject: SObject, prefix: str = "t"):
        self.context = context
        # A semi-join's sub-select names its tables apart from the statement around it.
        self.prefix = prefix
        self.root = _Node([(sobject, f"{prefix}0")])
        self.nodes: dict[tuple[str, ...], _Node] = {(): self.root}
        self.joins: list[str] = []
        self.columns: list[str] = []

    def column(self, sql: str) -> int:
        self.columns.append(sql)
        return len(self.columns) - 1

    def resolve(self, path: _Path) -> _Column:
        node, key, names, nodes = self.root, (), [], []
        for name in path.parts[:-1]:
            if len(node.targets) > 1:
                raise InvalidFieldError(_unknown_relationship(name, "field path"))
            reference = node.targets[0][0].relationship(name)
            if reference is None:
                raise InvalidFieldError(_unknown_relationship(name, "field path"))
            key += (reference.relationship_name,)
            node = self.nodes.get(key) or self._join(node, reference, key)
            names.append(reference.relationship_name)
            nodes.append(node)

        name = path.parts[-1]
        found = [(alias, sobject.field(name)) for sobject, alias in node.targets]
        found = [(alias, item) for alias, item in found if item is not None]
        if not found:
            raise InvalidFieldError(_unknown_field(name, node.entity))
        target_field = found[0][1]
        if len(node.targets) == 1:
            sql = f"{found[0][0]}.{quote(target_field.name)}"
        else:
            cases = " ".join(
                f'WHEN {alias}."Id" IS NOT NULL THEN {alias}.{quote(item.name)}'
                for alias, item in found
            )
            sql = f"(CASE {cases} END)"
            if target_field.type in _TEXT_TYPES:
                sql += " COLLATE NOCASE"
        return _Column(sql, target_field, (*names, target_field.name), tuple(nodes))

    def expression(self, expression: _Path | _Function) -> _Column:
        if isinstance(expression, _Path):
            return self.resolve(expression)
        return self.function(expression)

    def function(self, function: _Function) -> _Column:
        """A function of a field, as a column whose field describes the function's result."""
        column = self.resolve(function.argument)
        target, sql, name = column.field, column.sql, function.name
        if name in _DATE_FUNCTIONS:
            if target.type not in _DATE_TYPES or (
                name in _DATETIME_FUNCTIONS and target.type != "datetime"
            ):
                kind = "dateTime" if name in _DATETIME_FUNCTIONS else "date or dateTime"
                raise SoqlError(
                    f"{name}() can only be used with a {kind} field, not the "
                    f"{target.type} field '{target.name}'"
                )
            sql = _DATE_FUNCTIONS[name].format(sql)
            result = Field(function.text, "date" if name == "DAY_ONLY" else "int")
            return _Column(sql, result, (function.text,), ())

        allowed = _NUMBER_TYPES if name in ("SUM", "AVG") else _AGGREGATABLE_TYPES
        if target.type not in allowed or _long_text(target):
            raise SoqlError(f"field {target.name} does not support aggregate operator {name}")
        if name in ("COUNT", "COUNT_DISTINCT"):
            distinct = "DISTINCT " if name == "COUNT_DISTINCT" else ""
            sql, result = f"COUNT({distinct}{sql})", Field(function.text, "int")
        elif name in ("SUM", "AVG"):
            sql, result = f"{name}({sql})", Field(function.text, "double")
        else:
            # MIN and MAX answer a value of the field's own type.
            sql, result = f"{name}({sql})", dataclasses.replace(target, name=function.text)
            if target.type in _TEXT_TYPES:
                # So that HAVING compares the result without regard to case, as the field does.
                sql += " COLLATE NOCASE"
        return _Column(sql, result, (function.text,), ())

    def group_key(self, expression: _Path | _Function) -> _Column:
        """A GROUP BY item, refused where Salesforce refuses to group by it."""
        if isinstance(expression, _Function) and expression.aggregate:
            raise SoqlError(f"Aggregate functions can not be grouped: {expression.text}")
        column = self.expression(expression)
        if isinstance(expression, _Path):
            target = column.field
            owner = (column.nodes[-1] if column.nodes else self.root).targets[0][0]
            auto_number = owner.auto_number is not None and target.name == "Name"
            if target.type not in _GROUPABLE_TYPES or _long_text(target) or auto_number:
                raise SoqlError(f"field '{target.name}' can not be grouped in a query call")
        return column

    def _join(self, parent: _Node, reference: Field, key: tuple[str, ...]) -> _Node:
        parent_alias = parent.targets[0][1]
        targets = []
        for object_name in reference.reference_to:
            sobject = self.context.schema.objects.get(object_name)
            if sobject is None:
                continue
            alias = f"{self.prefix}{len(self.joins) + 1}"
            self.joins.append(
                f"LEFT JOIN {quote(sobject.name)} AS {alias} "
                f'ON {alias}."Id" = {parent_alias}.{quote(reference.name)} '
                f'AND {alias}."IsDeleted" IS NOT 1'
            )
            targets.append((sobject, alias))
        if not targets:
            raise InvalidFieldError(
                _unknown_relationship(reference.relationship_name, "field path")
            )
        node = _Node(targets)
        self.nodes[key] = node
        return node

    def select_ids(self, node: _Node) -> None:
        if node.id_columns is None:
            node.id_columns = [self.column(f'{alias}."Id"') for _, alias in node.targets]

    def select(self, shape: _Shape, path: _Path) -> None:
        column = self.resolve(path)
        for name, node in zip(column.names[:-1], column.nodes, strict=True):
            nested = shape.entries.get(name)
            if not isinstance(nested, _Shape):
                self.select_ids(node)
                nested = shape.entries[name] = _Shape(node)
            shape = nested
        leaf = column.names[-1]
        if leaf in shape.entries:
            raise SoqlError(f"duplicate field selected: {'.'.join(column.names)}")
        shape.entries[leaf] = _Value(self.column(column.sql), column.field)

    def condition(self, condition, negate: bool = False) -> tuple[str, list]:
        """SQL for a condition (or its negation) that is never NULL where it matters.

        NOT is pushed down to the comparisons, so that each comparison can say
        itself how a null field answers, as Salesforce does: a comparison with a
        null field is false, and its negation true.
        """
        if isinstance(condition, _Not):
            return self.condition(condition.condition, not negate)
        if isinstance(condition, _SemiJoin):
            column, select, params = self.semi_join(condition)
            if condition.negated == negate:
                return f"{column} IN ({select})", params
            # As with NOT IN and a list, records whose field is null are not in the list.
            return f"({column} IS NULL OR {column} NOT IN ({select}))", params
        if isinstance(condition, _Junction):
            joiner = condition.op
            if negate:
                joiner = "OR" if joiner == "AND" else "AND"
            parts = [self.condition(item, negate) for item in condition.conditions]
            sql = f" {joiner} ".join(part for part, _ in parts)
            return f"({sql})", [param for _, params in parts for param in params]
        sql, params, null_matches = self.comparison(condition)
        if not negate:
            return sql, params
        if null_matches:
            return f"NOT ({sql})", params
        return f"({self.expression(condition.operand).sql} IS NULL OR NOT ({sql}))", params

    def comparison(self, compare: _Compare) -> tuple[str, list, bool]:
        """Positive SQL for a comparison, its parameters, and whether a null field matches."""
        column = self.expression(compare.operand)
        target, sql = column.field, column.sql
        if target.type == "base64" or _long_text(target):
            raise SoqlError(f"field '{target.name}' can not be filtered in a query call")
        if compare.op == "like":
            if target.type not in _TEXT_TYPES:
                raise SoqlError(f"invalid operator on {target.type} field '{target.name}': LIKE")
            return f"{sql} LIKE ? ESCAPE '\\'", [compare.value.value.pattern], False
        if compare.op == "in":
            return self.membership(column, compare.value)

        value = _operand(target, compare.value, self.context.today)
        if compare.op == "=":
            equal, params = self.equality(sql, value)
            return equal, params, value is None
        if value is None:
            raise SoqlError(f"invalid operator with null: {'.'.join(column.names)} {compare.op}")
        if target.type == "boolean":
            raise SoqlError(f"invalid operator on boolean field '{target.name}': {compare.op}")
        if isinstance(value, _Range):
            # Below a range is before its first instant; above it is from its end on.
            operator, bound = {
                "<": ("<", value.low),
                "<=": ("<", value.high),
                ">": (">=", value.high),
                ">=": (">=", value.low),
            }[compare.op]
            return f"{sql} {operator} ?", [bound], False
        return f"{sql} {compare.op} ?", [value], False

    def equality(self, sql: str, value) -> tuple[str, list]:
        if value is None:
            return f"{sql} IS NULL", []
        if isinstance(value, _Range):
            return f"({sql} >= ? AND {sql} < ?)", [value.low, value.high]
        return f"{sql} = ?", [value]

    def membership(self, column: _Column, literals) -> tuple[str, list, bool]:
        values = [_operand(column.field, literal, self.context.today) for literal in literals]
        scalars = [value for value in values if value is not None and not isinstance(value, _Range)]
        parts: list[tuple[str, list]] = []
        if scalars:
            marks = ", ".join("?" * len(scalars))
            parts.append((f"{column.sql} IN ({marks})", scalars))
        parts += [self.equality(column.sql, value) for value in values if isinstance(value, _Range)]
        has_null = None in values
        if has_null:
            parts.append(self.equality(column.sql, None))
        sql = " OR ".join(part for part, _ in parts)
        return f"({sql})", [param for _, params in parts for param in params], has_null

    def semi_join(self, semi: _SemiJoin) -> tuple[str, str, list]:
        """The left operand's SQL, the sub-select it must be in, and the sub-select's values.

        The sub-select leaves out deleted records and null values, so that NOT IN
        answers true or false, never null.
        """
        outer_object = self.root.targets[0][0]
        if len(semi.path.parts) > 1:
            raise _semi_join_error(
                "need a field of the queried object on the left of IN, not the "
                f"relationship path '{'.'.join(semi.path.parts)}'"
            )
        outer = self.resolve(semi.path)
        if outer.field.type not in _ID_TYPES:
            raise SoqlError(
                f"The left operand field in the where expression in the outer query "
                f"'{outer.field.name}' must be an id or reference field for a semi join"
            )

        subquery = semi.query
        sobject = self.context.schema.get(subquery.sobject)
        if sobject is None:
            raise InvalidTypeError(_unknown_object(subquery.sobject))
        if subquery.count:
            raise _semi_join_error("do not support COUNT()")
        if _is_aggregate(subquery):
            raise _semi_join_error("do not support aggregate functions or GROUP BY")
        if any(isinstance(item, _Query) for item in subquery.fields):
            raise _semi_join_error("can not contain relationship subqueries")
        if len(subquery.fields) != 1:
            raise _semi_join_error("must select exactly one field")
        for clause, present in (
            ("ORDER BY", subquery.order),
            ("LIMIT", subquery.limit is not None),
            ("OFFSET", subquery.offset is not None),
        ):
            if present:
                raise _semi_join_error(f"do not support {clause}")
        if any(_semi_joins(subquery.where)):
            raise SoqlError("Nesting of semi join sub-selects is not supported")
        if sobject is outer_object:
            raise _semi_join_error(
                f"can not query the object of the outer query, '{sobject.name}'; "
                f"filter it directly instead"
            )

        [path] = subquery.fields
        if isinstance(path, _Aliased):
            raise SoqlError("Only aggregate expressions use field aliasing")
        if len(path.parts) > 1:
            raise _semi_join_error(
                "must select a field of their own object, not the relationship path "
                f"'{'.'.join(path.parts)}'"
            )
        scope = _Scope(self.context, sobject, prefix="s")
        selected = scope.resolve(path)
        if selected.field.type not in _ID_TYPES:
            raise SoqlError(
                f"The selected field '{selected.field.name}' in the subquery must be an id "
                f"or reference field"
            )
        if not _points_to(outer.field, outer_object) & _points_to(selected.field, sobject):
            raise SoqlError(
                f"The selected field '{selected.field.name}' in the subquery and the left "
                f"operand field in the where expression in the outer query "
                f"'{outer.field.name}' should point to the same object type"
            )

        alias = scope.root.targets[0][1]
        where, params = [f'{alias}."IsDeleted" IS NOT 1', f"{selected.sql} IS NOT NULL"], []
        if subquery.where is not None:
            _refuse_aggregates(subquery.where)
            sql, params = scope.condition(subquery.where)
            where.append(sql)
        select = f"SELECT {selected.sql} {scope.from_clause()} WHERE {' AND '.join(where)}"
        return outer.sql, select, params

    def order_by(self, order: list[_Order], ties: list[str]) -> list[str]:
        """ORDER BY terms: the query's own, then `ties` to put rows that sort equal in order."""
        terms = []
        for item in order:
            sql = self.expression(item.expression).sql
            terms.append(f"{sql} IS NULL {'DESC' if item.nulls_first else 'ASC'}")
            terms.append(f"{sql} {'DESC' if item.descending else 'ASC'}")
        return [*terms, *ties]

    def from_clause(self) -> str:
        sobject, alias = self.root.targets[0]
        return " ".join([f"FROM {quote(sobject.name)} AS {alias}", *self.joins])


def _long_text(field: Field) -> bool:
    return field.type == "textarea" and (field.length or 0) > _FILTERABLE_TEXT_LENGTH


def _points_to(field: Field, sobject: SObject) -> set[str]:
    """The objects an Id field (its own) or a reference field (its targets) can hold Ids of."""
    return {sobject.name} if field.type == "id" else set(field.reference_to)


def _semi_joins(condition, enclosing: tuple = ()):
    """Each semi-join in a condition, with the NOTs and junctions around it, outermost first."""
    if isinstance(condition, _SemiJoin):
        yield condition, enclosing
    elif isinstance(condition, _Not):
        yield from _semi_joins(condition.condition, (*enclosing, condition))
    elif isinstance(condition, _Junction):
        for item in condition.conditions:
            yield from _semi_joins(item, (*enclosing, condition))


def _check_semi_joins(context: _Context, where) -> None:
    """Refuse semi-joins where Salesforce refuses them: anywhere but the top of a WHERE.

    At the top means the whole condition, or one of the conditions ANDed there.
    """
    for _, enclosing in _semi_joins(where):
        context.semi_joins += 1
        if context.semi_joins > _MAX_SEMI_JOINS:
            raise SoqlError(f"Maximum {_MAX_SEMI_JOINS} semi join sub-selects are allowed")
        if any(isinstance(item, _Not) for item in enclosing):
            raise _semi_join_error(
                "are not allowed with the 'NOT' operator; write IN or NOT IN instead"
            )
        if not enclosing or (len(enclosing) == 1 and enclosing[0].op == "AND"):
            continue
        if len(enclosing) == 1:
            raise _semi_join_error("are not allowed with the 'OR' operator")
        raise _semi_join_error(
            "are only allowed at the top level WHERE expressions and not in nested WHERE "
            "expressions"
        )


def _compile(
    context: _Context, sobject: SObject, query: _Query, link: Field | None = None
) -> _Plan:
    """Turn a query (or a child subquery linked to its parent by `link`) into a plan."""
    if query.count and query.group_by:
        raise SoqlError("COUNT() can not be used with GROUP BY; use COUNT(fieldName) instead")
    if _is_aggregate(query):
        return _compile_aggregate(context, sobject, query)
    if any(isinstance(item, _Aliased) for item in query.fields):
        raise SoqlError("Only aggregate expressions use field aliasing")
    scope = _Scope(context, sobject)
    scope.root.id_columns = [scope.column('t0."Id"')]
    if link is not None:
        # A child row carries its parent's Id second, to be grouped by parent.
        scope.column(f"t0.{quote(link.name)}")
    shape = _Shape(scope.root)
    children = []
    for item in query.fields:
        if isinstance(item, _Query):
            child = _compile_child(context, sobject, item)
            if child.relationship in shape.entries:
                raise SoqlError(f"duplicate field selected: {child.relationship}")
            shape.entries[child.relationship] = child
            children.append(child)
        else:
            scope.select(shape, item)

    where, params = ['t0."IsDeleted" IS NOT 1'], []
    if link is not None:
        # The parents' Ids come as one JSON array parameter, however many there are.
        where.append(f"t0.{quote(link.name)} IN (SELECT value FROM json_each(?))")
    if query.where is not None:
        _check_semi_joins(context, query.where)
        _refuse_aggregates(query.where)
        sql, params = scope.condition(query.where)
        where.append(sql)
    # Records that sort equal come back in the order they were created.
    order = scope.order_by(query.order, ["t0.rowid"])

    body = f"{scope.from_clause()} WHERE {' AND '.join(where)}"
    if query.count:
        sql = f"SELECT COUNT(*) FROM (SELECT 1 {body} LIMIT ? OFFSET ?)"
        params = [*params, _sql_limit(query.limit), query.offset or 0]
        return _Plan(sql, params, shape, children, count=True)
    sql = f"SELECT {', '.join(scope.columns)} {body} ORDER BY {', '.join(order)}"
    if link is None:
        sql += " LIMIT ? OFFSET ?"
        params = [*params, _sql_limit(query.limit), query.offset or 0]
    return _Plan(sql, params, shape, children, limit=query.limit, offset=query.offset)


def _compile_aggregate(context: _Context, sobject: SObject, query: _Query) -> _Plan:
    """An aggregate query: one row per group, or one row in all without GROUP BY."""
    if any(isinstance(item, _Query) for item in query.fields):
        raise SoqlError("Aggregate queries can not contain child relationship subqueries")
    scope = _Scope(context, sobject)
    groups = [scope.group_key(item).sql for item in query.group_by]

    def check_grouped(expression, message: str) -> _Column:
        column = scope.expression(expression)
        aggregate = isinstance(expression, _Function) and expression.aggregate
        if not aggregate and column.sql not in groups:
            written = (
                expression.text if isinstance(expression, _Function) else ".".join(expression.parts)
            )
            raise SoqlError(f"{message}: {written}")
        return column

    entries: list[tuple[str, int, Field]] = []
    aliases = []  # keys named by the query, or exprN for a function it did not name
    unnamed = 0
    for item in query.fields:
        alias = item.alias if isinstance(item, _Aliased) else None
        expression = item.expression if isinstance(item, _Aliased) else item
        column = check_grouped(expression, "Field must be grouped or aggregated")
        if alias is None and isinstance(expression, _Function):
            # Functions without an alias are named expr0, expr1, ... in the order they come.
            alias = f"expr{unnamed}"
            unnamed += 1
        # A grouped field answers under its own name, even when it is a parent's field.
        key = alias or column.field.name
        if alias is not None:
            aliases.append(key)
        entries.append((key, scope.column(column.sql), column.field))
    keys = [key.lower() for key, _, _ in entries]
    for alias in aliases:
        if keys.count(alias.lower()) > 1:
            raise SoqlError(f"duplicate alias: {alias}")

    where, params = ['t0."IsDeleted" IS NOT 1'], []
    if query.where is not None:
        _check_semi_joins(context, query.where)
        _refuse_aggregates(query.where)
        sql, params = scope.condition(query.where)
        where.append(sql)
    sql = f"SELECT {', '.join(scope.columns)} {scope.from_clause()} WHERE {' AND '.join(where)}"
    if groups:
        sql += f" GROUP BY {', '.join(groups)}"
    if query.having is not None:
        if any(_semi_joins(query.having)):
            raise _semi_join_error("are only allowed in the WHERE clause, not in HAVING")
        for compare in _comparisons(query.having):
            check_grouped(compare.operand, "Field must be grouped or aggregated")
        having, having_params = scope.condition(query.having)
        sql += f" HAVING {having}"
        params = [*params, *having_params]
    for item in query.order:
        check_grouped(item.expression, "Ordered field must be grouped or aggregated")
    # Groups that sort equal come back in the order of their grouped values.
    order = scope.order_by(query.order, groups)
    if order:
        sql += f" ORDER BY {', '.join(order)}"
    sql += " LIMIT ? OFFSET ?"
    params = [*params, _sql_limit(query.limit), query.offset or 0]
    return _Plan(sql, params, _Shape(scope.root), [], aggregate=entries)


def _is_aggregate(query: _Query) -> bool:
    """Whether a query answers AggregateResult rows: it groups, or selects a function."""
    items = [item.expression if isinstance(item, _Aliased) else item for item in query.fields]
    return (
        bool(query.group_by)
        or any(isinstance(item, _Function) for item in items)
        or any(isinstance(item.expression, _Function) and item.expression.aggregate
               for item in query.order)
    )  # fmt: skip


def _comparisons(condition):
    """Each comparison in a condition (not those inside a semi-join's sub-select)."""
    if isinstance(condition, _Compare):
        yield condition
    elif isinstance(condition, _Not):
        yield from _comparisons(condition.condition)
    elif isinstance(condition, _Junction):
        for item in condition.conditions:
            yield from _comparisons(item)


def _refuse_aggregates(where) -> None:
    for compare in _comparisons(where):
        if isinstance(compare.operand, _Function) and compare.operand.aggregate:
            raise SoqlError(
                f"Aggregate functions are not allowed in a WHERE clause; use HAVING: "
                f"{compare.operand.text}"
            )


def _compile_child(context: _Context, parent: SObject, subquery: _Query) -> _Plan:
    relationship = next(
        (name for name in parent.children if name.lower() == subquery.sobject.lower()), None
    )
    if relationship is None:
        raise InvalidTypeError(_unknown_relationship(subquery.sobject, "FROM part of query call"))
    if subquery.count:
        raise SoqlError("COUNT() is not supported in a child subquery")
    if _is_aggregate(subquery):
        raise SoqlError("Aggregate functions and GROUP BY are not supported in a child subquery")
    child_name, link_name = parent.children[relationship]
    child = context.schema.objects[child_name]
    plan = _compile(context, child, subquery, link=child.field(link_name))
    plan.relationship = relationship
    return plan


def _sql_limit(limit: int | None) -> int:
    return -1 if limit is None else limit


# --- Running and shaping ----------------------------------------------------------------------


def _fetch_children(
    conn: sqlite3.Connection, context: _Context, plan: _Plan, parent_ids: list[str]
) -> dict[str, dict]:
    if not parent_ids:
        return {}
    rows_by_parent: dict[str, list] = {}
    for row in conn.execute(plan.sql, [json.dumps(parent_ids), *plan.params]):
        rows_by_parent.setdefault(row[1], []).append(row)

    results = {}
    start = plan.offset or 0
    end = None if plan.limit is None else start + plan.limit
    for parent_id, rows in rows_by_parent.items():
        records = [_build(context, plan.shape, row) for row in rows[start:end]]
        if records:
            results[parent_id] = {"totalSize": len(records), "done": True, "records": records}
    return results


def _aggregate_record(entries: list[tuple[str, int, Field]], row: tuple) -> dict:
    record: dict = {"attributes": {"type": "AggregateResult"}}
    for key, index, result in entries:
        # Two grouped fields of one name (`Name` and `Owner.Name`) share a key, as in
        # Salesforce's answer; here the later one's value is kept, as a JSON parser keeps it.
        record[key] = _typed(row[index], result)
    return record


def _build(context: _Context, shape: _Shape, row: tuple) -> dict | None:
    matches = [
        (sobject, row[index])
        for (sobject, _), index in zip(shape.node.targets, shape.node.id_columns, strict=True)
        if row[index] is not None
    ]
    if not matches:
        return None
    sobject, record_id = matches[0]

    url = context.record_url(sobject.name, record_id)
    record: dict = {"attributes": {"type": sobject.name, "url": url}}
    for name, entry in shape.entries.items():
        if isinstance(entry, _Value):
            record[name] = _record_value(context, row[entry.index], entry.field, sobject, record_id)
        elif isinstance(entry, _Shape):
            record[name] = _build(context, entry, row)
        else:
            record[name] = entry.results.get(record_id)
    return record
