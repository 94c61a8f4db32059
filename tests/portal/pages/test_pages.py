"""The portal's pages, as a browser sees them: both languages, escaping, CSRF, sign-in, roles."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.portal.pages.conftest import XSS_TAG, XSS_TITLE, World, csrf_of, sign_in, sign_out

PUBLIC_PAGES = [
    "/",
    "/dataset",
    "/dataset?q=公交",
    "/dataset/bus-routes",
    "/dataset/drivers",
    "/dataset/critical",
    "/organization",
    "/organization/jtt",
    "/ledger",
    "/requests",
    "/showcase",
    "/user/login",
]
SIGNED_IN_PAGES = [
    "/workspace",
    "/workspace/tokens",
    "/workspace/dataset/new",
    "/workspace/dataset/bus-routes",
    "/workspace/dataset/bus-routes/edit",
    "/requests/new",
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_in_both_languages(world: World, lang: str) -> None:
    c = world.client
    words = {"zh": ("数据目录", 'lang="zh-CN"'), "en": ("Datasets", 'lang="en"')}[lang]
    for path in PUBLIC_PAGES:
        r = c.get(path, params={"lang": lang})
        assert r.status_code == 200, (path, r.text[:300])
        assert words[0] in r.text and f"<html {words[1]}>" in r.text, path
    sign_in(c, world.admin)
    for path in [*SIGNED_IN_PAGES, "/dataset/draft-one"]:
        r = c.get(path, params={"lang": lang})
        assert r.status_code == 200, (path, r.text[:300])
        assert words[0] in r.text, path
    sign_in(c, world.regulator)
    r = c.get("/regulator", params={"lang": lang})
    assert r.status_code == 200 and ("审计日志" if lang == "zh" else "audit log") in r.text


def test_language_choice_sticks_in_a_cookie(world: World) -> None:
    c = world.client
    assert "Most downloaded" in c.get("/?lang=en").text
    assert "Most downloaded" in c.get("/").text  # remembered
    assert "下载最多" in c.get("/?lang=zh").text
    r = c.get("/lang/en", params={"next": "https://evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_user_content_is_escaped_everywhere(world: World) -> None:
    c = world.client
    raw_title, esc_title = XSS_TITLE, "&lt;script&gt;alert(1)&lt;/script&gt;"
    pages = {
        "search": c.get("/dataset", params={"q": "alert"}).text,
        "search-all": c.get("/dataset").text,
        "dataset": c.get("/dataset/xss").text,
        "org": c.get("/organization/jtt").text,
        "dashboard": c.get("/ledger").text,
        "home": c.get("/").text,
    }
    for where, html in pages.items():
        assert raw_title not in html, where
        assert "<img src=x" not in html, where
        assert XSS_TAG not in html, where
        assert "<i>交通</i>" not in html, where
    for where in ("search", "dataset", "org", "dashboard"):
        assert esc_title in pages[where] or "&lt;script&gt;" in pages[where], where
    assert "&lt;b&gt;bold&lt;/b&gt;" in pages["dataset"]
    assert "&lt;i&gt;交通&lt;/i&gt;局" in pages["dataset"]
    # The JSON-LD block cannot be closed early by a title.
    jsonld = pages["dataset"].split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in jsonld and "\\u003cscript\\u003e" in jsonld


def test_search_marks_matches_after_escaping(world: World) -> None:
    html = world.client.get("/dataset", params={"q": "公交"}).text
    assert "<mark>公交</mark>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>公交</mark>" in html
    assert "\x02" not in html and "\x03" not in html


def test_search_facets_filter_and_sort(world: World) -> None:
    c = world.client
    html = c.get("/dataset", params={"open_type": "conditional"}).text
    assert "网约车驾驶员" in html and "公交线路" not in html
    assert 'aria-current="true"' in html  # the active filter is marked
    html = c.get("/dataset", params={"sort": "title", "lang": "en"}).text
    assert "Found" in html and "Open type" in html
    assert "草稿数据集" not in c.get("/dataset").text  # drafts are not listed for the public


def test_csrf_is_required_on_every_form(world: World) -> None:
    c = world.client
    r = c.post("/user/login", data={"login": world.admin.name, "password": PASSWORD})
    assert r.status_code == 403 and "表单已失效" in r.text
    r = c.post("/user/login", data={"login": world.admin.name, "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403
    sign_in(c, world.admin)
    assert c.post("/workspace/tokens", data={"name": "x"}).status_code == 403
    assert c.post("/user/logout", data={}, follow_redirects=False).status_code == 403
    assert c.get("/workspace").status_code == 200  # still signed in
    # The cookie alone does not act on the API: a write needs the X-CSRF-Token header too.
    rid = world.file_resource_id
    r = c.put(f"/api/v1/resources/{rid}/file", params={"filename": "a.csv"}, content=b"a,b\n1,2\n")
    assert r.status_code == 401
    token = csrf_of(c.get("/workspace/tokens").text)
    r = c.put(
        f"/api/v1/resources/{rid}/file",
        params={"filename": "a.csv"},
        content=b"a,b\n1,2\n",
        headers={"X-CSRF-Token": token, "content-type": "text/csv"},
    )
    assert r.status_code == 201, r.text


def test_sign_in_and_out(world: World) -> None:
    c = world.client
    assert c.get("/workspace", follow_redirects=False).headers["location"].startswith("/user/login?next=")
    token = csrf_of(c.get("/user/login").text)
    r = c.post("/user/login", data={"login": world.admin.name, "password": "wrong-one", "csrf_token": token})
    assert r.status_code == 401 and "用户名或密码不正确" in r.text
    r = c.post(
        "/user/login",
        data={"login": world.admin.name, "password": PASSWORD, "csrf_token": token, "next": "//evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/workspace"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert csrf_of(c.get("/").text) != token  # a new CSRF secret with the new session
    assert "王管理" in c.get("/workspace").text
    sign_out(c)
    assert c.get("/workspace", follow_redirects=False).status_code == 303


def test_tampered_session_cookie_signs_nobody_in(world: World) -> None:
    c = world.client
    sign_in(c, world.admin)
    value = c.cookies.get("dl_session")
    assert value
    c.cookies.set("dl_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert c.get("/workspace", follow_redirects=False).status_code == 303


def test_actions_fit_the_viewer(world: World) -> None:
    c = world.client
    assert "登录后申请" in c.get("/dataset/drivers").text
    closed = c.get("/dataset/critical").text
    assert "不予开放" in closed and "/download" not in closed
    page = c.get("/dataset/bus-routes").text
    link = f"/dataset/bus-routes/resource/{world.file_resource_id}/download"
    assert link in page
    r = c.get(link)
    assert r.status_code == 200 and "1路" in r.content.decode()
    sign_in(c, world.buyer)
    assert "/dataset/drivers/apply" in c.get("/dataset/drivers").text
    assert c.get("/dataset/drivers/apply").status_code == 200
    sign_in(c, world.admin)
    manage = c.get("/dataset/drivers").text
    assert "在工作台管理" in manage and "申请使用" not in manage


def test_error_pages(world: World) -> None:
    c = world.client
    r = c.get("/dataset/no-such-thing", headers={"accept": "text/html"})
    assert r.status_code == 404 and "页面不存在" in r.text and "<html" in r.text
    r = c.get("/dataset/draft-one")  # a draft is concealed from the public
    assert r.status_code == 404
    r = c.get("/no/such/page?lang=en", headers={"accept": "text/html"})
    assert r.status_code == 404 and "Page not found" in r.text
    assert c.get("/api/v1/nothing-here").headers["content-type"].startswith("application/json")
    sign_in(c, world.buyer)
    r = c.get("/regulator")
    assert r.status_code == 403 and "无权访问" in r.text
    r = c.get("/regulator?lang=en")
    assert r.status_code == 403 and "Access denied" in r.text


def test_register_dataset_shows_field_errors_in_both_languages(world: World) -> None:
    c = world.client
    sign_in(c, world.editor)
    token = csrf_of(c.get("/workspace/dataset/new").text)
    r = c.post(
        "/workspace/dataset/new",
        data={
            "csrf_token": token,
            "owner_org": "jtt",
            "name": "Bad Name!",
            "title": "",
            "contact_email": "nope",
        },
    )
    assert r.status_code == 422
    assert "名称须为" in r.text and "lowercase letters" in r.text
    assert "此项必填" in r.text or "至少需要" in r.text
    assert "邮箱地址无效" in r.text and "Not a valid email address" in r.text
    assert 'aria-invalid="true"' in r.text
    r = c.post(
        "/workspace/dataset/new",
        data={
            "csrf_token": token,
            "owner_org": "jtt",
            "name": "new-one",
            "title": "新数据集",
            "tags": "甲, 乙",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/workspace/dataset/new-one"
    assert "新数据集" in c.get("/workspace/dataset/new-one").text


def test_enterprise_cannot_manage_agency_data(world: World) -> None:
    c = world.client
    sign_in(c, world.buyer)
    assert c.get("/workspace/dataset/bus-routes").status_code == 403
    token = csrf_of(c.get("/workspace").text)
    r = c.post("/workspace/dataset/bus-routes/publish", data={"csrf_token": token})
    assert r.status_code == 403


def test_tokens_are_shown_once_and_revocable(world: World) -> None:
    c = world.client
    sign_in(c, world.buyer)
    token = csrf_of(c.get("/workspace/tokens").text)
    r = c.post("/workspace/tokens", data={"csrf_token": token, "name": "脚本", "scope": "read", "days": "30"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    raw = r.text.split('id="new-token" readonly value="', 1)[1].split('"', 1)[0]
    assert raw.startswith("dl_")
    listing = c.get("/workspace/tokens").text
    assert raw not in listing and "脚本" in listing
    assert c.get("/api/v1/datasets", headers={"authorization": f"Bearer {raw}"}).status_code == 200
    token_id = listing.split("/workspace/tokens/", 1)[1].split("/revoke", 1)[0]
    c.post(f"/workspace/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(listing)})
    assert c.get("/api/v1/datasets", headers={"authorization": f"Bearer {raw}"}).status_code == 401


def test_requests_and_reports_are_answered_by_the_agency(world: World) -> None:
    c = world.client
    sign_in(c, world.buyer)
    token = csrf_of(c.get("/requests/new").text)
    r = c.post(
        "/requests/new",
        data={
            "csrf_token": token,
            "title": "<u>公交</u>实时到站数据",
            "body": "用于出行应用",
            "organization": "jtt",
        },
    )
    assert r.status_code == 200 and "&lt;u&gt;公交&lt;/u&gt;实时到站数据" in r.text and "答复期限" in r.text
    r = c.post(
        "/dataset/bus-routes/feedback",
        data={"csrf_token": token, "kind": "error", "title": "站点坐标有误", "body": "3 号站"},
    )
    assert "站点坐标有误" in r.text
    sign_in(c, world.admin)
    board = c.get("/requests").text
    item = board.split('action="/feedback/', 1)[1].split("/answer", 1)[0]
    r = c.post(f"/feedback/{item}/answer", data={"csrf_token": csrf_of(board), "answer": "下季度开放"})
    assert "下季度开放" in r.text and "已答复" in r.text
    assert "站点坐标有误" in c.get("/workspace").text  # the error report waits for an answer
    sign_in(c, world.buyer)
    token = csrf_of(c.get("/showcase").text)
    r = c.post(
        "/showcase",
        data={
            "csrf_token": token,
            "title": "公交助手",
            "url": "https://example.org/app",
            "datasets": "bus-routes",
        },
    )
    assert r.status_code == 200 and "公交助手" in r.text and "/dataset/bus-routes" in r.text
    assert "公交助手" in c.get("/dataset/bus-routes").text
    r = c.post(
        "/showcase",
        data={"csrf_token": token, "title": "x", "url": "javascript:alert(1)", "datasets": "bus-routes"},
    )
    assert r.status_code == 422


def test_application_workflow_through_the_pages(world: World) -> None:
    c = world.client
    sign_in(c, world.buyer)
    token = csrf_of(c.get("/dataset/drivers/apply").text)
    r = c.post(
        "/dataset/drivers/apply", data={"csrf_token": token, "purpose": "", "from": "x", "to": "2030-01-01"}
    )
    assert r.status_code == 422 and "请填写用途" in r.text and "须签署" in r.text
    r = c.post(
        "/dataset/drivers/apply",
        data={
            "csrf_token": token,
            "purpose": "运力分析",
            "from": "2024-01-01",
            "to": "2030-01-01",
            "commitment": "yes",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    app_url = r.headers["location"]
    assert "submitted" in c.get(app_url).text
    sign_in(c, world.operator)
    page = c.get(app_url).text
    c.post(app_url + "/check", data={"csrf_token": csrf_of(page), "outcome": "pass"})
    sign_in(c, world.admin)
    page = c.get(app_url).text
    assert "review-submit" in page
    c.post(
        app_url + "/review",
        data={"csrf_token": csrf_of(page), "decision": "approve", "valid_to": "2030-01-01"},
    )
    sign_in(c, world.buyer)
    page = c.get(app_url).text
    assert "数据利用协议" in page
    sha = page.split('name="agreement_sha256" value="', 1)[1].split('"', 1)[0]
    r = c.post(app_url + "/accept", data={"csrf_token": csrf_of(page), "agreement_sha256": sha})
    assert "approved" in r.text
    assert "您可以下载本数据集的文件" in c.get("/dataset/drivers").text
    assert "运力分析" in c.get("/workspace").text


def test_regulator_searches_and_exports_the_audit_log(world: World) -> None:
    c = world.client
    c.get(f"/dataset/bus-routes/resource/{world.file_resource_id}/download")
    sign_in(c, world.regulator)
    html = c.get("/regulator", params={"action": "resource."}).text
    assert "resource.download" in html
    r = c.get("/regulator/audit.csv", params={"action": "resource."})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode()) and b"resource.download" in r.content


def test_ledger_export_csv(world: World) -> None:
    r = world.client.get("/ledger/export.csv")
    assert r.status_code == 200
    body = r.content.decode("utf-8-sig")
    assert "bus-routes" in body and "draft-one" not in body
    sign_in(world.client, world.regulator)
    assert (
        "draft-one" in world.client.get("/ledger/export.csv").text
    )  # the regulator exports the whole ledger
