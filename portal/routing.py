"""Who a new registration goes to: an ordered list of rules in a TOML file, first match wins.

A rule names the regions, size bands and product lines it covers (leave one out to
cover every value) and an owner: a queue (its DeveloperName) or a named user (their
username). Registrations no rule covers go to the default queue. The file is checked
when the portal starts: a rule that can never match because an earlier one covers it
is an error, and so are two rules that cover some of the same registrations without
one being a narrower case of the other, since then only their order decides.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

DIMENSIONS = {
    "region": ("EMEA", "North America", "LATAM", "APAC"),
    "size_band": ("Under 50K", "50K-250K", "250K-1M", "Over 1M"),
    "product_line": ("Cloud Platform", "Security Suite", "Analytics", "Professional Services"),
}
DEFAULT_RULES = Path(__file__).parent / "routing.toml"


class RoutingError(Exception):
    """The routing file is wrong; the message says where and how."""


@dataclass(frozen=True)
class Rule:
    name: str
    covers: dict[str, frozenset[str]]
    queue: str = ""
    user: str = ""

    def matches(self, facts: dict[str, str]) -> bool:
        return all(facts.get(key) in values for key, values in self.covers.items())

    def includes(self, other: Rule) -> bool:
        """Every registration `other` covers, this rule covers too."""
        return all(other.covers[key] <= self.covers[key] for key in DIMENSIONS)

    def overlaps(self, other: Rule) -> bool:
        return all(self.covers[key] & other.covers[key] for key in DIMENSIONS)


@dataclass(frozen=True)
class Route:
    """The outcome of routing: the owner, and the name of the rule that chose it."""

    rule: str
    queue: str = ""
    user: str = ""


@dataclass
class Rules:
    default_queue: str
    rules: list[Rule] = field(default_factory=list)

    def route(self, region: str, size_band: str, product_line: str) -> Route:
        facts = {"region": region, "size_band": size_band, "product_line": product_line}
        for rule in self.rules:
            if rule.matches(facts):
                return Route(rule.name, rule.queue, rule.user)
        return Route("Default queue", queue=self.default_queue)

    @property
    def queues(self) -> set[str]:
        return {self.default_queue} | {rule.queue for rule in self.rules if rule.queue}

    @property
    def users(self) -> set[str]:
        return {rule.user for rule in self.rules if rule.user}


def load(path: Path | str = DEFAULT_RULES) -> Rules:
    """Read and check the rules in `path`; RoutingError says what is wrong."""
    try:
        document = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RoutingError(f"{path}: cannot read the routing rules: {error}") from None
    default_queue = document.get("default_queue")
    if not isinstance(default_queue, str) or not default_queue:
        raise RoutingError(f"{path}: set default_queue to the DeveloperName of a queue")
    rules = [_rule(path, number, entry) for number, entry in enumerate(document.get("rule", []), 1)]
    _check_order(path, rules)
    return Rules(default_queue, rules)


def _rule(path, number: int, entry: dict) -> Rule:
    where = f"{path}: rule {number}"
    if not isinstance(entry, dict):
        raise RoutingError(f"{where}: each [[rule]] must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RoutingError(f"{where}: give the rule a name")
    where = f"{path}: rule {number} ({name})"
    unknown = set(entry) - {"name", "queue", "user", *DIMENSIONS}
    if unknown:
        raise RoutingError(f"{where}: unknown setting {', '.join(sorted(unknown))}")
    if bool(entry.get("queue")) == bool(entry.get("user")):
        raise RoutingError(f"{where}: name either a queue or a user as the owner, not both")
    covers = {}
    for key, allowed in DIMENSIONS.items():
        values = entry.get(key, list(allowed))
        values = [values] if isinstance(values, str) else values
        if not isinstance(values, list) or not values:
            raise RoutingError(f"{where}: {key} must be a list of values")
        wrong = [value for value in values if value not in allowed]
        if wrong:
            raise RoutingError(f"{where}: {key} {wrong[0]!r} is not one of: {', '.join(allowed)}")
        covers[key] = frozenset(values)
    return Rule(name.strip(), covers, entry.get("queue", ""), entry.get("user", ""))


def _check_order(path, rules: list[Rule]) -> None:
    names = [rule.name for rule in rules]
    for name in names:
        if names.count(name) > 1:
            raise RoutingError(f"{path}: two rules are called {name!r}")
    for later_index, later in enumerate(rules):
        for earlier in rules[:later_index]:
            if earlier.includes(later):
                raise RoutingError(
                    f"{path}: rule {later.name!r} can never match: "
                    f"rule {earlier.name!r} comes first and covers every registration it does"
                )
            if earlier.overlaps(later) and not later.includes(earlier):
                raise RoutingError(
                    f"{path}: rules {earlier.name!r} and {later.name!r} overlap: some "
                    "registrations match both and only their order decides; make one a "
                    "narrower case of the other, or make them cover different registrations"
                )


def check_owners(rules: Rules, known_queues: set[str], known_users: set[str]) -> None:
    """Every queue and user the rules name exists in the org."""
    missing_queues = sorted(rules.queues - known_queues)
    missing_users = sorted(rules.users - known_users)
    problems = [f"queue {name!r}" for name in missing_queues]
    problems += [f"user {name!r}" for name in missing_users]
    if problems:
        raise RoutingError(
            "the routing rules name owners the org does not have: " + ", ".join(problems)
        )
