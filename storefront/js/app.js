// The shop's entry point: one page, routed by the URL's hash (#/, #/products/<handle>, #/cart,
// #/checkout, #/orders/<id>), so every view can be reloaded and bookmarked with no server
// routing and no build step.

import { describeError } from "./api.js";
import { el, fill, heading } from "./dom.js";
import { Shop } from "./shop.js";
import * as cartPage from "./pages/cart.js";
import * as catalogPage from "./pages/catalog.js";
import * as checkoutPage from "./pages/checkout.js";
import * as orderPage from "./pages/order.js";
import * as productPage from "./pages/product.js";

const SITE_NAME = "Grace's Towel";

const ROUTES = [
  [/^\/$/, catalogPage.render],
  [/^\/products\/([^/]+)$/, productPage.render],
  [/^\/cart$/, cartPage.render],
  [/^\/checkout$/, checkoutPage.render],
  [/^\/orders\/([^/]+)$/, orderPage.render],
];

const main = document.getElementById("main");

function notFound({ page, setTitle }) {
  setTitle("Page not found");
  fill(page, heading("Page not found"), el("p", {}, el("a", { href: "#/" }, "Back to the towels")));
}

function errorBox() {
  return el("div", { class: "error", role: "alert", dataset: { testid: "error" }, hidden: true });
}

/** Shows any error as words in the page's alert box (and keeps it in the console for developers). */
function errorReporter(box) {
  return (error) => {
    console.error(error);
    fill(box, describeError(error));
    box.hidden = false;
  };
}

function currentRoute() {
  const [path, query = ""] = (location.hash.slice(1) || "/").split("?");
  for (const [pattern, render] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { render, params: match.slice(1).map(decodeURIComponent), query };
  }
  return { render: notFound, params: [], query };
}

function showCartCount(cart) {
  const count = cart ? cart.items.reduce((sum, item) => sum + item.quantity, 0) : 0;
  const link = document.querySelector("[data-testid=cart-link]");
  link.querySelector(".cart-count").textContent = `(${count})`;
  link.setAttribute("aria-label", `Cart, ${count} ${count === 1 ? "item" : "items"}`);
}

async function show(shop) {
  // Other in-page anchors (the skip link) are not routes.
  if (location.hash && !location.hash.startsWith("#/")) return;
  const { render, params, query } = currentRoute();
  const box = errorBox();
  const page = el("div", { class: "page" });
  fill(main, box, page);
  const context = {
    shop,
    page,
    params,
    query: new URLSearchParams(query),
    showError: errorReporter(box),
    clearError: () => {
      box.hidden = true;
      box.replaceChildren();
    },
    setTitle: (title) => {
      document.title = title ? `${title} · ${SITE_NAME}` : SITE_NAME;
    },
    reload: () => show(shop),
  };
  try {
    await render(context);
  } catch (error) {
    context.showError(error);
  }
  // Move focus to the new view's heading, as a page load would, for keyboard and screen readers.
  if (!page.isConnected) return; // the shopper has moved on meanwhile
  (page.querySelector("h1") ?? main).focus();
}

async function start() {
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  let shop;
  try {
    shop = await Shop.load();
  } catch (error) {
    const box = errorBox();
    fill(main, heading("The shop is unavailable"), box);
    errorReporter(box)(error);
    return;
  }
  shop.onCartChange(showCartCount);
  window.addEventListener("hashchange", () => show(shop));
  await Promise.all([show(shop), shop.loadCart().catch(() => null)]);
}

start();
