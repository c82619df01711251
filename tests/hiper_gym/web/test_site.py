"""Sites: routing, templates, the static site's form records."""

from __future__ import annotations

from hiper_gym.web.site import Request, Response, Site, StaticSite, fill, redirect, route, url


class Shop(Site):
    @route("GET", "/item/<item_id>")
    def item(self, request: Request, item_id: str) -> Response:
        return Response(f"item {item_id} {request.get('color')}")

    @route("POST", "/buy")
    def buy(self, request: Request) -> Response:
        self.state["bought"] = request.get("item_id")
        return redirect("/done")


def test_routes_capture_path_segments_and_match_the_method():
    shop = Shop({"x": 1})
    assert shop.handle(Request("GET", "/item/42", {"color": "red"})).body == "item 42 red"
    assert shop.handle(Request("GET", "/item/42/")).status == 200
    assert shop.handle(Request("GET", "/buy")).status == 404
    response = shop.handle(Request("POST", "/buy", form={"item_id": "42"}))
    assert (response.status, response.headers["Location"], shop.state["bought"]) == (303, "/done", "42")


def test_fill_replaces_placeholders_escapes_and_blanks_unknown_names():
    values = {"name": "<Ann>", "form": {"email": "a@b.c"}}
    assert fill("Hi {{name}} {{ form.email }} {{missing}}!", values, escape=True) == "Hi &lt;Ann&gt; a@b.c !"
    assert fill("{{name}}", values) == "<Ann>"


def test_static_site_records_posts_and_shows_the_last_one():
    site = StaticSite({"/": "<p>{{greeting}} {{form.email}}</p>"}, {"greeting": "Hello"})
    assert site.handle(Request("GET", "/")).body == "<p>Hello </p>"
    assert site.handle(Request("POST", "/", form={"email": "ann@example.org"})).status == 303
    assert site.handle(Request("GET", "/")).body == "<p>Hello ann@example.org</p>"
    assert site.state == {"forms": {"/": [{"email": "ann@example.org"}]}, "visits": ["/", "/"]}
    assert site.handle(Request("GET", "/nope")).status == 404


def test_url_quotes_values_and_drops_none():
    assert url("/search", q="red mug", page=None, sort="Price: low") == "/search?q=red%20mug&sort=Price%3A%20low"
