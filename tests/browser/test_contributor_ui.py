"""Contributors' pages in a real browser, used as a person would: every task type by
keyboard (a span tagged by selecting text with the mouse), flagging an item for an
expert, peer review, the expert queue and adjudication, the dashboard's escalation
queue and charts, the contributor page and a qualification test.

One server, one database and one Chromium for the module; each person signs in once
and keeps their browser context. ``LOUPE_SCREENSHOTS=1`` refreshes the screenshots.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from tests.browser.harness import MARKS, Site, chromium, import_rows, person, serve, shot, sign_in
from tests.factories import Person, grant_level, make_project, make_rate_card
from tests.web.ui.scenarios import (
    SCHEMAS,
    add_model_versions,
    earn_trust,
    flag_next,
    label_next,
    make_test,
    reviewed,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = MARKS

SignedIn = Callable[[Person], "Page"]


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # One site per test, so that a rerun (harness.MARKS) starts from a fresh database.
    with serve(tmp_path_factory.mktemp("site")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def people(site: Site) -> dict[str, Person]:
    return {
        name: person(site, name, role)
        for name, role in [
            ("maya", "annotator"),
            ("rev", "annotator"),
            ("doc", "annotator"),
            ("newbie", "annotator"),
            ("boss", "manager"),
        ]
    }


@pytest.fixture
def signed_in(browser: Browser, site: Site) -> SignedIn:
    """The page of ``someone``'s browser context, signed in on first use."""
    pages: dict[str, Page] = {}

    def page_of(someone: Person) -> Page:
        if someone.username not in pages:
            pages[someone.username] = sign_in(browser, site, someone)
        return pages[someone.username]

    return page_of


def _rows(site: Site, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with site.db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def _answers(site: Site, project: int) -> list[Any]:
    rows = _rows(site, "SELECT answer FROM labels WHERE project_id = :p ORDER BY id", p=project)
    return [json.loads(row[0]) for row in rows]


def _open(page: Page, url: str) -> str:
    """Go to a work page and wait for its first item; returns the item id shown."""
    page.goto(url)
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    return _item_id(page)


def _item_id(page: Page) -> str:
    return str(page.locator("#item").get_attribute("data-item-id"))


def _next_item(page: Page, previous: str) -> None:
    page.wait_for_function(
        "prev => document.getElementById('item').dataset.itemId !== prev", arg=previous
    )


def _select(page: Page, needle: str) -> None:
    """Select ``needle`` in the item's text by dragging the mouse across it."""
    box = page.evaluate(
        """needle => {
          const walker = document.createTreeWalker(
            document.getElementById('item-text'), NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.data.indexOf(needle);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + needle.length);
            const r = range.getBoundingClientRect();
            return {x: r.left, y: r.top, w: r.width, h: r.height};
          }
          return null;
        }""",
        needle,
    )
    assert box, needle
    middle = box["y"] + box["h"] / 2
    page.mouse.move(box["x"] + 1, middle)
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] - 1, middle, steps=4)
    page.mouse.up()
    assert page.evaluate("window.getSelection().toString().trim()") == needle


def _project(site: Site, kind: str, name: str, members: dict[Person, str], **extra: Any) -> int:
    return make_project(site.db, name=name, config={**SCHEMAS[kind], **extra}, members=members)


def test_multi_choice_by_number_keys(
    site: Site, people: dict[str, Person], signed_in: SignedIn
) -> None:
    maya = people["maya"]
    project = _project(site, "multi_choice", "topics", {maya: "annotator"})
    import_rows(site, project, [{"id": "m1", "text": "book a table near the office"}])
    page = signed_in(maya)
    first = _open(page, f"{site.url}/projects/{project}/work")
    for key in ["1", "3", "2", "2"]:  # toggles: food, work, travel on, travel off
        page.keyboard.press(key)
    pressed = page.locator('.option[aria-pressed="true"] .option-key').all_inner_texts()
    assert pressed == ["food", "work"]
    shot(page, "workspace-multi")
    page.keyboard.press("Enter")
    _next_item(page, first)
    assert page.locator("#item-empty").is_visible()
    assert _answers(site, project) == [["food", "work"]]


