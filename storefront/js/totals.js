// A cart's or an order's amounts, exactly as the server computed them.

import { el } from "./dom.js";

function row(label, value, testid) {
  return [el("dt", {}, label), el("dd", { dataset: { testid } }, value)];
}

/** Subtotal, shipping, tax and total of a cart or an order (an order has no shipping_method). */
export function totals(priced, formatMoney) {
  const money = (amount) => formatMoney(amount, priced.currency_code);
  const method = priced.shipping_method;
  let shipping = money(priced.shipping_total);
  if (method === null) shipping = "Chosen at checkout";
  else if (method) shipping = `${method.name}: ${shipping}`;
  return el(
    "dl",
    { class: "totals" },
    row("Subtotal", money(priced.subtotal), "subtotal"),
    row("Shipping", shipping, "shipping"),
    row("Tax", money(priced.tax_total), "tax"),
    row("Total", money(priced.total), "total"),
  );
}

/** The lines of a cart or an order: title, quantity × unit price, line subtotal. */
export function lineSummary(line, formatMoney, currencyCode) {
  const money = (amount) => formatMoney(amount, currencyCode);
  return [
    el("span", { class: "line-title" }, line.title),
    el("span", { class: "line-price" }, `${line.quantity} × ${money(line.unit_price)}`),
    el("span", { class: "line-subtotal", dataset: { testid: "line-subtotal" } }, money(line.subtotal)),
  ];
}
