"""CSV import (the column mapping, progress, counts and the per-row error report) and CSV export
in the browser."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from tests.browser.conftest import shot, unique_phone

WATCH_PROGRESS = """() => {
  window.__importSteps = [];
  const box = document.querySelector('[data-import-progress]');
  const record = () => {
    const bar = box.querySelector('progress');
    window.__importSteps.push(
      box.hidden ? 'hidden' : `${box.textContent}|${bar.getAttribute('value') ?? 'busy'}`);
  };
  new MutationObserver(record).observe(
    box, {attributes: true, subtree: true, childList: true, characterData: true});
}"""


def make_csv(member_id: str) -> tuple[str, dict[int, str]]:
    """200 data rows: 188 good, 5 bad phones, 3 without a name, 4 repeats of earlier rows."""
    lines = ["Name,Phone,Email,Company,Status,assignedToId"]
    bad: dict[int, str] = {}
    good_phones: list[str] = []
    for i in range(200):
        row = i + 2  # spreadsheet numbering: the header is row 1
        if i in (10, 50, 90, 130, 170):
            lines.append(f"Bad Phone {i},12345,,,new,")
            bad[row] = "phone"
        elif i in (20, 60, 100):
            lines.append(f",{unique_phone(area='718')},,,new,")
            bad[row] = "name"
        elif i in (30, 70, 110, 150):
            lines.append(f"Repeat {i},{good_phones[i // 10]},,,new,")
        else:
            phone = unique_phone(area="718")
            good_phones.append(phone)
            assigned = member_id if i % 2 else ""
            lines.append(f"Import Lead {i:03d},{phone},lead{i}@example.com,Co {i},new,{assigned}")
    return "\n".join(lines) + "\n", bad


def test_import_200_rows_shows_progress_counts_and_the_error_report(signed_in, stack, tmp_path):
    member = stack.post("/team-members", {"name": "Importer", "phone": unique_phone(area="415")})
    text, bad = make_csv(member["id"])
    path = tmp_path / "leads.csv"
    path.write_text(text)

    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_role("button", name="Import CSV").first.click()  # an empty list offers a second one
    dialog = page.get_by_role("dialog", name="Import leads from CSV")
    dialog.get_by_label("CSV file").set_input_files(str(path))
    page.evaluate(WATCH_PROGRESS)
    dialog.get_by_role("button", name="Import").click()

    report = dialog.locator("[data-import-result]")
    # DynamoDB Local takes a few seconds for 200 leads, their phone guards and their ~4,000
    # search tokens; over 30 s on a loaded two-core machine
    expect(report.locator("[data-import-stat=rows] dd")).to_have_text("200", timeout=120_000)
    expect(report.locator("[data-import-stat=created] dd")).to_have_text("188")
    expect(report.locator("[data-import-stat=duplicates] dd")).to_have_text("4")
    expect(report.locator("[data-import-stat=errors] dd")).to_have_text("8")
    errors = report.get_by_role("table")
    expect(errors.locator("tbody tr")).to_have_count(8)
    expect(dialog.get_by_role("status")).to_have_text("188 created, 4 duplicates, 8 errors.")
    cells = errors.locator("tbody td").all_inner_texts()
    reported = {int(cells[i]): cells[i + 1] for i in range(0, len(cells), 2)}
    assert sorted(reported) == sorted(bad)
    for row, what in bad.items():
        assert what in reported[row].lower(), (row, reported[row])
    steps = page.evaluate("window.__importSteps")
    assert any("Uploading" in s for s in steps), steps
    assert any("importing rows" in s for s in steps), steps
    assert steps[-1] == "hidden", steps
    shot(page, "leads-import-report")

    dialog.get_by_role("button", name="Close").first.click()
    expect(dialog).to_be_hidden()
    # The list reloaded with the new leads; half of them are assigned.
    page.get_by_label("Assigned to").select_option(label="Importer")
    expect(page.get_by_role("table", name="Leads").locator("tbody tr")).to_have_count(25)
    assigned = stack.call("GET", "/leads", params={"assignedToId": member["id"], "limit": 100})
    assert len(assigned.json()["items"]) == 100  # every odd row (all of them good)


def test_a_file_without_the_required_columns_is_refused_with_the_reason(
    signed_in, stack, tmp_path, watch
):
    watch.allow_http(400)
    path = tmp_path / "wrong.csv"
    path.write_text("fullname,email\nJane,jane@example.com\n")
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_role("button", name="Import CSV").first.click()  # an empty list offers a second one
    dialog = page.get_by_role("dialog", name="Import leads from CSV")
    dialog.get_by_label("CSV file").set_input_files(str(path))
    dialog.get_by_role("button", name="Import").click()
    expect(dialog.get_by_role("alert")).to_contain_text("The import failed")
    expect(dialog.get_by_text("must name the columns phone")).to_be_visible()


def test_export_downloads_every_lead_as_csv(signed_in, stack):
    lead = stack.post("/leads", {"name": "Export Eve", "phone": unique_phone(), "company": "E Co"})
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    with page.expect_download() as info:
        page.get_by_role("button", name="Export CSV").click()
    download = info.value

    assert re.fullmatch(r"leads-\d{8}-\d{6}\.csv", download.suggested_filename)
    data = download.path().read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # a UTF-8 BOM: Excel opens it as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    mine = [r for r in rows if r["id"] == lead["id"]]
    assert mine and mine[0]["name"] == "Export Eve" and mine[0]["company"] == "E Co"
    expect(page.get_by_text("Exported leads-")).to_be_visible()


def test_a_windows_spreadsheet_imports_with_the_suggested_mapping_changed(
    signed_in, stack, tmp_path
):
    """Excel on Windows: Windows-1252, semicolons, First Name / Last Name / Mobile / Owner. The
    dialog shows the file's columns with the suggested fields; one is changed, one ignored."""
    owner = stack.post(
        "/team-members",
        {"name": "Olga Owner", "phone": unique_phone(area="415"), "email": "olga@example.com"},
    )
    jose, zoe = unique_phone(area="646"), unique_phone(area="646")
    text = (
        "First Name;Last Name;Mobile;Owner;Firma;Kundennummer\r\n"
        f"José;Müller;{jose};olga@example.com;Café Crème;K-1\r\n"
        f"Zoë;Ångström;{zoe};Olga Owner;Bäckerei €uro;K-2\r\n"
    )
    path = tmp_path / "kunden.csv"
    path.write_bytes(text.encode("cp1252"))

    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_role("button", name="Import CSV").first.click()  # an empty list offers a second one
    dialog = page.get_by_role("dialog", name="Import leads from CSV")
    dialog.get_by_label("CSV file").set_input_files(str(path))

    mapping = dialog.get_by_role("table", name="Columns of the file and the lead field each holds")
    expect(mapping).to_be_visible()
    expect(dialog.locator("[data-import-detected]")).to_have_text(
        "2 rows, semicolon separated, Windows-1252."
    )
    field = lambda column: dialog.get_by_label(f'Field for column "{column}"')  # noqa: E731
    expect(field("First Name")).to_have_value("firstName")
    expect(field("Last Name")).to_have_value("lastName")
    expect(field("Mobile")).to_have_value("phone")
    expect(field("Owner")).to_have_value("assignedTo")
    expect(field("Firma")).to_have_value("")  # no synonym: ignored unless chosen
    expect(field("Kundennummer")).to_have_value("")
    sample = dialog.get_by_role("table", name="The first 2 rows")
    expect(sample.locator("tbody tr")).to_have_count(2)
    expect(sample).to_contain_text("José")
    expect(sample).to_contain_text("Bäckerei €uro")

    # Choosing a field another column holds sets that column to Ignore; the missing phone is
    # flagged before anything is sent.
    field("Kundennummer").select_option(label="Phone")
    expect(field("Mobile")).to_have_value("")
    expect(dialog.locator("[data-import-missing]")).to_be_empty()
    field("Kundennummer").select_option(label="Ignore this column")
    expect(dialog.locator("[data-import-missing]")).to_contain_text("a phone")
    field("Mobile").select_option(label="Phone")
    expect(dialog.locator("[data-import-missing]")).to_be_empty()
    field("Firma").select_option(label="Company")
    shot(page, "leads-import-mapping")

    dialog.get_by_role("button", name="Import").click()
    report = dialog.locator("[data-import-result]")
    expect(report.locator("[data-import-stat=created] dd")).to_have_text("2", timeout=30_000)
    expect(report.locator("[data-import-stat=errors] dd")).to_have_text("0")
    expect(report).to_contain_text("Ignored columns: Kundennummer")
    expect(mapping).to_be_hidden()

    found = stack.call("GET", "/leads", params={"assignedToId": owner["id"], "limit": 100})
    by_phone = {x["phone"]: x for x in found.json()["items"]}
    assert by_phone[jose]["name"] == "José Müller"
    assert by_phone[jose]["company"] == "Café Crème"
    assert by_phone[zoe]["name"] == "Zoë Ångström"
    assert by_phone[zoe]["company"] == "Bäckerei €uro"


