"""Search, sort and the page in the URL on the leads page (issue 17): typing part of a name or
the last four digits finds the lead at once; the search, the order and the page survive a
reload."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import unique_phone


def test_search_as_you_type_sort_and_the_page_follow_the_url(signed_in, stack):
    phone = unique_phone(area="718")
    rows = ["name,phone,company"]
    rows.append(f"Zoë Quillfeather,{phone},Ørsted Widgets")
    rows += [f"Quill Page {i:02d},{unique_phone(area='917')},Quillco" for i in range(27)]
    result = stack.call(
        "POST", "/leads/import", data="\n".join(rows), headers={"Content-Type": "text/csv"}
    ).json()
    assert result["created"] == 28, result

    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    table = page.get_by_role("table", name="Leads")
    expect(table).to_be_visible()
    search = page.get_by_label("Search")
    search.fill("zoe quill")  # accents and case folded, word prefixes
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Zoë Quillfeather")
    expect(search).to_be_focused()  # the list reloads in place while typing
    expect(page).to_have_url(re.compile(r"#/leads\?q=zoe\+quill$"))

    search.fill("quill page")
    expect(page).to_have_url(re.compile(r"q=quill\+page$"))
    expect(table.locator("tbody tr")).to_have_count(25)
    expect(table).not_to_contain_text("Zoë Quillfeather")

    search.fill(phone[-4:])  # the last four digits
    expect(page).to_have_url(re.compile(rf"q={phone[-4:]}$"))
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Zoë Quillfeather")

    search.fill("orsted")  # the company, folded
    expect(page).to_have_url(re.compile(r"q=orsted$"))
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Zoë Quillfeather")
    page.reload()
    expect(page.get_by_label("Search")).to_have_value("orsted")
    expect(page.get_by_role("table", name="Leads").locator("tbody tr")).to_have_count(1)

    search = page.get_by_label("Search")
    search.fill("nothing-like-this-zz")
    expect(page.get_by_text("No leads match these filters.")).to_be_visible()

    # the order, then the next page: both in the URL, both kept by a reload
    page.goto(f"{stack.dashboard}/#/leads?q=quill")
    table = page.get_by_role("table", name="Leads")
    expect(table.locator("tbody tr")).to_have_count(25)
    page.get_by_role("button", name="Next").click()
    expect(page).to_have_url(re.compile(r"q=quill&page=2&cursor="))
    expect(table.locator("tbody tr")).to_have_count(3)
    page.reload()
    table = page.get_by_role("table", name="Leads")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(page.get_by_text("Showing 26–28")).to_be_visible()

    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_label("Sort by").select_option(label="Name Z–A")
    expect(page).to_have_url(re.compile(r"#/leads\?sort=name&order=desc$"))
    api_first = stack.call("GET", "/leads?sort=name&order=desc&limit=1").json()["items"][0]
    table = page.get_by_role("table", name="Leads")
    expect(table.locator("tbody tr").first).to_contain_text(api_first["name"])
    expect(page.get_by_text(re.compile(r"Showing 1–25 of \d+"))).to_be_visible()  # the total
    page.reload()
    expect(page.get_by_label("Sort by")).to_have_value("name:desc")
