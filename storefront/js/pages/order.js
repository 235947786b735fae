// #/orders/<id> : the order as the buyer sees it, read with the access token that `complete`
// returned (kept in this browser: without it the API answers 404, as for an unknown order).

import { api } from "../api.js";
import { el, fill, heading } from "../dom.js";
import { lineSummary, totals } from "../totals.js";

const STATUS_WORDS = {
  pending: "Received",
  completed: "Completed",
  canceled: "Canceled",
  captured: "Paid",
  authorized: "Authorized, not yet charged",
  refunded: "Refunded",
  partially_refunded: "Partly refunded",
  not_fulfilled: "Not shipped yet",
  fulfilled: "Packed, ready to ship",
  shipped: "Shipped",
};

const words = (status) => STATUS_WORDS[status] ?? status.replaceAll("_", " ");

function statusRow(label, status, testid) {
  return [el("dt", {}, label), el("dd", { dataset: { testid } }, words(status))];
}

export async function render({ shop, page, params: [orderId], setTitle }) {
  setTitle(`Order ${orderId}`);
  const token = shop.orderToken(orderId);
  if (token === null) {
    fill(
      page,
      heading("Order not found here"),
      el("p", {}, "Orders can be opened from the browser they were placed in (it keeps the order's access key)."),
    );
    return;
  }
  const { order } = await api.get(`/store/orders/${encodeURIComponent(orderId)}`, {
    headers: { "X-Order-Token": token },
  });
  const money = (amount) => shop.formatMoney(amount, order.currency_code);
  fill(
    page,
    heading("Order ", el("span", { dataset: { testid: "order-id" } }, order.id)),
    el("p", {}, `Placed ${new Date(order.created_at).toLocaleString()}`, order.email ? ` by ${order.email}` : ""),
    el(
      "dl",
      { class: "statuses" },
      statusRow("Order", order.status, "order-status"),
      statusRow("Payment", order.payment_status, "payment-status"),
      statusRow("Shipping", order.fulfillment_status, "fulfillment-status"),
    ),
    el("h2", {}, "Items"),
    el(
      "ul",
      { class: "line-items compact" },
      order.items.map((item) => el("li", {}, lineSummary(item, shop.formatMoney, order.currency_code))),
    ),
    totals(order, shop.formatMoney),
    el("p", { dataset: { testid: "paid-total" } }, `Paid so far: ${money(order.paid_total)}`),
    order.refunded_total > 0 ? el("p", {}, `Refunded: ${money(order.refunded_total)}`) : null,
  );
}
