"""Pilot metrics: every number of the dashboard and of its CSV exports, checked against values
computed here, independently, from the seeded registrations and stage records."""

from __future__ import annotations

import csv
import io
import math
import statistics
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta

import lxml.html
import pytest
from simple_salesforce.format import format_soql

from portal import background, testing
from portal.form_counts import FormCounts
from salesforce import demo
from salesforce.reporting import Cohort, Reporting
from tests.reporting_seed import Planned, Step, bulk, remove, seed

NOW = datetime.now(UTC)
TODAY = NOW.date()
# The first day of last month: a registration submitted the day before is decided after it.
BOUNDARY = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
START = BOUNDARY - timedelta(days=30)
END = TODAY
SLA = 2
OPEN = ("Submitted", "In Review", "Needs Info")
TIMED = ("Submitted", "In Review", "Needs Info")
DECIDED = ("Approved", "Rejected")
FORMULA = '=HYPERLINK("http://evil.example","x")'


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def hours(moment: datetime, count: float) -> datetime:
    return moment + timedelta(hours=count)


def scenario() -> list[Planned]:
    """The edge cases, all in the period but the last."""
    base = at(BOUNDARY - timedelta(days=20), 9)
    loop = base + timedelta(days=1)
    in_salesforce = base + timedelta(days=3, hours=1)
    reassigned = base + timedelta(days=5)
    withdrawn = base + timedelta(days=6)
    expired = base + timedelta(days=2)
    boundary = at(BOUNDARY - timedelta(days=1), 20)
    waiting = at(TODAY - timedelta(days=20), 10)
    in_review = at(TODAY - timedelta(days=3), 10)
    return [
        Planned(
            "Open Submitted Co",
            "EMEA",
            "Cloud Platform",
            [Step("Submitted", at(TODAY - timedelta(days=9), 11), actor="Seeded Rep")],
        ),
        Planned(
            "Loop Co",
            "EMEA",
            "Security Suite",
            [
                Step("Submitted", loop, actor="Seeded Rep"),
                Step("Needs Info", hours(loop, 2), comment="Who signs?"),
                Step("In Review", hours(loop, 26), actor="Seeded Rep", comment="The CFO."),
                Step("Needs Info", hours(loop, 30), comment="Budget?"),
                Step("In Review", hours(loop, 50), actor="Seeded Rep", comment="Approved."),
                Step("Needs Info", hours(loop, 52), comment="Which year?"),
                Step("In Review", hours(loop, 80), actor="Seeded Rep", comment="2027."),
                Step("Approved", hours(loop, 90)),
            ],
        ),
        Planned(
            "Salesforce Decided Co",
            "APAC",
            "Analytics",
            [
                Step("Submitted", in_salesforce, actor="Seeded Rep"),
                Step(
                    "Rejected",
                    hours(in_salesforce, 5),
                    actor="Sam Salesforce",
                    source="Salesforce",
                    reason_code="Existing opportunity",
                    owner_name="APAC Desk",
                ),
            ],
            country="JP",
        ),
        Planned(
            "Month Boundary Co",
            "EMEA",
            "Cloud Platform",
            [
                Step("Submitted", boundary, actor="Seeded Rep"),
                Step("Approved", at(BOUNDARY + timedelta(days=1), 10), actor="Bob Boss"),
            ],
        ),
        Planned(
            "-Minus Reassigned Co",
            "APAC",
            "Cloud Platform",
            [
                Step("Submitted", reassigned, actor="Seeded Rep"),
                Step(
                    "Submitted",
                    hours(reassigned, 3),
                    actor="Carl Channel",
                    owner_name="Metrics Desk B",
                    reassign=True,
                ),
                Step(
                    "Rejected",
                    hours(reassigned, 7),
                    reason_code="Customer not qualified",
                    comment=FORMULA,
                ),
            ],
            country="SG",
        ),
        Planned(
            "Withdrawn Co",
            "EMEA",
            "Analytics",
            [
                Step("Submitted", withdrawn, actor="Seeded Rep"),
                Step("Withdrawn", hours(withdrawn, 4), actor="Seeded Rep"),
            ],
        ),
        Planned(
            "Waiting Answer Co",
            "EMEA",
            "Security Suite",
            [
                Step("Submitted", waiting, actor="Seeded Rep"),
                Step("Needs Info", hours(waiting, 3), comment="Who is the buyer?"),
            ],
        ),
        Planned(
            "Expired Co",
            "APAC",
            "Security Suite",
            [
                Step("Submitted", expired, actor="Seeded Rep"),
                Step("Approved", hours(expired, 10)),
                Step("Expired", expired + timedelta(days=30), actor="Protection period ended"),
            ],
            country="AU",
        ),
        Planned(
            "+Plus In Review Co",
            "APAC",
            "Cloud Platform",
            [
                Step("Submitted", in_review, actor="Seeded Rep"),
                Step("Needs Info", hours(in_review, 1), comment="Which site?"),
                Step("In Review", hours(in_review, 20), actor="Seeded Rep", comment="Sydney."),
            ],
            country="AU",
        ),
        Planned(
            "Outside Period Co",
            "EMEA",
            "Cloud Platform",
            [
                Step("Submitted", at(START - timedelta(days=5), 9), actor="Seeded Rep"),
                Step("Approved", at(START - timedelta(days=4), 9)),
            ],
        ),
    ]


