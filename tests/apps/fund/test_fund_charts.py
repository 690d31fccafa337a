"""Charts are images drawn on the server: no script, no outside reference, their own CSP."""

from __future__ import annotations

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
