"""A small shop API in plain Python, offered as LangChain tools, and a hiper_gym env over those tools.

`ShopAPI` keeps stock, a cart and placed orders; `ShopAPI.tools()` returns `check_stock`, `add_to_cart`, `view_cart`
and `checkout` as LangChain tools. `ShopToolsEnv` (registered as `hiper/ShopTools-v0`) is a `ToolEnvironment` over a
fresh shop per episode whose task is "buy Q ITEM": it is won when exactly that order was placed, and ends when the
policy calls `finish`. The expert (`expert_step`) checks the stock, fills the cart, checks out and finishes; the
env offers it (`ShopToolsEnv.expert`) with its task list, so the trainer uses it for the SFT warm start
(`python -m training.run --plugin examples.shop_tools --config examples/shop_tiny.yaml`).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from langchain_core.tools import BaseTool, tool

from hiper_gym.core import Milestone, register_text_env
from integrations.langchain.tools_env import ToolEnvironment, render_action

Item = Literal["apple", "banana", "milk", "bread", "eggs", "coffee"]
Quantity = Literal[1, 2, 3]
ITEMS: tuple[str, ...] = get_args(Item)
PRICES = {"apple": 0.5, "banana": 0.25, "milk": 1.2, "bread": 2.0, "eggs": 3.0, "coffee": 6.5}
TASKS = [(item, quantity) for item in ITEMS for quantity in get_args(Quantity)]
ENV_ID = "hiper/ShopTools-v0"


def task_text(item: str, quantity: int) -> str:
    """The instruction of one task."""
    return f"buy {quantity} {item}"


class ShopAPI:
    """A shop with stock, a cart and orders; its methods are the tools."""

    def __init__(self, stock: dict[str, int] | None = None):
        self.initial_stock = dict(stock or {item: 5 for item in ITEMS})
        self.reset()

    def reset(self) -> None:
        """Restock and empty the cart and the order list."""
        self.stock = dict(self.initial_stock)
        self.cart: dict[str, int] = {}
        self.orders: list[dict[str, int]] = []
        self.checked: set[str] = set()

    def tools(self) -> list[BaseTool]:
        """The shop's operations as LangChain tools."""
        shop = self

        @tool
        def check_stock(item: Item) -> str:
            """Tell how many units of an item the shop has and its price."""
            shop.checked.add(item)
            return f"{item}: {shop.stock[item]} in stock at ${PRICES[item]:.2f} each"

        @tool
        def add_to_cart(item: Item, quantity: Quantity) -> str:
            """Put a quantity of an item in the cart."""
            if shop.stock[item] - shop.cart.get(item, 0) < quantity:
                return f"only {shop.stock[item] - shop.cart.get(item, 0)} {item} left; nothing added"
            shop.cart[item] = shop.cart.get(item, 0) + quantity
            return f"added {quantity} {item} to the cart; cart: {shop.describe_cart()}"

        @tool
        def view_cart() -> str:
            """Show what the cart holds and its total."""
            return f"cart: {shop.describe_cart()}"

        @tool
        def checkout() -> str:
            """Pay for the cart and place the order."""
            if not shop.cart:
                return "the cart is empty; add items first"
            order, shop.cart = dict(shop.cart), {}
            for item, quantity in order.items():
                shop.stock[item] -= quantity
            shop.orders.append(order)
            total = sum(PRICES[i] * q for i, q in order.items())
            return f"order {len(shop.orders)} placed: {', '.join(f'{q} {i}' for i, q in order.items())}, total ${total:.2f}"

        return [check_stock, add_to_cart, view_cart, checkout]

    def describe_cart(self) -> str:
        """The cart as text."""
        if not self.cart:
            return "empty"
        total = sum(PRICES[i] * q for i, q in self.cart.items())
        return ", ".join(f"{q} {i}" for i, q in self.cart.items()) + f" (total ${total:.2f})"

    def placed(self, item: str, quantity: int) -> bool:
        """Whether exactly this order was placed."""
        return {item: quantity} in self.orders


class ShopToolsEnv(ToolEnvironment):
    """`hiper/ShopTools-v0`: buy Q ITEM through the shop's tools; reset with `options={"task_index": i}` or
    `{"item": ..., "quantity": ...}`."""

    def __init__(self, **kwargs: Any):
        self.shop = ShopAPI()
        self.target: tuple[str, int] = TASKS[0]
        super().__init__(
            self.shop.tools(),
            success=lambda env: env.shop.placed(*env.target),
            milestones=lambda env: env.progress(),
            stop_on_success=False,  # the episode ends on finish, as it does in a LangChain pipeline
            **kwargs,
        )

    def _reset_episode(self, options: dict[str, Any]) -> str:
        if "item" in options:
            self.target = (str(options["item"]), int(options.get("quantity", 1)))
        else:
            self.target = TASKS[int(options.get("task_index", 0)) % len(TASKS)]
        self.shop.reset()
        return super()._reset_episode({"task": task_text(*self.target)})

    def split_options(self, split: str) -> list[dict[str, Any]]:
        """The 18 tasks, whatever the split (a demo, not a benchmark)."""
        return [{"task_index": i} for i in range(len(TASKS))]

    def expert(self, noise: float = 0.0, rng: Any = None) -> Any:
        """`expert_step`: check the stock, fill the cart, check out, finish."""
        if noise > 0:
            raise ValueError(f"sft.expert_noise={noise}: the shop expert has no noisy variant; set it to 0")
        return expert_step

    def progress(self) -> list[Milestone]:
        """Checked the stock, cart holds the order, order placed."""
        item, quantity = self.target
        return [
            Milestone("check the stock", item in self.shop.checked),
            Milestone("fill the cart", self.shop.cart.get(item) == quantity or self.shop.placed(item, quantity)),
            Milestone("place the order", self.shop.placed(item, quantity)),
        ]


def expert_step(env: Any) -> tuple[str, str]:
    """The expert's next (action, subgoal) on a ShopToolsEnv."""
    inner: ShopToolsEnv = env.unwrapped
    item, quantity = inner.target
    if item not in inner.shop.checked:
        return render_action("check_stock", {"item": item}), f"check the {item} stock"
    if not inner.shop.placed(item, quantity) and inner.shop.cart.get(item) != quantity:
        return render_action("add_to_cart", {"item": item, "quantity": quantity}), f"put {quantity} {item} in the cart"
    if not inner.shop.placed(item, quantity):
        return "checkout", "pay for the order"
    return render_action("finish", {"answer": f"bought {quantity} {item}"}), "report the purchase"


register_text_env("ShopTools-v0", f"{__name__}:ShopToolsEnv", max_episode_steps=8)