BULK_COUNT = 2_050
BULK_START = at(TODAY - timedelta(days=60), 6)


@pytest.fixture(scope="module")
def seeded(local_org, sf):
    """A partner with the edge cases and one with more than 2,000 registrations, removed
    afterwards so no other test sees them."""
    store = local_org.org.store
    owner = demo.ensure_queue(sf, "Metrics_Desk", "Metrics Desk")
    marker = uuid.uuid4().hex[:8]
    user = local_org.org.integration_user_id
    edge = seed(store, user, f"@Metrics Scenario {marker}", "EMEA", owner, scenario())
    many = seed(store, user, f"Metrics Bulk {marker}", "APAC", owner, bulk(BULK_COUNT, BULK_START))
    yield edge, many
    remove(store, [edge.account_id, many.account_id])


# -- what the numbers must be, computed here ---------------------------------------------


def business_days(start: datetime, end: datetime) -> int:
    day, count = start.date(), 0
    while day < end.date():
        day += timedelta(days=1)
        count += day.weekday() < 5
    return count


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(share * len(ordered)) - 1]


def expected(plans: list[Planned], start=START, end=END, regions=None, product="") -> dict:
    """Every dashboard number, from the plans alone."""
    chosen = [
        plan
        for plan in plans
        if start <= plan.submitted_at.date() <= end
        and (regions is None or plan.region in regions)
        and (not product or plan.product_line == product)
    ]
    stage_times, rounds, decisions, to_decision = defaultdict(list), {}, [], []
    by_queue, by_approver, per_plan = defaultdict(list), defaultdict(list), {}
    for plan in chosen:
        moves = [step for step in plan.steps if not step.reassign]
        spent = defaultdict(float)
        for step, following in zip(moves, moves[1:], strict=False):
            if step.to_status in TIMED:
                spent[step.to_status] += (following.at - step.at).total_seconds() / 3600
        for name, total in spent.items():
            stage_times[name].append(total)
        rounds[plan.id] = sum(step.to_status == "Needs Info" for step in moves)
        decision = next((step for step in moves if step.to_status in DECIDED), None)
        per_plan[plan.id] = (spent, decision)
        if decision:
            decisions.append((plan, decision))
            taken = (decision.at - plan.submitted_at).total_seconds() / 3600
            to_decision.append(taken)
            index = plan.steps.index(decision)
            changes = [step for step in plan.steps[:index] if step.reassign]
            since = changes[-1].at if changes else plan.submitted_at
            owner = decision.owner_name or (changes[-1].owner_name if changes else "Metrics Desk")
            turnaround = (decision.at - since).total_seconds() / 3600
            by_queue[owner].append(turnaround)
            by_approver[decision.actor].append(turnaround)
    status = Counter(plan.status for plan in chosen)
    still_open = [plan for plan in chosen if plan.status in OPEN]
    bounds = [0, SLA, 2 * SLA, 4 * SLA]
    buckets = {name: [0, 0, 0, 0] for name in OPEN}
    for plan in still_open:
        age = business_days(plan.submitted_at, NOW)
        buckets[plan.status][max(i for i, low in enumerate(bounds) if age >= low)] += 1
    weeks = Counter(
        plan.submitted_at.date() - timedelta(days=plan.submitted_at.weekday()) for plan in chosen
    )
    decisions.sort(key=lambda item: item[1].at, reverse=True)
    return {
        "plans": chosen,
        "submissions": len(chosen),
        "decided": status["Approved"] + status["Rejected"] + status["Expired"],
        "withdrawn": status["Withdrawn"],
        "approved": status["Approved"] + status["Expired"],
        "rejected": status["Rejected"],
        "open": len(still_open),
        "weeks": weeks,
        "stage_times": stage_times,
        "to_decision": to_decision,
        "by_queue": by_queue,
        "by_approver": by_approver,
        "rounds": rounds,
        "buckets": buckets,
        "past_target": sum(business_days(p.submitted_at, NOW) >= SLA for p in still_open),
        "oldest": [plan.id for plan in sorted(still_open, key=lambda plan: plan.submitted_at)],
        "decisions": decisions,
        "per_plan": per_plan,
    }


