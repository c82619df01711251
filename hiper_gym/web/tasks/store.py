"""store-checkout: search and filter a store, add two given items to the cart, then check out.

One item is "the cheapest <kind>" (several brands, prices drawn per episode: sort or compare), the other "a
<colour> mug from the <department> department" ("mug" finds coffee mugs and camping mugs: filter by department).
Milestones: searched, first_item_in_cart, second_item_in_cart, opened_checkout, order_placed. Success: one order
holding exactly the two items, in the given name.
"""

from __future__ import annotations

import random
from typing import Any

from hiper_gym.web.checks import Context
from hiper_gym.web.layout import esc, form, messages, page, select_input, text_input
from hiper_gym.web.site import Request, Response, Site, redirect, route, url
from hiper_gym.web.task import WebTask
from hiper_gym.web.tasks.expert_steps import choose, click, first, has, type_into

SITE_NAME = "Corner Store"
DEPARTMENTS = ["All departments", "Electronics", "Kitchen", "Office", "Outdoors"]
SORTS = ["Relevance", "Price: low to high", "Price: high to low"]
BRANDS = ["Voltix", "Cablo", "Linkr", "Norde", "Pixa"]
CHEAP_KINDS = {  # kind -> department; three brands each, so "the cheapest" needs a comparison
    "USB-C Cable": "Electronics",
    "Wireless Mouse": "Electronics",
    "Phone Charger": "Electronics",
    "Spiral Notebook": "Office",
    "Desk Lamp": "Office",
}
MUGS = {"Coffee Mug": "Kitchen", "Camping Mug": "Outdoors"}
COLOURS = ["Red", "Blue", "Green", "Black"]
OTHERS = [("Water Bottle", "Outdoors"), ("Chef Knife", "Kitchen"), ("Stapler", "Office"), ("Backpack", "Outdoors")]
ADDRESS = "12 Harbour Road"
NAMES = ["Ana Silva", "Ben Carter", "Cleo Park", "Dev Patel", "Eva Novak", "Finn Walsh", "Gia Rossi"]


def catalogue(rng: random.Random) -> list[dict[str, Any]]:
    """The store's products with prices drawn from `rng` (ids are positions)."""
    items: list[tuple[str, str]] = []
    for kind, dept in CHEAP_KINDS.items():
        items += [(f"{brand} {kind}", dept) for brand in rng.sample(BRANDS, 3)]
    for kind, dept in MUGS.items():
        items += [(f"{colour} {kind}", dept) for colour in COLOURS]
    items += [(f"{rng.choice(BRANDS)} {kind}", dept) for kind, dept in OTHERS]
    prices = rng.sample(range(499, 4999, 25), len(items))  # distinct, so "the cheapest" is one item
    return [{"id": i, "name": n, "dept": d, "price": p / 100} for i, ((n, d), p) in enumerate(zip(items, prices))]


def draw(rng: random.Random) -> dict[str, Any]:
    """The catalogue, the two target items and the buyer's name."""
    products = catalogue(rng)
    kind = rng.choice(list(CHEAP_KINDS))
    cheapest = min((p for p in products if p["name"].endswith(kind)), key=lambda p: p["price"])
    mug_kind, colour = rng.choice(list(MUGS)), rng.choice(COLOURS)
    mug = next(p for p in products if p["name"] == f"{colour} {mug_kind}")
    return dict(
        products=products,
        kind=kind,
        first=cheapest["id"],
        colour=colour,
        mug_dept=MUGS[mug_kind],
        second=mug["id"],
        buyer=rng.choice(NAMES),
    )


def _matches(product: dict[str, Any], query: str) -> bool:
    words = [w.rstrip("s") for w in query.lower().replace("-", " ").split()]
    name = product["name"].lower().replace("-", " ")
    return all(w in name for w in words)