def test_free_text_post_edit_by_keyboard(
    site: Site, people: dict[str, Person], signed_in: SignedIn
) -> None:
    maya = people["maya"]
    project = _project(site, "free_text", "post-edit", {maya: "annotator"})
    import_rows(
        site,
        project,
        [
            {"id": "f1", "text": "See you at 2 at the station.", "draft": "Bis um 2 am Bahnhof."},
            {"id": "f2", "text": "See you tomorrow.", "draft": "Bis morgen."},
        ],
    )
    page = signed_in(maya)
    first = _open(page, f"{site.url}/projects/{project}/work")
    box = page.locator("#answer-text")
    assert box.input_value() == "Bis um 2 am Bahnhof."  # prefilled with the draft
    assert page.evaluate("document.activeElement.id") == "answer-text"
    # Digits and letter shortcuts are just text while typing.
    page.keyboard.press("Control+A")
    page.keyboard.type("Bis 2 Uhr, sofort? Ja, 1 Gleis")
    assert _item_id(page) == first
    assert box.input_value() == "Bis 2 Uhr, sofort? Ja, 1 Gleis"
    page.keyboard.press("Control+A")
    page.keyboard.type("Bis um 2 Uhr am Bahnhof.")
    shot(page, "workspace-free-text")
    page.keyboard.press("Control+Enter")
    _next_item(page, first)
    # Esc hands the keyboard back to the shortcuts: S skips.
    second = _item_id(page)
    page.keyboard.press("Escape")
    page.keyboard.press("s")
    _next_item(page, second)
    assert page.locator("#item-empty").is_visible()
    assert _answers(site, project) == ["Bis um 2 Uhr am Bahnhof."]


def test_pairwise_side_by_side_with_undo(
    site: Site, people: dict[str, Person], signed_in: SignedIn
) -> None:
    maya = people["maya"]
    project = _project(site, "pairwise", "preferences", {maya: "annotator"})
    import_rows(
        site,
        project,
        [
            {"id": "p1", "text": "Suggest a name for a cat.", "a": "Whiskers", "b": "No."},
            {"id": "p2", "text": "What is 2 + 2?", "a": "5", "b": "4"},
        ],
    )
    page = signed_in(maya)
    first = _open(page, f"{site.url}/projects/{project}/work")
    # Sides are drawn at random each time an item is served (blind pairwise): find them.
    shown = [page.locator(f"#pair-{side}").inner_text() for side in "ab"]
    assert sorted(shown) == ["No.", "Whiskers"]
    left = shown.index("Whiskers")  # the item's own A, wherever it is shown
    page.keyboard.press(str(left + 1))
    assert "chosen" in str(page.locator(f"#pair-side-{'ab'[left]}").get_attribute("class"))
    shot(page, "workspace-pairwise")
    _fits_a_tablet(page)
    page.keyboard.press("Enter")
    _next_item(page, first)
    second = _item_id(page)
    shown = [page.locator(f"#pair-{side}").inner_text() for side in "ab"]
    four = shown.index("4")  # the item's own B
    page.keyboard.press(str(four + 1))
    page.keyboard.press("Enter")
    _next_item(page, second)
    page.keyboard.press("u")  # undo: the item is back with B chosen; call it a tie instead
    page.wait_for_function(f"document.getElementById('item').dataset.itemId === '{second}'")
    shown = [page.locator(f"#pair-{side}").inner_text() for side in "ab"]
    chosen = "ab"[shown.index("4")]
    assert page.locator(f'.option[data-key="{chosen}"]').get_attribute("aria-pressed") == "true"
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    _next_item(page, second)
    assert _answers(site, project) == ["a", "tie"]


def test_spans_tagged_by_selecting_text(
    site: Site, people: dict[str, Person], signed_in: SignedIn
) -> None:
    maya = people["maya"]
    project = _project(site, "spans", "places", {maya: "annotator"})
    rows = [
        {"id": "n1", "text": "Trains from Berlin to Paris run daily."},
        {"id": "n2", "text": "🚆 Acme opened an office in Oslo."},  # offsets count code points
    ]
    import_rows(site, project, rows)
    page = signed_in(maya)
    first = _open(page, f"{site.url}/projects/{project}/work")
    _select(page, "Berlin")
    page.keyboard.press("1")
    _select(page, "Paris")
    page.keyboard.press("2")  # ORG: a slip
    assert page.locator("#span-list li").count() == 2
    page.keyboard.press("Backspace")  # removes the last span
    _select(page, "Paris")
    page.keyboard.press("1")
    assert page.locator("#span-list").inner_text().count("LOC") == 2
    assert page.locator("#item-text mark").count() == 2
    shot(page, "workspace-spans")
    page.keyboard.press("Enter")
    _next_item(page, first)
    _select(page, "Acme")
    page.keyboard.press("2")
    _select(page, "Oslo")
    page.get_by_role("button", name="LOC").click()  # a click on the label works too
    second = _item_id(page)
    page.keyboard.press("Enter")
    _next_item(page, second)
    text2 = rows[1]["text"]
    assert _answers(site, project) == [
        [{"start": 12, "end": 18, "label": "LOC"}, {"start": 22, "end": 27, "label": "LOC"}],
        [
            {"start": text2.index("Acme"), "end": text2.index("Acme") + 4, "label": "ORG"},
            {"start": text2.index("Oslo"), "end": text2.index("Oslo") + 4, "label": "LOC"},
        ],
    ]