# -- reading the page -----------------------------------------------------------------------


def page_of(response):
    assert response.status_code == 200, response.text[:2000]
    return lxml.html.fromstring(response.text)


def figure(page, metric: str, attribute: str = "data-value") -> str:
    [value] = page.xpath(f'//*[@data-metric="{metric}"]//*[@class="figure-value"]/@{attribute}')
    return value


def part(page, metric: str, name: str, attribute: str = "data-value") -> str:
    [value] = page.xpath(f'//*[@data-metric="{metric}"]//*[@data-part="{name}"]/@{attribute}')
    return value


def spread_row(page, table: str, key: str, value: str):
    cells = page.xpath(f'//table[@id="{table}"]//tr[@{key}="{value}"]/td')
    count = int(cells[0].get("data-value"))
    median, p90 = (
        float(cell.get("data-hours")) if cell.get("data-hours") else None for cell in cells[1:]
    )
    return count, median, p90


def assert_spread(found, values: list[float]):
    count, median, p90 = found
    assert count == len(values)
    assert median == pytest.approx(statistics.median(values), abs=1e-3)
    assert p90 == pytest.approx(nearest_rank(values, 0.9), abs=1e-3)


def query(partner="", region="", product="", outcome="", start=START, end=END) -> str:
    return (
        f"/metrics/?start={start}&end={end}&partner={partner}&region={region}"
        f"&product_line={product.replace(' ', '+')}&outcome={outcome}"
    )


@pytest.fixture
def admin(make_internal):
    return make_internal("Admin")[1]


# -- the dashboard ------------------------------------------------------------------------