def test_a_file_in_several_requests_shows_progress_resumes_and_sums_the_answers(
    signed_in, stack, tmp_path, watch
):
    """The API stops at its time budget and answers `nextRow`; the dialog sends the file again
    from there, shows the rows imported of the file's, and when a continuation fails offers
    Resume from the last `nextRow`; the report sums every answer. The answers are stubbed
    (page.route): the shared stack's budget is 20 s a request and a slice 500 rows, so a real
    import in several requests would take minutes on DynamoDB Local (tests/api/test_csv_resume.py
    drives the real thing, `fromRow` and all)."""
    from urllib.parse import parse_qs, urlparse

    watch.allow_http(503)
    path = tmp_path / "big.csv"
    path.write_text("name,phone\n" + "".join(f"Lead {i},{unique_phone()}\n" for i in range(10)))
    base = {"ignoredColumns": [], "ignoredColumnCount": 0, "suppressed": 0, "totalRows": 10}
    answers = {
        None: {"rows": 4, "created": 3, "duplicates": 0, "nextRow": 6,
               "errors": [{"row": 3, "message": "phone: not a phone number"}]},
        "6": {"rows": 4, "created": 4, "duplicates": 0, "nextRow": 10, "errors": []},
        "10": {"rows": 2, "created": 0, "duplicates": 1, "nextRow": None,
               "errors": [{"row": 11, "message": "name: required"}]},
    }  # fmt: skip
    sent: list[str | None] = []

    def answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        from_row = parse_qs(urlparse(route.request.url).query).get("fromRow", [None])[0]
        sent.append(from_row)
        headers = {"Access-Control-Allow-Origin": stack.dashboard}
        if from_row == "6" and sent.count("6") == 1:  # the first continuation fails
            body = {"error": {"code": "unavailable", "message": "Service Unavailable"}}
            route.fulfill(status=503, json=body, headers=headers)
            return
        data = {**base, **answers[from_row]}
        data["errorCount"] = len(data["errors"])
        route.fulfill(json=data, headers=headers)

    page = signed_in
    page.route(lambda url: urlparse(url).path.endswith("/leads/import"), answer)
    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_role("button", name="Import CSV").first.click()
    dialog = page.get_by_role("dialog", name="Import leads from CSV")
    dialog.get_by_label("CSV file").set_input_files(str(path))
    page.evaluate(WATCH_PROGRESS)
    dialog.get_by_role("button", name="Import").click()

    # the continuation failed: what was imported so far, and Resume
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("The import stopped after 4 of 10 rows")
    expect(alert).to_contain_text("Resume goes on from row 6")
    report = dialog.locator("[data-import-result]")
    expect(report.locator("[data-import-stat=created] dd")).to_have_text("3")
    resume = dialog.get_by_role("button", name="Resume")
    expect(resume).to_be_focused()
    steps = page.evaluate("window.__importSteps")
    assert any(s.startswith("Imported 4 of 10 rows…|40") for s in steps), steps
    resume.click()

    expect(report.locator("[data-import-stat=rows] dd")).to_have_text("10")
    expect(report.locator("[data-import-stat=created] dd")).to_have_text("7")
    expect(report.locator("[data-import-stat=duplicates] dd")).to_have_text("1")
    expect(report.locator("[data-import-stat=errors] dd")).to_have_text("2")
    expect(dialog.get_by_role("button", name="Resume")).to_have_count(0)
    expect(dialog.get_by_role("status")).to_have_text("7 created, 1 duplicates, 2 errors.")
    cells = report.get_by_role("table").locator("tbody td").all_inner_texts()
    assert cells[0::2] == ["3", "11"], cells
    steps = page.evaluate("window.__importSteps")
    assert any(s.startswith("Imported 8 of 10 rows…|80") for s in steps), steps
    assert steps[-1] == "hidden", steps
    assert sent == [None, "6", "6", "10"]  # Resume went on from the last nextRow
