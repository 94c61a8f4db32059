"""Journeys through the real portal in Chromium: search and download, apply and get access,
register and publish a dataset, switch language. Each saves a screenshot of its last page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Portal, screenshot, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_search_and_download_open_data(page: Any, portal: Portal) -> None:
    page.goto(portal.url + "/")
    assert page.locator("h1").inner_text() == "公共数据开放平台"
    page.get_by_label("搜索数据集").fill("公交")
    page.keyboard.press("Enter")
    page.wait_for_url("**/dataset?q=*")
    assert page.locator("mark").first.inner_text() == "公交"
    page.locator(".facets").get_by_role("link", name="无条件开放").click()
    page.wait_for_url("**open_type=unconditional*")
    page.locator(".hits a", has_text="宁波市公交线路及站点信息").first.click()
    page.wait_for_url("**/dataset/nb-bus-routes")
    assert page.locator(".quality .big").first.inner_text().strip() != ""
    assert page.locator("figure.chart svg rect.bar").count() >= 3  # the dimension chart, drawn server-side
    assert page.locator("table.preview tbody tr").count() > 0
    with page.expect_download() as info:
        page.get_by_role("link", name="下载 公交线路").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    assert "线路" in Path(download.path()).read_text(encoding="utf-8-sig")
    screenshot(page, "01-search-and-download")


def test_apply_approve_and_download_under_a_grant(page: Any, portal: Portal) -> None:
    sign_in(page, portal, "zhang-wei")
    page.goto(portal.url + "/dataset/zj-ride-hailing-drivers")
    page.get_by_role("link", name="申请使用").click()
    page.get_by_label("用途").fill("网约车运力与安全分析")
    page.get_by_label("我已阅读并签署以上承诺").check()
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url("**/workspace/applications/*")
    application = page.url
    assert page.locator("#app-state").inner_text() == "submitted"
    sign_out(page)

    sign_in(page, portal, "sun-lei")  # the platform operator does the formal check
    page.goto(application)
    page.get_by_label("结论").select_option("pass")
    page.get_by_role("button", name="提交审查结论").click()
    page.wait_for_url(application)
    assert page.locator("#app-state").inner_text() == "checked"
    sign_out(page)

    sign_in(page, portal, "wang-jianguo")  # the owning agency decides
    page.goto(application)
    page.get_by_label("决定").select_option("approve")
    page.get_by_label("下载次数上限（留空不限）").fill("5")
    page.get_by_role("button", name="提交决定").click()
    page.wait_for_url(application)
    assert page.locator("#app-state").inner_text() == "agreement_pending"
    sign_out(page)

    sign_in(page, portal, "zhang-wei")
    page.goto(application)
    page.get_by_role("button", name="接受协议并获得授权").click()
    page.wait_for_url(application)
    assert page.locator("#app-state").inner_text() == "approved"
    page.goto(portal.url + "/dataset/zj-ride-hailing-drivers")
    link = page.locator("a.button.small[download]").first
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename.endswith(".csv")
    page.goto(portal.url + "/workspace")
    assert page.locator("#grants-h").is_visible()
    assert "1/5" in page.locator("section", has=page.locator("#grants-h")).inner_text()
    screenshot(page, "02-apply-approve-download")


def test_register_upload_check_confirm_publish(page: Any, portal: Portal, tmp_path: Any) -> None:
    sign_in(page, portal, "wang-jianguo")
    page.goto(portal.url + "/workspace/dataset/new?org=zj-jtt")
    page.get_by_role("button", name="登记").click()  # empty: field-level messages in both languages
    assert page.locator(".error-summary").is_visible()
    assert "This field is required" in page.content() or "at least" in page.content()
    page.get_by_label("标识名").fill("zj-bus-ridership")
    page.get_by_label("中文名称").fill("浙江省公交客流统计")
    page.get_by_label("英文名称").fill("Zhejiang bus ridership")
    page.get_by_label("数据领域").select_option("transport")
    page.get_by_label("开放属性").select_option("unconditional")
    page.get_by_label("更新频率").select_option("monthly")
    page.get_by_label("许可协议").fill("cc-by-4.0")
    page.get_by_role("button", name="登记").click()
    page.wait_for_url("**/workspace/dataset/zj-bus-ridership")

    page.get_by_label("名称", exact=True).fill("月度客流")
    page.get_by_label("格式", exact=True).fill("CSV")
    page.get_by_role("button", name="新增").click()
    page.wait_for_url("**/workspace/dataset/zj-bus-ridership*")
    csv = tmp_path / "ridership.csv"
    rows = ["月份,城市,线路数,客运量(万人次)"] + [
        f"2024-{m:02d},{city},{100 + m},{round(1000 + m * 12.5, 1)}"
        for m in range(1, 13)
        for city in ("杭州市", "宁波市")
    ]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.get_by_label("选择文件上传新版本").set_input_files(str(csv))
    page.get_by_role("button", name="上传", exact=True).click()  # XHR PUT with a progress bar
    page.wait_for_selector("#quality-pending")
    assert portal.run_quality_jobs("zj-bus-ridership") == 1
    page.reload()
    assert page.locator("#quality-score").inner_text().strip() != ""
    assert page.locator("#proposed-grade").inner_text().strip() != ""
    page.get_by_role("button", name="确认分级").click()
    page.wait_for_url("**/workspace/dataset/zj-bus-ridership*")
    assert page.locator("#grade-confirmed").is_visible()
    page.get_by_role("button", name="发布数据集").click()
    page.wait_for_url("**/dataset/zj-bus-ridership")
    assert page.locator("h1").inner_text() == "浙江省公交客流统计"
    assert page.locator(".quality").count() == 1
    screenshot(page, "03-register-and-publish")


def test_switch_language_and_keyboard(page: Any, portal: Portal) -> None:
    page.goto(portal.url + "/dataset/nb-bus-routes")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"  # skip link comes first
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**lang=en*")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Ningbo bus routes and stops"
    page.get_by_role("link", name="Datasets", exact=True).first.click()
    assert page.get_by_role("heading", name="Datasets", exact=True).is_visible()  # remembered without ?lang
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(portal.url + "/dataset?q=bus")
    assert page.locator(".hits").is_visible()
    screenshot(page, "04-switch-language-phone")