def test_dashboard_numbers_match_the_seeded_history(seeded, admin, api_calls):
    edge, _ = seeded
    want = expected(edge.registrations)

    with api_calls() as calls:
        page = page_of(admin.get(query(partner=edge.account_id)))

    # Three aggregates and one page of stage records.
    assert calls.count == 4
    assert int(figure(page, "submissions")) == want["submissions"] == 9
    assert int(part(page, "decided", "decided")) == want["decided"] == 5
    assert int(part(page, "decided", "withdrawn")) == want["withdrawn"] == 1
    assert float(figure(page, "decided")) == pytest.approx(5 / 9)
    assert float(figure(page, "to-decision", "data-hours")) == pytest.approx(
        statistics.median(want["to_decision"])
    )
    assert float(part(page, "to-decision", "p90", "data-hours")) == pytest.approx(
        nearest_rank(want["to_decision"], 0.9)
    )
    reworked = [rounds for rounds in want["rounds"].values() if rounds]
    assert int(part(page, "rework", "reworked")) == len(reworked) == 3
    assert int(part(page, "rework", "rounds")) == sum(reworked) == 5
    assert float(figure(page, "rework")) == pytest.approx(3 / 9)
    assert int(part(page, "past-target", "open")) == want["open"] == 3
    assert int(figure(page, "past-target")) == want["past_target"]

    weeks = {
        row.get("data-week"): int(row.xpath("td/@data-value")[0])
        for row in page.xpath('//table[@id="weeks"]//tr[@data-week]')
    }
    assert {week: count for week, count in weeks.items() if count} == {
        monday.isoformat(): count for monday, count in want["weeks"].items()
    }
    assert min(weeks) == (START - timedelta(days=START.weekday())).isoformat()

    [partner_row] = page.xpath(f'//table[@id="partners"]//tr[@data-partner="{edge.account_id}"]')
    cells = {cell.get("data-column"): int(cell.text) for cell in partner_row.xpath("td")}
    assert cells == {
        "submitted": 9,
        "open": want["open"],
        "approved": want["approved"],
        "rejected": want["rejected"],
        "withdrawn": want["withdrawn"],
    }

    for name in TIMED:
        assert_spread(
            spread_row(page, "stage-times", "data-stage", name), want["stage_times"][name]
        )
    # By hand: the loop spent 24 + 20 + 28 h in Needs Info, the other one 19 h.
    assert sorted(want["stage_times"]["Needs Info"]) == [19.0, 72.0]
    assert_spread(
        spread_row(page, "stage-times", "data-stage", "Submit to decision"), want["to_decision"]
    )
    for name, values in want["by_queue"].items():
        assert_spread(spread_row(page, "by-queue", "data-name", name), values)
    for name, values in want["by_approver"].items():
        assert_spread(spread_row(page, "by-approver", "data-name", name), values)
    assert set(want["by_queue"]) == {"Metrics Desk", "Metrics Desk B", "APAC Desk"}

    for status, counts in want["buckets"].items():
        row = page.xpath(f'//table[@id="stuck"]//tr[@data-status="{status}"]/td')
        assert [int(cell.text) for cell in row] == counts, status
    oldest = page.xpath('//ol[@id="oldest"]/li/@data-registration')
    assert oldest == want["oldest"]

    rework_rows = {
        int(row.get("data-rounds")): int(row.xpath("td")[0].text)
        for row in page.xpath('//table[@id="rework"]//tr[@data-rounds]')
    }
    assert rework_rows == {0: 6, 1: 2, 3: 1}

    logged = page.xpath('//ol[@id="decisions"]/li')
    assert [item.get("data-registration") for item in logged] == [
        plan.id for plan, _ in want["decisions"]
    ]
    assert [item.get("data-outcome") for item in logged] == [
        step.to_status for _, step in want["decisions"]
    ]
    assert [item.xpath('.//*[@data-field="actor"]')[0].text for item in logged] == [
        step.actor for _, step in want["decisions"]
    ]
    in_salesforce = next(item for item in logged if "(in Salesforce)" in item.text_content())
    assert "Salesforce Decided Co" in in_salesforce.text_content()
    assert "Existing opportunity" in in_salesforce.text_content()
    links = page.xpath('//ol[@id="decisions"]//a/@href')
    assert links[0] == f"/review/{want['decisions'][0][0].id}"
    assert "Outside Period Co" not in lxml.html.tostring(page, encoding="unicode")


def test_filters_narrow_every_number(seeded, admin):
    edge, _ = seeded

    for region, product in (("APAC", ""), ("EMEA", "Cloud Platform"), ("", "Analytics")):
        want = expected(edge.registrations, regions=(region,) if region else None, product=product)
        page = page_of(admin.get(query(edge.account_id, region, product)))

        assert int(figure(page, "submissions")) == want["submissions"], (region, product)
        assert int(part(page, "decided", "decided")) == want["decided"]
        assert int(part(page, "past-target", "open")) == want["open"]
        logged = page.xpath('//ol[@id="decisions"]/li/@data-registration')
        assert logged == [plan.id for plan, _ in want["decisions"]]

    page = page_of(admin.get(query(edge.account_id, outcome="Rejected")))
    outcomes = page.xpath('//ol[@id="decisions"]/li/@data-outcome')
    assert outcomes == ["Rejected", "Rejected"]
    assert int(figure(page, "submissions")) == 9

    narrow = BOUNDARY - timedelta(days=2), BOUNDARY + timedelta(days=2)
    page = page_of(admin.get(query(edge.account_id, start=narrow[0], end=narrow[1])))
    assert int(figure(page, "submissions")) == 1
    [decided] = page.xpath('//ol[@id="decisions"]/li//a/text()')
    assert "Month Boundary Co" in decided


