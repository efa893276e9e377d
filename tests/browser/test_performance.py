"""Cheap performance guards that count rather than time: the home page does not move while its
numbers load (cumulative layout shift, from the browser's own layout-shift entries), and
Chart.js, a chunk of its own, is fetched only by a page that draws a chart."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import unique_phone

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

# Installed before the app runs; `buffered` also reports shifts from before it was observed.
WATCH_SHIFTS = """
window.__cls = {score: 0, shifts: []};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.__cls.score += entry.value;
    window.__cls.shifts.push({
      value: entry.value,
      at: Math.round(entry.startTime),
      moved: (entry.sources || []).map((s) => s.node
        ? `${s.node.nodeName}.${(s.node.className || '').toString().slice(0, 60)}` : '?'),
    });
  }
}).observe({type: 'layout-shift', buffered: true});
"""


@pytest.fixture(scope="module")
def activity(stack):
    """Someone on the team, a lead and a call, so every region of the home page has rows."""
    member = stack.post("/team-members", {"name": "Shift Sam", "phone": unique_phone(area="415")})
    lead = stack.post("/leads", {"name": "Shift Lead", "phone": unique_phone()})
    stack.post(
        "/calls", {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": "+15005550006"}
    )
    return member, lead


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_home_page_does_not_shift_while_it_loads(signed_in, stack, activity, viewport):
    page = signed_in
    page.set_viewport_size(VIEWPORTS[viewport])
    page.add_init_script(WATCH_SHIFTS)
    page.goto(f"{stack.dashboard}/#/")
    expect(page.locator("[data-stat-cards] [data-stat=calls-today]")).to_be_visible()
    expect(page.get_by_role("table", name="Leaderboard")).to_be_visible()
    expect(page.locator("[data-activity]")).to_be_visible()
    if viewport == "desktop":  # on a phone the charts are below the fold: not drawn yet
        expect(page.locator("canvas[data-drawn]")).to_have_count(2)
    page.wait_for_timeout(500)  # a frame or two for anything still settling

    cls = page.evaluate("window.__cls")
    assert cls["score"] < 0.1, cls


def test_chart_js_is_fetched_only_where_a_chart_is_drawn(signed_in, stack, activity):
    _member, lead = activity
    page = signed_in
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    for path, heading in (
        ("#/leads", "Leads"),
        (f"#/leads/{lead['id']}", lead["name"]),
        ("#/team", "Team"),
    ):
        page.goto(f"{stack.dashboard}/{path}")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert not [url for url in scripts if "/assets/charts-" in url], scripts

    page.goto(f"{stack.dashboard}/#/")
    expect(page.locator("canvas[data-drawn]")).to_have_count(2)
    assert [url for url in scripts if "/assets/charts-" in url], scripts