def test_flag_an_item_for_an_expert(
    site: Site, people: dict[str, Person], signed_in: SignedIn
) -> None:
    maya = people["maya"]
    project = _project(site, "single_choice", "flags", {maya: "annotator"})
    import_rows(site, project, [{"id": "x1", "text": "my chest hurts, call someone"}])
    page = signed_in(maya)
    first = _open(page, f"{site.url}/projects/{project}/work")
    page.keyboard.press("?")
    assert "flag the item as needing an expert" in page.locator("#help").inner_text()
    page.keyboard.press("Escape")
    page.keyboard.press("f")
    assert page.locator("#flag-dialog").is_visible()
    page.keyboard.type("could be a medical emergency")
    shot(page, "workspace-flag", full_page=False)
    page.keyboard.press("Enter")
    _next_item(page, first)
    assert "sent to an expert" in page.locator("#status").inner_text()
    assert _rows(
        site, "SELECT stage, reason FROM escalations WHERE project_id = :p", p=project
    ) == [("expert", "flagged: could be a medical emergency")]


def test_review_accept_reject_with_a_reason_and_correct(
    site: Site, people: dict[str, Person], signed_in: SignedIn
) -> None:
    maya, rev, newbie = people["maya"], people["rev"], people["newbie"]
    project = _project(
        site,
        "single_choice",
        "reviewed",
        {maya: "annotator", rev: "reviewer", newbie: "annotator"},
        **{"review": reviewed({})["review"]},
    )
    import_rows(
        site,
        project,
        [
            {"id": "r1", "text": "ring the office"},
            {"id": "r2", "text": "play jazz"},
            {"id": "r3", "text": "drive to the port"},
        ],
    )
    for answer in ["call", "call", "call"]:
        label_next(site.db, maya, project, answer)

    page = signed_in(rev)
    page.get_by_role("link", name="Review reviewed", exact=True).click()
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    assert page.locator("#reviewed-answer").inner_text() == "call"
    assert "maya" not in page.locator("#review-task").inner_text()
    shot(page, "review")
    _fits_a_tablet(page)
    first = _item_id(page)
    page.keyboard.press("a")
    _next_item(page, first)
    assert "Accepted" in page.locator("#status").inner_text()

    second = _item_id(page)
    page.keyboard.press("r")
    assert page.locator("#reject-dialog").is_visible()
    page.keyboard.type("it asks for music")
    page.keyboard.press("Enter")
    _next_item(page, second)
    assert "Rejected" in page.locator("#status").inner_text()

    third = _item_id(page)
    page.keyboard.press("c")
    assert page.locator("#correction").is_visible()
    page.keyboard.press("3")
    shot(page, "review-correct")
    page.keyboard.press("Enter")
    _next_item(page, third)
    assert page.locator("#item-empty").is_visible()
    verdicts = _rows(
        site,
        "SELECT verdict, reason, corrected_answer FROM reviews WHERE project_id = :p ORDER BY id",
        p=project,
    )
    assert [(v, r, json.loads(c) if c else None) for v, r, c in verdicts] == [
        ("accept", "", None),
        ("reject", "it asks for music", None),
        ("correct", "", "navigate"),
    ]

    # An annotator below the project's review tier is told why, not shown an error.
    other = signed_in(newbie)
    other.goto(f"{site.url}/projects/{project}/review")
    other.wait_for_selector("#notice:not([hidden])")
    assert "trusted reputation tier" in other.locator("#notice").inner_text()


def test_expert_answers_and_passes_up_then_the_manager_adjudicates(
    site: Site, people: dict[str, Person], signed_in: SignedIn
) -> None:
    maya, doc, boss = people["maya"], people["doc"], people["boss"]
    project = _project(
        site, "single_choice", "ladder", {maya: "annotator", doc: "annotator", boss: "manager"}
    )
    import_rows(
        site,
        project,
        [{"id": "e1", "text": "call the clinic"}, {"id": "e2", "text": "play or call?"}],
    )
    grant_level(site.db, doc, "general", 3)
    flag_next(site.db, maya, project, "sounds urgent")
    flag_next(site.db, maya, project, "two intents")

    page = signed_in(doc)
    first = _open(page, f"{site.url}/projects/{project}/expert")
    assert page.locator("#escalation-reason").inner_text() == "flagged: sounds urgent"
    shot(page, "expert")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    _next_item(page, first)
    second = _item_id(page)
    page.keyboard.press("p")
    page.keyboard.type("both readings are fair")
    page.keyboard.press("Enter")
    _next_item(page, second)
    assert page.locator("#item-empty").is_visible()

    manager = signed_in(boss)
    _open(manager, f"{site.url}/projects/{project}/expert")
    assert "expert: both readings are fair" in manager.locator("#escalation-reason").inner_text()
    shot(manager, "adjudicate")
    manager.keyboard.press("2")
    manager.keyboard.press("Enter")
    manager.wait_for_selector("#item-empty:not([hidden])")
    settled = _rows(
        site,
        "SELECT stage, answer FROM escalations WHERE project_id = :p ORDER BY item_id",
        p=project,
    )
    assert [(stage, json.loads(answer)) for stage, answer in settled] == [
        ("expert", "call"),
        ("adjudicator", "music"),
    ]