def test_channel_manager_sees_only_their_regions(seeded, make_internal):
    edge, _ = seeded
    _, manager = make_internal("Channel Manager", regions=["APAC"])
    want = expected(edge.registrations, regions=("APAC",))

    page = page_of(manager.get(query(edge.account_id)))
    refused = manager.get(query(edge.account_id, region="EMEA"))

    assert int(figure(page, "submissions")) == want["submissions"] == 4
    assert page.xpath('//select[@name="region"]/option/@value') == ["", "APAC"]
    assert refused.status_code == 400
    assert "Not a valid choice" in refused.text


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("Rep", False), ("Manager", False), ("Approver", False), ("Channel Manager", True)],
)
def test_only_channel_managers_and_admins_see_metrics(
    role, allowed, make_internal, make_partner, mailbox, app, admin
):
    if role in ("Rep", "Manager"):
        partner = make_partner()
        client = app.test_client()
        testing.sign_in(client, mailbox, (partner.rep if role == "Rep" else partner.manager).email)
    else:
        _, client = make_internal(role, regions=["EMEA"])

    paths = ("/metrics/", "/metrics/decisions.csv", "/metrics/registrations.csv")
    statuses = [client.get(path).status_code for path in paths]
    home = client.get("/").text

    assert statuses == ([200, 200, 200] if allowed else [404, 404, 404])
    assert ('href="/metrics/"' in home) is allowed
    assert 'href="/metrics/"' in admin.get("/").text
    assert app.test_client().get("/metrics/").status_code == 302


def test_bad_filters_are_explained(admin):
    backwards = admin.get(f"/metrics/?start={END}&end={START}")
    too_long = admin.get(f"/metrics/?start={END - timedelta(days=400)}&end={END}")
    odd_partner = admin.get("/metrics/?partner=x' OR Id != null")

    assert backwards.status_code == too_long.status_code == odd_partner.status_code == 400
    assert "The end of the period comes before its start." in backwards.text
    assert "Choose a period of one year or less." in too_long.text
    assert "Choose a partner from the list." in odd_partner.text
    cleared = page_of(admin.get("/metrics/?start=&end=&region=&partner="))
    assert cleared.xpath('//input[@name="end"]/@value') == [TODAY.isoformat()]


# -- past 2,000 records -----------------------------------------------------------------------


def test_dashboard_stays_correct_past_2000_records_at_a_stated_cost(seeded, admin, api_calls):
    _, many = seeded
    start = BULK_START.date()
    want = expected(many.registrations, start=start)
    stage_rows = sum(len(plan.steps) for plan in want["plans"])
    assert want["submissions"] == BULK_COUNT and stage_rows > 2 * 2_000

    with api_calls() as calls:
        page = page_of(admin.get(query(many.account_id, start=start)))

    # Three aggregates, then the stage records 2,000 per call.
    assert calls.count == 3 + math.ceil(stage_rows / 2_000)
    assert int(figure(page, "submissions")) == BULK_COUNT
    assert int(part(page, "decided", "decided")) == want["decided"]
    assert int(part(page, "past-target", "open")) == want["open"]
    assert int(part(page, "rework", "reworked")) == sum(1 for r in want["rounds"].values() if r)
    assert int(page.xpath('//*[@id="decision-count"]/@data-value')[0]) == len(want["decisions"])
    assert_spread(
        spread_row(page, "stage-times", "data-stage", "Submit to decision"), want["to_decision"]
    )
    assert_spread(
        spread_row(page, "stage-times", "data-stage", "Needs Info"),
        want["stage_times"]["Needs Info"],
    )
    for name, values in want["by_approver"].items():
        assert_spread(spread_row(page, "by-approver", "data-name", name), values)

    with api_calls() as calls:
        export = admin.get(
            query(many.account_id, start=start).replace("/metrics/", "/metrics/registrations.csv")
        )
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert calls.count == math.ceil(stage_rows / 2_000)
    assert len(rows) == BULK_COUNT
    assert {row["Registration"] for row in rows} == {plan.number for plan in many.registrations}


