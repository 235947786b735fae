// #/checkout : contact and address, shipping method, card payment with Stripe.js, confirmation.
//
// The server prices everything: each step writes to the cart and shows the cart it answers.
// The payment session (one PaymentIntent per cart) is asked for when the shopper reaches the
// payment step, and again whenever the shipping method changes (same PaymentIntent, new
// amount). A declined card leaves the payment step open: the shopper corrects the card and
// pays the same PaymentIntent again.

import { api, ApiError, describeError } from "../api.js";
import { el, field, fill, heading } from "../dom.js";
import { loadStripe } from "../stripe.js";
import { lineSummary, totals } from "../totals.js";

const ADDRESS_FIELDS = [
  ["first_name", "First name", "given-name"],
  ["last_name", "Last name", "family-name"],
  ["address_1", "Address", "address-line1"],
  ["city", "City", "address-level2"],
  ["postal_code", "Postal code", "postal-code"],
];

// Stripe's statuses of a PaymentIntent whose card is already authorized (or captured).
const PAID_STATUSES = new Set(["requires_capture", "succeeded"]);

function textInput(name, type, autocomplete, value) {
  return el("input", { id: name, name, type, autocomplete, value: value ?? "", required: true });
}

class Checkout {
  constructor(context, cart) {
    this.context = context;
    this.shop = context.shop;
    this.cart = cart;
    this.region = this.shop.regionById(cart.region_id);
    this.session = null; // the payment session: {payment_intent_id, client_secret, amount, currency_code}
    this.card = null; // the Stripe.js card element, mounted once
    this.authorized = false; // Stripe.js confirmed the card: only `complete` is left to do
    this.summary = el("aside", { class: "summary", "aria-label": "Order summary" });
    this.shippingStep = el("section", { class: "step", "aria-labelledby": "shipping-heading", hidden: true });
    this.paymentStep = el("section", { class: "step", "aria-labelledby": "payment-heading", hidden: true });
  }

  money(amount) {
    return this.shop.formatMoney(amount, this.cart.currency_code);
  }

