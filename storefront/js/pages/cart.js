// #/cart : the cart's lines (change a quantity, remove a line) and its totals from the server.

import { el, field, fill, heading, quantityInput } from "../dom.js";
import { lineSummary, totals } from "../totals.js";

function emptyCart(page) {
  fill(
    page,
    heading("Your cart"),
    el("p", { dataset: { testid: "cart-empty" } }, "Your cart is empty. ", el("a", { href: "#/" }, "Find a towel")),
  );
}

function lineItem(item, cart, context, redraw) {
  const { shop, clearError, showError } = context;
  const quantity = quantityInput(`quantity-${item.id}`, item.quantity);
  const change = async (method, body) => {
    clearError();
    try {
      redraw(await shop.changeCart(method, `line-items/${encodeURIComponent(item.id)}`, body), item.id);
    } catch (error) {
      showError(error);
    }
  };
  return el(
    "li",
    { class: "line-item", dataset: { testid: "line-item", sku: item.sku } },
    lineSummary(item, shop.formatMoney, cart.currency_code),
    el(
      "form",
      {
        class: "line-actions",
        on: {
          submit: (event) => {
            event.preventDefault();
            change("POST", { quantity: quantity.valueAsNumber });
          },
        },
      },
      field(["Quantity", el("span", { class: "visually-hidden" }, ` of ${item.title}`)], quantity),
      el("button", { type: "submit", dataset: { testid: "update-quantity" } }, "Update"),
      el(
        "button",
        {
          type: "button",
          class: "secondary",
          dataset: { testid: "remove" },
          "aria-label": `Remove ${item.title}`,
          on: { click: () => change("DELETE") },
        },
        "Remove",
      ),
    ),
  );
}

export async function render(context) {
  const { shop, page, setTitle } = context;
  setTitle("Your cart");
  const redraw = (cart, focusItemId) => {
    if (!cart || cart.items.length === 0) return emptyCart(page);
    fill(
      page,
      heading("Your cart"),
      el(
        "ul",
        { class: "line-items", "aria-label": "Items" },
        cart.items.map((item) => lineItem(item, cart, context, redraw)),
      ),
      totals(cart, shop.formatMoney),
      el("p", {}, el("a", { class: "button", href: "#/checkout", dataset: { testid: "checkout" } }, "Check out")),
    );
    // Keep a keyboard user where they were: on the line they just changed, or the heading.
    const target = focusItemId && page.querySelector(`#quantity-${CSS.escape(focusItemId)}`);
    if (focusItemId) (target || page.querySelector("h1")).focus();
  };
  redraw(await shop.loadCart());
}