# -- the CSV exports ------------------------------------------------------------------------


def test_decision_log_csv_matches_and_is_safe_in_a_spreadsheet(seeded, admin, api_calls):
    edge, _ = seeded
    want = expected(edge.registrations)

    with api_calls() as calls:
        response = admin.get(query(edge.account_id).replace("/metrics/", "/metrics/decisions.csv"))
    rows = list(csv.reader(io.StringIO(response.text)))

    assert calls.count == 1
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="decisions-')
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Registration", "Link", "End customer"]
    assert len(body) == len(want["decisions"]) == 5
    for row, (plan, step) in zip(body, want["decisions"], strict=True):
        record = dict(zip(header, row, strict=True))
        assert record["Registration"] == plan.number
        assert record["Link"] == f"http://localhost/review/{plan.id}"
        assert record["Decision"] == step.to_status
        assert record["Decided by"] == step.actor
        assert record["Decided at (UTC)"] == step.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert record["Reason code"] == step.reason_code
        assert record["Source"] == step.source
        assert record["Partner"] == "'" + edge.account_name
    minus = next(dict(zip(header, row, strict=True)) for row in body if "Minus" in row[2])
    assert minus["End customer"] == "'-Minus Reassigned Co"
    assert minus["Comment"] == "'" + FORMULA
    assert minus["Owner"] == "Metrics Desk"

    rejected = admin.get(
        query(edge.account_id, outcome="Rejected").replace("/metrics/", "/metrics/decisions.csv")
    )
    assert [row[6] for row in list(csv.reader(io.StringIO(rejected.text)))[1:]] == [
        "Rejected",
        "Rejected",
    ]


def test_registrations_csv_has_each_registrations_stage_times(seeded, admin):
    edge, _ = seeded
    want = expected(edge.registrations)

    response = admin.get(query(edge.account_id).replace("/metrics/", "/metrics/registrations.csv"))
    rows = {
        row["Link"].rsplit("/", 1)[1]: row for row in csv.DictReader(io.StringIO(response.text))
    }

    assert set(rows) == {plan.id for plan in want["plans"]}
    for plan in want["plans"]:
        row = rows[plan.id]
        spent, decision = want["per_plan"][plan.id]
        assert row["Status"] == plan.status
        assert row["Submitted at (UTC)"] == plan.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert row["Needs Info rounds"] == str(want["rounds"][plan.id])
        for name in TIMED:
            cell = row[f"Hours in {name}"]
            assert (float(cell) if cell else None) == (
                pytest.approx(spent[name], abs=0.005) if name in spent else None
            ), (plan.customer, name)
        if decision:
            taken = (decision.at - plan.submitted_at).total_seconds() / 3600
            assert float(row["Hours to decision"]) == pytest.approx(taken, abs=0.005)
            assert row["Decision"] == decision.to_status
        else:
            assert row["Hours to decision"] == row["Decision"] == ""
        if plan.status in OPEN:
            assert row["Business days open"] == str(business_days(plan.submitted_at, NOW))
        else:
            assert row["Business days open"] == ""
    assert rows[edge.registrations[4].id]["End customer"] == "'-Minus Reassigned Co"
    assert rows[edge.registrations[8].id]["End customer"] == "'+Plus In Review Co"


# -- forms opened and submitted ---------------------------------------------------------------


def test_form_opens_and_submissions_are_counted_without_calls_on_the_form(
    app, sign_in, make_partner, admin, api_calls, sf
):
    app.config["FORM_COUNTS_FLUSH_SECONDS"] = 0
    partner = make_partner()
    rep = sign_in(partner.rep)

    with api_calls() as calls:
        for _ in range(3):
            assert rep.get("/registrations/new").status_code == 200
    submit(rep)
    background.wait_until_idle()

    assert calls.count == 0
    page = page_of(admin.get(query(partner.account_id, start=TODAY, end=TODAY)))
    assert int(part(page, "form-completion", "opened")) == 4
    assert int(part(page, "form-completion", "submitted")) == 1
    assert float(figure(page, "form-completion")) == pytest.approx(0.25)
    [record] = sf.query(
        format_soql(
            "SELECT Day__c, Forms_Opened__c, Forms_Submitted__c, Process__c, Count_Key__c "
            "FROM Portal_Form_Count__c WHERE Partner_Account__c = {}",
            partner.account_id,
        )
    )["records"]
    assert record["Day__c"] == TODAY.isoformat()
    assert (record["Forms_Opened__c"], record["Forms_Submitted__c"]) == (4, 1)
    assert set(record) - {"attributes"} == {
        "Day__c",
        "Forms_Opened__c",
        "Forms_Submitted__c",
        "Process__c",
        "Count_Key__c",
    }