class StoreSite(Site):
    """The store of one episode; state: cart (product ids in order), searches, checkout_visits, orders."""

    def __init__(self, params: dict[str, Any]):
        super().__init__(params)
        self.products = params["products"]
        self.state.update(cart=[], searches=[], checkout_visits=0, orders=[])

    def _page(self, title: str, body: str) -> Response:
        nav = [("Home", "/"), (f"Cart ({len(self.state['cart'])})", "/cart")]
        return Response(page(title, body, SITE_NAME, nav, "#2b7a4b"))

    def _search_form(self, q: str = "", dept: str = DEPARTMENTS[0], sort: str = SORTS[0]) -> str:
        inner = (
            '<div class="row"><div>'
            + text_input("q", "Search products", q, "search")
            + "</div><div>"
            + select_input("dept", "Department", DEPARTMENTS, dept)
            + "</div><div>"
            + select_input("sort", "Sort by", SORTS, sort)
            + '</div><div><button type="submit">Search</button></div></div>'
        )
        return form("/search", inner, "get")

    def _item_list(self, ids: list[int]) -> str:
        if not ids:
            return "<p>No items.</p>"
        items = "".join(f"<li>{esc(self.products[i]['name'])}: ${self.products[i]['price']:.2f}</li>" for i in ids)
        return f"<ul>{items}</ul><p><b>Total: ${sum(self.products[i]['price'] for i in ids):.2f}</b></p>"

    @route("GET", "/")
    def home(self, request: Request) -> Response:
        body = "<h1>Find what you need</h1>" + self._search_form()
        body += '<p class="muted">Free delivery on orders over $50. Returns within 30 days.</p>'
        return self._page("Corner Store", body)

    @route("GET", "/search")
    def search(self, request: Request) -> Response:
        q, dept, sort = request.get("q"), request.get("dept", DEPARTMENTS[0]), request.get("sort", SORTS[0])
        self.state["searches"].append({"q": q, "dept": dept, "sort": sort})
        hits = [p for p in self.products if _matches(p, q) and dept in (DEPARTMENTS[0], p["dept"])]
        if sort != SORTS[0]:
            hits.sort(key=lambda p: p["price"], reverse=sort == SORTS[2])
        body = self._search_form(q, dept, sort)
        added = request.query.get("added")
        if added is not None and added.isdigit() and int(added) < len(self.products):
            body += messages(notice=f"Added {self.products[int(added)]['name']} to your cart.")
        body += f"<h2>{len(hits)} result{'s' if len(hits) != 1 else ''}</h2>"
        back = url("/search", q=q, dept=dept, sort=sort)
        for p in hits:
            button = (
                f'<input type="hidden" name="id" value="{p["id"]}"><input type="hidden" name="back" value="{esc(back)}">'
                f'<button type="submit" aria-label="Add {esc(p["name"])} to cart">Add to cart</button>'
            )
            body += (
                f'<div class="card"><b>{esc(p["name"])}</b> <span class="muted">{esc(p["dept"])}</span>'
                f"<div>${p['price']:.2f}</div>{form('/cart/add', button)}</div>"
            )
        return self._page(f"Search: {q}", body)

    @route("POST", "/cart/add")
    def add(self, request: Request) -> Response:
        product = request.get("id")
        if product.isdigit() and int(product) < len(self.products):
            self.state["cart"].append(int(product))
        back = request.get("back") or "/"
        return redirect(back + ("&" if "?" in back else "?") + f"added={product}")

    @route("GET", "/cart")
    def cart(self, request: Request) -> Response:
        lines = self.state["cart"]
        body = "<h1>Your cart</h1>"
        if not lines:
            body += '<p>Your cart is empty.</p><p><a href="/">Continue shopping</a></p>'
            return self._page("Cart", body)
        rows = ""
        for position, pid in enumerate(lines):
            p = self.products[pid]
            remove = f'<button class="secondary" aria-label="Remove {esc(p["name"])}">Remove</button>'
            rows += f"<tr><td>{esc(p['name'])}</td><td>${p['price']:.2f}</td><td>{form(f'/cart/remove/{position}', remove)}</td></tr>"
        total = sum(self.products[pid]["price"] for pid in lines)
        body += f"<table><tr><th>Item</th><th>Price</th><th></th></tr>{rows}</table><p><b>Total: ${total:.2f}</b></p>"
        body += '<p><a class="button" href="/checkout">Checkout</a> <a href="/">Continue shopping</a></p>'
        return self._page("Cart", body)

    @route("POST", "/cart/remove/<position>")
    def remove(self, request: Request, position: str) -> Response:
        if position.isdigit() and int(position) < len(self.state["cart"]):
            del self.state["cart"][int(position)]
        return redirect("/cart")

    @route("GET", "/checkout")
    def checkout_page(self, request: Request) -> Response:
        self.state["checkout_visits"] += 1
        errors = [e for e in request.query.get("errors", "").split("|") if e]
        items = self._item_list(self.state["cart"])
        inner = text_input("name", "Full name", request.query.get("name", "")) + text_input(
            "address", "Delivery address", request.query.get("address", "")
        )
        body = f"<h1>Checkout</h1><h2>Items</h2>{items}" + messages(errors)
        body += form("/checkout", inner + '<p><button type="submit">Place order</button></p>')
        return self._page("Checkout", body)

    @route("POST", "/checkout")
    def place_order(self, request: Request) -> Response:
        name, address = request.get("name").strip(), request.get("address").strip()
        errors = [msg for msg, bad in [("Your cart is empty.", not self.state["cart"]),
                                       ("Please enter your full name.", not name),
                                       ("Please enter a delivery address.", not address)] if bad]  # fmt: skip
        if errors:
            return redirect(url("/checkout", errors="|".join(errors), name=name, address=address))
        self.state["orders"].append({"items": list(self.state["cart"]), "name": name, "address": address})
        self.state["cart"] = []
        return redirect(f"/order/{len(self.state['orders'])}")

    @route("GET", "/order/<number>")
    def order(self, request: Request, number: str) -> Response:
        if not number.isdigit() or not 0 < int(number) <= len(self.state["orders"]):
            return redirect("/")
        placed = self.state["orders"][int(number) - 1]
        body = f"<h1>Thank you, {esc(placed['name'])}!</h1>" + messages(notice=f"Order #{number} is placed.")
        body += self._item_list(placed["items"]) + f"<p>Delivery to: {esc(placed['address'])}</p>"
        return self._page("Order placed", body)