  /** Runs one step's server call with its button disabled; errors go to the page in words. */
  async step(button, action) {
    this.context.clearError();
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      this.context.showError(error);
    } finally {
      button.disabled = false;
    }
  }

  cartChanged(cart) {
    this.cart = this.shop.cartChanged(cart);
    fill(
      this.summary,
      el("h2", {}, "Order summary"),
      el(
        "ul",
        { class: "line-items compact" },
        cart.items.map((item) => el("li", {}, lineSummary(item, this.shop.formatMoney, cart.currency_code))),
      ),
      totals(cart, this.shop.formatMoney),
    );
  }

  draw() {
    this.cartChanged(this.cart);
    fill(
      this.context.page,
      heading("Checkout"),
      el(
        "div",
        { class: "checkout" },
        el("div", { class: "steps" }, this.detailsForm(), this.shippingStep, this.paymentStep),
        this.summary,
      ),
    );
  }

  // --- 1. contact and address ---------------------------------------------------------------

  detailsForm() {
    const address = this.cart.shipping_address ?? {};
    const country = el(
      "select",
      { id: "country_code", name: "country_code", autocomplete: "country", required: true },
      this.region.countries.map((option) =>
        el("option", { value: option.iso_2, selected: option.iso_2 === address.country_code }, option.name),
      ),
    );
    const submit = el("button", { type: "submit", dataset: { testid: "continue-to-shipping" } }, "Continue to shipping");
    const form = el(
      "form",
      { class: "step", "aria-labelledby": "details-heading" },
      el("h2", { id: "details-heading" }, "Contact and shipping address"),
      field("Email", textInput("email", "email", "email", this.cart.email)),
      el(
        "div",
        { class: "field-row" },
        ADDRESS_FIELDS.map(([name, label, autocomplete]) =>
          field(label, textInput(name, "text", autocomplete, address[name])),
        ),
      ),
      field("Country", country),
      submit,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      const { email, ...shippingAddress } = values;
      this.step(submit, async () => {
        const answer = await api.post(`/store/carts/${this.cart.id}`, { email, shipping_address: shippingAddress });
        this.cartChanged(answer.cart);
        await this.showShipping();
      });
    });
    return form;
  }

  // --- 2. shipping method -----------------------------------------------------------------

  async showShipping() {
    const { shipping_options: options } = await api.get(
      `/store/shipping-options?${new URLSearchParams({ cart_id: this.cart.id })}`,
    );
    const chosen = this.cart.shipping_method?.shipping_option_id;
    const next = el(
      "button",
      { type: "button", dataset: { testid: "continue-to-payment" }, disabled: !chosen },
      "Continue to payment",
    );
    const choices = options.map((option) => {
      const radio = el("input", {
        type: "radio",
        id: `shipping-${option.id}`,
        name: "shipping_option",
        value: option.id,
        checked: option.id === chosen,
        dataset: { testid: "shipping-option" },
      });
      radio.addEventListener("change", () =>
        this.step(next, async () => {
          this.paymentStep.hidden = true; // the amount changes: a new payment session is needed
          const answer = await api.post(`/store/carts/${this.cart.id}/shipping-methods`, { option_id: option.id });
          this.cartChanged(answer.cart);
        }),
      );
      return el(
        "div",
        { class: "choice" },
        radio,
        el("label", { for: radio.id }, `${option.name}: ${this.shop.formatMoney(option.amount, option.currency_code)}`),
      );
    });
    next.addEventListener("click", () => this.step(next, () => this.showPayment()));
    fill(
      this.shippingStep,
      el("h2", { id: "shipping-heading" }, "Shipping method"),
      el("fieldset", {}, el("legend", { class: "visually-hidden" }, "Shipping method"), choices),
      next,
    );
    this.shippingStep.hidden = false;
    this.paymentStep.hidden = true;
  }

  // --- 3. payment -------------------------------------------------------------------------

  async showPayment() {
    const stripe = await loadStripe(this.shop.config.stripe);
    this.session = (await api.post(`/store/carts/${this.cart.id}/payment-sessions`)).payment_session;
    this.authorized = false;
    if (this.card === null) this.drawPaymentStep(stripe);
    fill(this.payButton, `Pay ${this.shop.formatMoney(this.session.amount, this.session.currency_code)}`);
    this.paymentStep.hidden = false;
    this.paymentStep.querySelector("h2").focus();
  }

  drawPaymentStep(stripe) {
    const container = el("div", {
      id: "card-element",
      class: "card-element",
      role: "group",
      "aria-labelledby": "card-label",
      dataset: { testid: "card-element" },
    });
    this.paymentError = el("p", { class: "error", role: "alert", dataset: { testid: "payment-error" }, hidden: true });
    this.payButton = el("button", { type: "button", dataset: { testid: "pay" } }, "Pay");
    this.payButton.addEventListener("click", () => this.pay(stripe));
    const testMode = this.shop.config.stripe.publishable_key.startsWith("pk_test_");
    fill(
      this.paymentStep,
      el("h2", { id: "payment-heading", tabindex: "-1" }, "Payment"),
      testMode
        ? el(
            "p",
            { class: "hint" },
            "Test mode: pay with 4242 4242 4242 4242 (any future date, any CVC). 4000 0000 0000 0002 (or 0341) is declined.",
          )
        : null,
      el("p", { id: "card-label", class: "label" }, "Card"),
      container,
      this.paymentError,
      this.payButton,
    );
    this.card = stripe.elements().create("card");
    this.card.mount(container);
  }

  showPaymentError(message) {
    fill(this.paymentError, message);
    this.paymentError.hidden = false;
  }

  async pay(stripe) {
    this.paymentError.hidden = true;
    this.context.clearError();
    this.payButton.disabled = true;
    try {
      if (!this.authorized) {
        const result = await stripe.confirmCardPayment(this.session.client_secret, {
          payment_method: { card: this.card, billing_details: { email: this.cart.email } },
        });
        // A payment already confirmed (a second tab, a reload) is not an error: complete it.
        if (result.error && !PAID_STATUSES.has(result.error.payment_intent?.status)) {
          this.showPaymentError(result.error.message || "The card was not accepted. Try another card.");
          return;
        }
        this.authorized = true;
      }
      const completed = await api.post(`/store/carts/${this.cart.id}/complete`);
      this.confirmed(completed.order);
    } catch (error) {
      // 402 payment_failed: the card was refused after all; the same payment can take another card.
      if (error instanceof ApiError && error.code === "payment_failed") this.authorized = false;
      this.showPaymentError(describeError(error));
    } finally {
      this.payButton.disabled = false;
    }
  }

  // --- confirmation -------------------------------------------------------------------------

  confirmed(order) {
    this.shop.rememberOrder(order);
    this.shop.forgetCart(); // completed: the next purchase starts a new cart
    this.context.setTitle("Thank you");
    const title = heading("Thank you for your order");
    fill(
      this.context.page,
      title,
      el("p", {}, "Your order number is ", el("strong", { dataset: { testid: "order-id" } }, order.id), "."),
      el("p", {}, `Paid: ${this.shop.formatMoney(order.total, order.currency_code)}.`),
      order.email ? el("p", {}, `A confirmation email is on its way to ${order.email}.`) : null,
      el(
        "p",
        {},
        el("a", { href: `#/orders/${encodeURIComponent(order.id)}`, dataset: { testid: "order-link" } }, "View your order"),
      ),
    );
    title.focus();
  }
}

export async function render(context) {
  const { shop, page, setTitle } = context;
  setTitle("Checkout");
  const cart = await shop.loadCart();
  if (!cart || cart.items.length === 0) {
    fill(page, heading("Checkout"), el("p", {}, "Your cart is empty. ", el("a", { href: "#/" }, "Find a towel")));
    return;
  }
  new Checkout(context, cart).draw();
}
