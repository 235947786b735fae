// #/products/<handle> : one product in the shopper's region: images, variant, availability, add to cart.

import { api } from "../api.js";
import { el, field, fill, heading, quantityInput } from "../dom.js";
import { availability } from "../variants.js";

function variantLabel(variant, formatMoney) {
  const price = variant.calculated_price;
  const offer = price ? formatMoney(price.amount, price.currency_code) : "not sold in this region";
  return `${variant.title}: ${offer}`;
}

function gallery(product) {
  if (product.images.length === 0) return null;
  const count = product.images.length;
  return el(
    "ul",
    { class: "gallery", "aria-label": "Pictures" },
    product.images.map((image, index) =>
      el(
        "li",
        {},
        el("img", {
          src: image.url,
          alt: `${product.title}, picture ${index + 1} of ${count}`,
          width: 480,
          height: 360,
        }),
      ),
    ),
  );
}

export async function render({ shop, page, params: [handle], setTitle, showError, clearError }) {
  const query = new URLSearchParams({ region_id: shop.region.id });
  const { product } = await api.get(`/store/products/${encodeURIComponent(handle)}?${query}`);
  setTitle(product.title);

  const variants = new Map(product.variants.map((variant) => [variant.id, variant]));
  const firstBuyable = product.variants.find((variant) => availability(variant).canBuy) ?? product.variants[0];
  const variantSelect = el(
    "select",
    { id: "variant", name: "variant_id", dataset: { testid: "variant" } },
    product.variants.map((variant) =>
      el(
        "option",
        { value: variant.id, selected: variant === firstBuyable },
        variantLabel(variant, shop.formatMoney),
      ),
    ),
  );
  const price = el("p", { class: "price", dataset: { testid: "price" } });
  const stock = el("p", { class: "availability", dataset: { testid: "availability" } });
  const quantity = quantityInput("quantity", 1);
  const addButton = el("button", { type: "submit", dataset: { testid: "add-to-cart" } }, "Add to cart");
  const added = el("p", { class: "status", role: "status", dataset: { testid: "added" } });

  const showVariant = () => {
    const variant = variants.get(variantSelect.value);
    const offer = availability(variant);
    const amount = variant.calculated_price;
    fill(price, amount ? shop.formatMoney(amount.amount, amount.currency_code) : "");
    fill(stock, offer.text);
    addButton.disabled = !offer.canBuy;
  };
  variantSelect.addEventListener("change", showVariant);

  const addToCart = async (event) => {
    event.preventDefault();
    clearError();
    fill(added);
    const variant = variants.get(variantSelect.value);
    addButton.disabled = true;
    try {
      await shop.addToCart(variant.id, quantity.valueAsNumber);
      fill(
        added,
        `Added ${quantity.valueAsNumber} × ${product.title} (${variant.title}) to your cart. `,
        el("a", { href: "#/cart" }, "View your cart"),
      );
    } catch (error) {
      showError(error);
    } finally {
      showVariant();
    }
  };

  fill(
    page,
    el("p", { class: "breadcrumb" }, el("a", { href: "#/" }, "All towels")),
    el(
      "article",
      { class: "product-page" },
      gallery(product),
      el(
        "div",
        { class: "product-details" },
        heading(product.title),
        el("p", {}, product.description),
        el(
          "form",
          { class: "add-to-cart", on: { submit: addToCart } },
          field("Variant", variantSelect),
          price,
          stock,
          field("Quantity", quantity),
          addButton,
        ),
        added,
      ),
    ),
  );
  showVariant();
}