def _in_cart(key: str) -> Any:
    def check(ctx: Context) -> bool:
        ordered = [pid for order in ctx.state["orders"] for pid in order["items"]]
        return ctx.params[key] in ctx.state["cart"] + ordered

    return check


def _success(ctx: Context) -> bool:
    wanted = sorted([ctx.params["first"], ctx.params["second"]])
    return any(
        sorted(o["items"]) == wanted
        and o["name"].lower() == ctx.params["buyer"].lower()
        and ADDRESS.lower() in o["address"].lower()
        for o in ctx.state["orders"]
    )


def instruction(p: dict[str, Any]) -> str:
    """The episode's instruction."""
    return (
        f"Buy two things: the cheapest {p['kind'].lower()} in the store, and a {p['colour'].lower()} mug from the "
        f"{p['mug_dept']} department. Put both in the cart (nothing else) and check out in the name {p['buyer']} "
        f"with delivery to {ADDRESS}."
    )


def expert() -> Any:
    """Search (sorted by price, or filtered by department), add each item, then check out."""

    def act(env: Any) -> tuple[str, str]:
        env = env.unwrapped
        page, p, state = env.page, env.params, env.site.state
        products = p["products"]
        for key, query, dept, sort in (
            ("first", p["kind"].lower(), DEPARTMENTS[0], SORTS[1]),
            ("second", "mug", p["mug_dept"], SORTS[0]),
        ):
            if p[key] in state["cart"]:
                continue
            label = f"search for {query}" if key == "first" else f"find the {p['colour'].lower()} mug"
            name = products[p[key]]["name"]
            shown = page.query
            if page.path.startswith("/search") and (shown.get("q"), shown.get("dept"), shown.get("sort")) == (
                query,
                dept,
                sort,
            ):
                wanted = f"Add {name} to cart"
                if has(page, wanted, "button"):
                    return click(page, wanted, "button"), f"add the {name.lower()} to the cart"
            if not has(page, "Search products", "textbox"):
                return click(page, "Home", "link"), label
            step = first(
                type_into(page, "Search products", query),
                choose(page, "Department", dept),
                choose(page, "Sort by", sort),
            )
            return step or click(page, "Search", "button"), label
        if page.path.startswith("/checkout"):
            step = first(type_into(page, "Full name", p["buyer"]), type_into(page, "Delivery address", ADDRESS))
            return step or click(page, "Place order", "button"), "check out"
        if page.path.startswith("/cart"):
            return click(page, "Checkout", "link"), "check out"
        return click(page, contains="Cart (", role="link"), "check out"

    return act


TASK = WebTask(
    name="store-checkout",
    description="search and filter a store, add two items to the cart, check out",
    site=StoreSite,
    params=draw,
    instruction=instruction,
    start_url="/",
    milestones=[
        ("searched", lambda ctx: bool(ctx.state["searches"])),
        ("first_item_in_cart", _in_cart("first")),
        ("second_item_in_cart", _in_cart("second")),
        ("opened_checkout", lambda ctx: ctx.state["checkout_visits"] > 0),
        ("order_placed", lambda ctx: bool(ctx.state["orders"])),
    ],
    success=_success,
    done=lambda ctx: bool(ctx.state["orders"]),
    max_steps=30,
    expert=expert,
)
