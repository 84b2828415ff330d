"""The pages: upload form, report with highlighted evidence, list filters, escaping, no remote assets."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import CALL, AppFactory, engine, fake_analyze, upload, wait_done

XSS = b"""Jordan Ellis: Welcome <b>Dana</b>.
Dana Price: <script>alert('pwned')</script> a finder's fee paid to me directly <img src=x onerror=alert(1)>.
Jordan Ellis: Noted.
"""


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self.script_tags = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("src", "href", "action"):
            if a.get(key):
                self.urls.append(a[key] or "")
        if tag == "script":
            self.script_tags += 1
            if not a.get("src"):
                self.inline_scripts += 1
        if tag == "style" or "style" in a or any(k.startswith("on") for k in a):
            self.inline_styles += 1


def _assets(html: str) -> _Assets:
    p = _Assets()
    p.feed(html)
    return p


def _report_page(client: TestClient, content: bytes = CALL, **fields: str) -> str:
    aid = upload(client, content=content, **fields).json()["id"]
    wait_done(client, aid)
    r = client.get(f"/analyses/{aid}")
    assert r.status_code == 200
    return r.text


def test_report_page_shows_verdict_flags_and_highlights(client: TestClient) -> None:
    html = _report_page(client, seller="Jordan Ellis", account="Brightline")
    assert 'class="banner v-walk_away"' in html
    assert ">Walk away<" in html
    # Evidence is highlighted in the transcript by sentence id, and the flag's quote links to it.
    m = re.search(r'<mark id="s-(t\d+\.\d+)" class="sev-high" title="ethics \(high\)">([^<]+)</mark>', html)
    assert m, html
    assert m.group(2).startswith("Honestly, a finder&#39;s fee paid to me directly")
    assert f'href="#s-{m.group(1)}"' in html
    assert 'class="sev-medium" title="budget (medium)">The budget is frozen' in html
    assert 'class="signal" title="need confirmed">Our dispatch team loses hours' in html
    assert "When does the budget unfreeze?" in html  # open question
    assert 'data-copy="draft"' in html  # the message draft's copy button
    assert "Subject: Thanks for your time" in html
    # Discovery coaching: the seller's questions by area, and the red flag talked past or followed up.
    assert 'id="coaching"' in html and "budget (“What budget have you set aside?”)" in html
    assert "Red flag budget (“The budget is frozen until next fiscal year.”) talked past" in html


def test_uploaded_markup_is_always_escaped(client: TestClient) -> None:
    resp = upload(client, content=XSS, filename="<script>x</script>.txt", account="<i>Acme</i>")
    assert resp.status_code == 202
    aid = resp.json()["id"]
    wait_done(client, aid)
    pages = {
        "report": client.get(f"/analyses/{aid}").text,
        "list": client.get("/analyses").text,
        "index": client.get("/").text,
        "report.html": client.get(f"/api/v1/analyses/{aid}/report.html").text,
    }
    for name, html in pages.items():
        assert "<script>alert" not in html, name
        assert "<img src=x" not in html, name
        assert "<i>Acme</i>" not in html, name
        assert "<script>x</script>" not in html, name
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in pages["report"]
    # Only our own script tag, loaded from our own origin.
    assert _assets(pages["report"]).script_tags == 1


def test_pages_load_nothing_remote(client: TestClient) -> None:
    aid = upload(client).json()["id"]
    wait_done(client, aid)
    for path in ("/", "/analyses", f"/analyses/{aid}", "/login"):
        r = client.get(path)
        found = _assets(r.text)
        remote = [u for u in found.urls if re.match(r"^(https?:)?//", u)]
        assert remote == [], (path, remote)
        assert found.inline_scripts == 0, path  # so the CSP can forbid inline script
        assert found.inline_styles == 0, path
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self';" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    css = client.get("/static/app.css").text
    assert "url(" not in css and "@import" not in css
    js = client.get("/static/app.js").text
    assert "innerHTML" not in js  # status text goes in with textContent


def test_list_page_filters_by_verdict_and_account(client: TestClient) -> None:
    calm = b"Jordan Ellis: Hi.\nDana Price: The budget is frozen until next fiscal year.\n"
    for content, account in ((CALL, "Acme"), (calm, "Globex"), (calm, "Acme")):
        wait_done(client, upload(client, content=content, account=account).json()["id"])
    all_rows = client.get("/analyses").text
    assert all_rows.count('<tr>\n      <td><a href="/analyses/') == 3
    walk = client.get("/analyses", params={"verdict": "walk_away"}).text
    assert walk.count("pill v-walk_away") == 1
    assert "pill v-qualify_further" not in walk
    acme = client.get("/analyses", params={"account": "Acme"}).text
    assert acme.count('<tr>\n      <td><a href="/analyses/') == 2
    assert '<option value="Globex" >' in acme or '<option value="Globex">' in acme
    both = client.get("/analyses", params={"account": "Acme", "verdict": "qualify_further"}).text
    assert both.count('<tr>\n      <td><a href="/analyses/') == 1


def test_progress_page_and_failure_page(make_client: AppFactory) -> None:
    idle = make_client(start_worker=False)
    aid = upload(idle).json()["id"]
    html = idle.get(f"/analyses/{aid}").text
    assert 'id="waiting"' in html
    assert f'data-poll="/api/v1/analyses/{aid}"' in html
    missing = idle.get("/analyses/nope", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert "There is no analysis with this id." in missing.text


def test_form_upload_without_javascript(client: TestClient) -> None:
    r = client.post(
        "/upload",
        files=[("file", ("a.txt", CALL)), ("file", ("b.txt", CALL))],
        data={"seller": "Jordan Ellis", "account": "Acme"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/analyses"
    assert client.get("/api/v1/analyses").json()["total"] == 2
    one = client.post("/upload", files=[("file", ("c.txt", CALL))], follow_redirects=False)
    assert re.fullmatch(r"/analyses/[0-9a-f]{32}", one.headers["location"])
    bad = client.post("/upload", files=[("file", ("d.pdf", b"%PDF-1.4"))])
    assert bad.status_code == 422
    assert 'role="alert">d.pdf: ' in bad.text
    assert client.get("/api/v1/analyses").json()["total"] == 3


def test_pipeline_page_and_api_put_the_accounts_to_fire_first(make_client: AppFactory) -> None:
    seen: list[dict[str, object]] = []

    async def recording(*args: object, **kwargs: object) -> object:
        seen.append(dict(kwargs))
        return await fake_analyze(*args, **kwargs)  # type: ignore[arg-type]

    client = make_client(analyzer=engine(recording))
    calm = b"Jordan Ellis: Hi.\nDana Price: The budget is frozen until next fiscal year.\n"
    for content, account in ((CALL, "Acme"), (calm, "Acme"), (calm, "Globex"), (calm, None)):
        fields = {"seller": "Jordan Ellis", **({"account": account} if account else {})}
        wait_done(client, upload(client, content=content, **fields).json()["id"])
    # Calls of an account also get the per-call questions account patterns need; others do not.
    assert [bool(k.get("behaviours")) for k in seen] == [True, True, True, False]
    data = client.get("/api/v1/pipeline").json()
    acme, globex = data["accounts"]
    assert (acme["account"], acme["fire"], acme["disqualified_at"], acme["calls_after_disqualified"]) == (
        "Acme",
        True,
        1,
        1,
    )
    assert acme["rep"] == "Jordan Ellis" and "finder's fee" in acme["evidence"]
    assert globex["account"] == "Globex" and not globex["fire"]
    html = client.get("/pipeline").text
    assert "<strong>Fire:</strong>" in html and html.index("Acme") < html.index("Globex")
    assert 'href="/pipeline"' in html  # in the navigation


def test_the_pipeline_review_rereads_only_accounts_whose_calls_changed(
    make_client: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analyzer.service._store import Store

    client = make_client()
    calm = b"Jordan Ellis: Hi.\nDana Price: The budget is frozen until next fiscal year.\n"
    for account in ("Acme", "Globex"):
        wait_done(client, upload(client, content=calm, seller="Jordan Ellis", account=account).json()["id"])
    read: list[list[str] | None] = []
    original = Store.account_calls

    def spy(self: Store, accounts: Any = None) -> Any:
        read.append(None if accounts is None else sorted(accounts))
        return original(self, accounts)

    monkeypatch.setattr(Store, "account_calls", spy)
    first = client.get("/api/v1/pipeline").json()
    assert read == [["Acme", "Globex"]]
    assert client.get("/api/v1/pipeline").json() == first and read == [["Acme", "Globex"]]  # nothing re-read
    wait_done(client, upload(client, content=CALL, seller="Jordan Ellis", account="Acme").json()["id"])
    after = client.get("/api/v1/pipeline").json()
    assert read[-1] == ["Acme"]  # only the account with a new call
    acme = next(a for a in after["accounts"] if a["account"] == "Acme")
    assert acme["calls"] == 2 and acme["verdict"] == "walk_away"  # the new call, read: a kickback request
