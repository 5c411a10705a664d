"""The storefront in a German and an English browser: the language from the browser, the
switcher that remembers, German dates and money; axe-core on every page visited; sign-in
and registration on a 360 px phone; error pages; no form sent twice."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.builders import PASSWORD
from tests.e2e.accessibility import assert_accessible

# "Mo., 7. Dez. 2026, 10:00 CET (Europe/Berlin)": a German date on the provider's clock.
GERMAN_TIME = re.compile(r"\b(Mo|Di|Mi|Do|Fr|Sa|So)\., \d{1,2}\. \w+\.? \d{4}, \d\d:\d\d "
                         r"\w+ \(Europe/Berlin\)")
PHONE_360 = {"width": 360, "height": 740}


def _shop(build):
    provider = build.provider(name="Hafen Yoga", timezone="Europe/Berlin")
    offering = build.offering(provider, name="Sonnengruß", price_minor=4250, currency="EUR",
                              description="Ruhiger Flow am Wasser.")
    build.future_slot(offering, days=3, capacity=5)
    return offering


def test_a_german_browser_gets_german_pages(browser_page, build):
    offering = _shop(build)
    page = browser_page("german", locale="de-DE")

    page.goto("/shop/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("link", name="Anmelden")).to_be_visible()
    result = page.locator("article", has=page.get_by_role("link", name="Sonnengruß"))
    expect(result.get_by_text("42,50 €")).to_be_visible()
    expect(result.get_by_text(GERMAN_TIME)).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("search")

    page.get_by_role("link", name="Sonnengruß").click()
    expect(page.get_by_role("heading", name="Sonnengruß")).to_be_visible()
    expect(page.get_by_text("42,50 €").first).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("offering")

    page.get_by_role("link", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    page.expect_error_status("/shop/login")  # a refused sign-in answers 401
    page.get_by_label("E-Mail").fill("niemand@example.com")
    page.get_by_label("Passwort").fill("falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("alert")).to_have_text("E-Mail-Adresse oder Passwort ist falsch.")
    assert_accessible(page)
    page.screenshots.take("sign-in-refused")

    page.get_by_role("link", name="Konto anlegen").click()
    expect(page.get_by_role("heading", name="Konto anlegen")).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("register")

    page.expect_error_status(f"/shop/offerings/{offering}/nothing-here")
    response = page.goto(f"/shop/offerings/{offering}/nothing-here")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Seite nicht gefunden")).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("not-found")


def test_the_switcher_switches_and_remembers(page, build):
    _shop(build)
    page.goto("/shop/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    page.screenshots.take("english")

    page.get_by_role("button", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("button", name="Deutsch")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("42,50 €")).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("german")

    page.get_by_role("link", name="Sonnengruß").click()  # another page: still German
    expect(page.get_by_role("link", name="Anmelden")).to_be_visible()
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "de")

    page.get_by_role("button", name="English").click()  # and back, on the same page
    expect(page.get_by_role("heading", name="Sonnengruß")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.screenshots.take("back-to-english")


def test_sign_in_and_register_fit_a_360_px_phone(page):
    page.set_viewport_size(PHONE_360)
    for path, heading in (("/shop/login", "Sign in"), ("/shop/register", "Create an account")):
        page.goto(path)
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        overflow = page.evaluate("""() => {
            const width = document.documentElement.clientWidth;
            const element = document.querySelector('main .card');
            const card = element.getBoundingClientRect(), style = getComputedStyle(element);
            const left = card.left + parseFloat(style.paddingLeft);  // the card's content box
            const right = card.right - parseFloat(style.paddingRight);
            const outside = [...document.querySelectorAll('main input, main button')]
                .map(e => e.getBoundingClientRect())
                .filter(box => box.width > 0)  // hidden inputs have no box
                .filter(box => box.left < left - 0.5 || box.right > right + 0.5);
            return {page: document.documentElement.scrollWidth - width, outside: outside.length};
        }""")
        assert overflow == {"page": 0, "outside": 0}, (path, overflow)
        assert_accessible(page)
        page.screenshots.take(path.rsplit("/", 1)[1], sizes={"phone-360": PHONE_360})


def test_focus_is_visible_from_the_keyboard(page):
    page.goto("/shop/login")
    page.keyboard.press("Tab")  # the skip link comes first
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.screenshots.take("skip-link")
    page.get_by_label("Email").focus()
    page.keyboard.press("Tab")
    password = page.get_by_label("Password")
    expect(password).to_be_focused()
    outline = password.evaluate("e => getComputedStyle(e).outlineStyle + ' ' + "
                                "getComputedStyle(e).outlineWidth")
    assert outline == "solid 3px", outline


def test_a_form_is_sent_once(page):
    sent, held = [], []
    page.on("request", lambda request: sent.append(request.url)
            if request.method == "POST" and request.url.endswith("/shop/register") else None)
    page.goto("/shop/register")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    # The visitor tries again while the first request is on its way: Enter in a field (a
    # submit without a button) and another click. Playwright cannot act on a page while
    # its next page is loading, so the page does it and notes what it saw.
    page.evaluate("""() => document.addEventListener("submit", () => setTimeout(() => {
        const form = document.querySelector("form.stack"), button = form.querySelector("button");
        sessionStorage.setItem("disabled after the first submit", button.disabled);
        form.requestSubmit();
        button.click();
        console.log("tried again");
    }, 10), {once: true})""")
    # The first request is held on its way, as a slow network would, until the page has
    # tried again. A request that reaches the route after the hold ended goes on at once,
    # so a failed assertion can never leave the page waiting for ever.
    released = []

    def hold(route):
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route("**/shop/register", hold, times=1)
    try:
        with page.expect_console_message(lambda message: message.text == "tried again",
                                         timeout=15_000):
            page.get_by_role("button", name="Create account").evaluate("b => b.click()")
        # On a loaded machine the browser may send the request after the retry ran.
        for _ in range(200):
            if held:
                break
            page.wait_for_timeout(50)
        assert len(held) == 1, (sent, held)
    finally:
        released.append(True)
        for route in held:
            route.continue_()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Registration received")).to_be_visible()
    page.screenshots.take("registered")
    assert len(sent) == 1, sent
    assert page.evaluate("sessionStorage.getItem('disabled after the first submit')") == "true"
    # Back on the form (from the browser's cache), it can be sent again.
    page.go_back()
    expect(page.get_by_role("button", name="Create account")).to_be_enabled()