def test_processes_keep_their_own_counts_and_a_repeat_changes_nothing(app, make_partner, sf):
    partner = make_partner()
    first, second = FormCounts("host-a-1-aaa"), FormCounts("host-b-2-bbb")
    app.config["FORM_COUNTS_FLUSH_SECONDS"] = None  # only the explicit flushes below

    with app.app_context():
        for _ in range(5):
            first.opened(partner.account_id)
        first.submitted(partner.account_id)
        for _ in range(2):
            second.opened(partner.account_id)
        assert first.flush() == 1
        assert second.flush() == 1
        assert first.flush() == 0  # nothing changed since
        first.opened(partner.account_id)
        first.flush()
        totals = Reporting(app.extensions["gateway"]).form_totals(
            Cohort(TODAY, TODAY, None, partner.account_id)
        )

    records = sf.query(
        format_soql(
            "SELECT Process__c, Forms_Opened__c, Forms_Submitted__c FROM Portal_Form_Count__c "
            "WHERE Partner_Account__c = {} ORDER BY Process__c",
            partner.account_id,
        )
    )["records"]
    assert [(r["Process__c"], r["Forms_Opened__c"], r["Forms_Submitted__c"]) for r in records] == [
        ("host-a-1-aaa", 6, 1),
        ("host-b-2-bbb", 2, 0),
    ]
    assert (totals.opened, totals.submitted) == (8, 1)


def submit(client) -> str:
    form = client.get("/registrations/new").text
    response = client.post(
        "/registrations/new",
        data={
            "csrf_token": testing.CSRF_PATTERN.search(form).group(1),
            "submission_key": testing.KEY_PATTERN.search(form).group(1),
            "end_customer_name": "Counted Co",
            "country": "DE",
            "deal_value": "75000",
            "product_line": "Analytics",
            "expected_close_date": (TODAY + timedelta(days=60)).isoformat(),
        },
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


# -- presentation and safety ------------------------------------------------------------------


def test_charts_are_svg_with_text_alternatives_and_no_inline_style(seeded, admin):
    edge, _ = seeded
    response = admin.get(query(edge.account_id))
    page = page_of(response)

    charts = page.xpath("//svg")
    assert len(charts) == 3
    for chart in charts:
        assert chart.get("role") == "img"
        title_id, desc_id = chart.get("aria-labelledby").split()
        assert chart.xpath(f'title[@id="{title_id}"]')[0].text
        assert chart.xpath(f'desc[@id="{desc_id}"]')[0].text
        assert all(bar.xpath("title") for bar in chart.xpath(".//rect"))
        # Each chart has its numbers as a table too.
        assert chart.getparent().xpath(".//table")
    assert page.xpath("//*[@style]") == []
    assert page.xpath("//script[not(@src)]") == []
    # Submission to decision took 5, 7, 10, 38 and 90 hours: the chart says so in words.
    assert "To decision: median 10.0 h" in response.text
    assert "90% 3.8 d" in response.text


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_a_spreadsheet_would_run_become_text(start):
    from portal.metrics import safe_cell

    assert safe_cell(f"{start}SUM(A1:A9)") == f"'{start}SUM(A1:A9)"
    assert safe_cell("Globex GmbH") == "Globex GmbH"
    assert safe_cell(-3) == -3


def test_channel_manager_without_regions_sees_no_numbers_at_no_cost(make_internal, api_calls):
    _, manager = make_internal("Channel Manager", regions=[])

    with api_calls() as calls:
        page = page_of(manager.get(query()))

    assert calls.count == 0
    assert int(figure(page, "submissions")) == 0
    assert "no region" in page.xpath('//*[@id="scope"]')[0].text_content()
