"""Charts are images drawn on the server: no script, no outside reference, their own CSP."""

from __future__ import annotations

import itertools
import re

import pytest
from fund_steps import contribute

from veche.apps.fund import charts

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"(?:href|src)\s*=|https?://(?!www\.w3\.org/2000/svg\")|url\(|@import", re.I)


def test_charts_are_svg_without_script_or_external_reference(
    federation, group_a, make_member, client_for
):
    client = client_for(make_member(group_a, "coral", coordinator=True))
    contribute(client, "12.50")
    contribute(client, "7.25")
    page = client.get("/fund/").content.decode()
    assert 'src="/fund/charts/balance-EUR.svg"' in page
    assert 'src="/fund/charts/monthly-EUR.svg"' in page
    for url in ("/fund/charts/balance-EUR.svg", "/fund/charts/monthly-EUR.svg",
                "/fund/charts/balance-USD.svg"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("image/svg+xml")
        assert (
            response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
        )
        body = response.content.decode()
        assert body.startswith("<svg") and "<script" not in body.lower()
        assert "javascript:" not in body.lower() and "<foreignobject" not in body.lower()
        assert not EXTERNAL.search(body), EXTERNAL.search(body)
    assert client.get("/fund/charts/balance-XYZ.svg").status_code == 404
    assert client.get("/fund/charts/monthly-<b>.svg").status_code == 404
    # Pages keep the site-wide policy.
    assert "script-src 'none'" in client.get("/fund/")["Content-Security-Policy"]


def test_clean_refuses_a_chart_with_a_script_or_a_link():
    with pytest.raises(ValueError):
        charts.clean('<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>')
    with pytest.raises(ValueError):
        charts.clean(
            '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://e.example/x"/></svg>'
        )


# --- honest charts ---------------------------------------------------------------------------

PATH = re.compile(r'<g class="series lines"><path [^>]*d="([^"]+)"')
TICK = re.compile(r'<text x="-8" y="([0-9.]+)"[^>]*>([^<]+)</text>')


def _points(svg: str) -> list[tuple[float, float]]:
    path = PATH.search(svg)
    assert path is not None
    numbers = [float(n) for n in path.group(1).replace("M", "").replace("L", "").split()]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def _moments(member, days_and_amounts: list[tuple[int, int]]) -> None:
    """Record contributions of ``member``'s group, each so many days after T0."""
    from fund_steps import at

    from veche.apps.fund import services

    for day, amount in days_and_amounts:
        services.contribute(actor=member, amount=amount, currency="EUR",
                            idempotency_key=services.new_token(), now=at(days=day))  # fmt: skip


@pytest.fixture
def clock():
    import time_machine
    from fund_steps import T0

    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_the_balance_is_drawn_as_steps_on_an_axis_from_zero(
    federation, group_a, make_member, client_for, clock
):
    coral = make_member(group_a, "coral", coordinator=True)
    client = client_for(coral)
    _moments(coral, [(0, 20000), (3, 15000), (10, 5000)])
    svg = client.get("/fund/charts/balance-EUR.svg").content.decode()
    points = _points(svg)
    # Every segment is flat (nothing moved) or upright (money moved at that moment).
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        assert x1 == x2 or y1 == y2, (x1, y1, x2, y2)
    # The line starts at zero, and zero is the axis's lowest tick, at its foot.
    ticks = {label: float(y) for y, label in TICK.findall(svg)}
    assert "0" in ticks and ticks["0"] == max(ticks.values())
    assert points[0][1] == ticks["0"]
    # Three rises, to 200, 350 and 400: four levels including zero.
    assert len({y for _x, y in points}) == 4


def test_the_monthly_chart_shows_the_months_in_which_money_moved_and_no_other(
    federation, group_a, make_member, client_for, clock
):
    coral = make_member(group_a, "coral", coordinator=True)
    client = client_for(coral)
    _moments(coral, [(0, 2000), (1, 3000), (60, 1000)])  # January and March 2030
    svg = client.get("/fund/charts/monthly-EUR.svg").content.decode()
    assert "Jan 2030" in svg and "Mar 2030" in svg
    assert "Feb 2030" not in svg and "Dec 2029" not in svg
    assert ">contributions<" in svg and ">disbursements<" in svg
    ticks = {label for _y, label in TICK.findall(svg)}
    assert "0" in ticks


def test_chart_labels_are_in_the_members_language(
    federation, group_a, make_member, client_for, clock
):
    coral = make_member(group_a, "coral", coordinator=True)
    client = client_for(coral)
    _moments(coral, [(0, 2000), (60, 1050)])
    assert client.post("/i18n/setlang/", {"language": "ru", "next": "/fund/"}).status_code == 302
    svg = client.get("/fund/charts/monthly-EUR.svg").content.decode()
    assert "янв. 2030" in svg and "март 2030" in svg
    balance = client.get("/fund/charts/balance-EUR.svg").content.decode()
    assert "янв." in balance


def test_charts_read_stored_totals_in_the_same_number_of_queries(
    federation, group_a, make_member, client_for, clock
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    coral = make_member(group_a, "coral", coordinator=True)
    client = client_for(coral)

    def queries() -> dict[str, int]:
        found = {}
        for url in ("/fund/charts/balance-EUR.svg", "/fund/charts/monthly-EUR.svg"):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            found[url] = len(captured)
        return found

    _moments(coral, [(0, 2000), (40, 1000)])
    queries()  # the first request of a process checks whether anything fell due
    few = queries()
    _moments(coral, [(41 + day, 100) for day in range(0, 120, 3)])
    queries()
    assert queries() == few


def test_an_empty_fund_says_so_in_its_charts(federation, group_a, make_member, client_for):
    client = client_for(make_member(group_a, "coral", coordinator=True))
    for url in ("/fund/charts/balance-EUR.svg", "/fund/charts/monthly-EUR.svg"):
        assert "nothing has moved yet" in client.get(url).content.decode()