def test_the_dashboard_shows_the_escalation_queue_and_the_charts(
    site: Site, people: dict[str, Person], signed_in: SignedIn
) -> None:
    maya, boss = people["maya"], people["boss"]
    project = _project(site, "single_choice", "loop", {maya: "annotator", boss: "manager"})
    import_rows(site, project, [{"id": f"d{i}", "text": f"play track {i}"} for i in range(6)])
    make_rate_card(site.db, project)
    add_model_versions(
        site.db, project, [(40, 0.61, 0.55), (80, 0.72, 0.61), (120, 0.8, 0.66), (160, 0.86, 0.7)]
    )
    page = signed_in(maya)
    current = _open(page, f"{site.url}/projects/{project}/work")
    for _ in range(4):
        page.keyboard.press("2")
        page.keyboard.press("Enter")
        _next_item(page, current)
        current = _item_id(page)
    page.keyboard.press("f")
    page.keyboard.type("not a song title")
    page.keyboard.press("Enter")
    _next_item(page, current)

    manager = signed_in(boss)
    manager.goto(f"{site.url}/projects/{project}/dashboard")
    queue = manager.locator("#escalation-queue")
    assert "flagged: not a song title" in queue.inner_text()
    assert queue.get_by_role("link", name="Expert queue").count() == 1
    curve = manager.locator('svg[aria-labelledby="curve-title"]')
    assert curve.get_attribute("role") == "img"
    assert curve.locator("polyline").count() == 2
    assert "86.0 %" in manager.locator("#curve-desc").inner_text()
    cost = manager.locator("#cost-desc").inner_text()
    assert "0.20 EUR for 4 accurate labels, 0.05 EUR each" in cost
    shot(manager, "dashboard-loop")
    _fits_a_tablet(manager)


def _fits_a_tablet(page: Page) -> None:
    """No sideways scrolling at tablet width (the page is put back to laptop width)."""
    page.set_viewport_size({"width": 820, "height": 1180})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 820
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})


def test_the_contributor_page_and_a_qualification_test(
    site: Site, people: dict[str, Person], signed_in: SignedIn
) -> None:
    rev, boss = people["rev"], people["boss"]
    project = _project(site, "single_choice", "onboarding", {rev: "annotator", boss: "manager"})
    questions = [
        {"data": {"text": "ring the office"}, "answer": "call"},
        {"data": {"text": "play jazz"}, "answer": "music"},
        {"data": {"text": "drive to the port"}, "answer": "navigate"},
    ]
    make_test(site.db, boss, project, questions, name="Intents basics", domain="travel")
    earn_trust(site.db, rev)
    keys = {
        q["data"]["text"]: str(["call", "music", "navigate"].index(q["answer"]) + 1)
        for q in questions
    }

    page = signed_in(rev)
    page.goto(f"{site.url}/")
    page.get_by_role("link", name="My profile").click()
    page.wait_for_url(f"{site.url}/me")
    assert page.locator(".tier").first.inner_text() == "trusted"
    assert "lower bound at least 0.75" in page.locator(".tier-rule").first.inner_text()
    page.get_by_text("The evidence").first.click()
    assert page.locator("table.evidence tbody tr").count() == 20
    shot(page, "me")
    _fits_a_tablet(page)

    page.get_by_role("link", name="Take the test Intents basics").click()
    page.get_by_role("button", name="Start the test").click()
    page.wait_for_function("document.getElementById('item').dataset.itemId !== ''")
    for n in range(3):
        assert page.locator("#q-number").inner_text() == str(n + 1)
        page.keyboard.press(keys[page.locator("#item-text").inner_text()])
        if n == 0:
            shot(page, "qualification")
        page.keyboard.press("Enter")
    page.wait_for_selector("#result:not([hidden])")
    assert page.locator("#result-title").inner_text() == "Passed"
    assert "3 of 3 right" in page.locator("#result-score").inner_text()
    assert "level 1 in travel" in page.locator("#result-level").inner_text()
    shot(page, "qualification-result", full_page=False)
    page.get_by_role("link", name="Back to my profile").click()
    assert "travel" in page.locator("#domains").inner_text()
    assert "a qualification test" in page.locator("#domains").inner_text()
