// #/ : the catalog in the shopper's region, with the region switcher and paging.

import { api } from "../api.js";
import { el, field, fill, heading } from "../dom.js";
import { priceLabel } from "../variants.js";

const PAGE_SIZE = 12;

function regionSwitcher({ shop, reload, showError }) {
  const select = el(
    "select",
    {
      id: "region",
      name: "region_id",
      dataset: { testid: "region" },
      on: {
        change: async () => {
          try {
            await shop.chooseRegion(select.value);
            await reload();
          } catch (error) {
            showError(error);
          }
        },
      },
    },
    shop.regions.map((region) =>
      el(
        "option",
        { value: region.id, selected: region.id === shop.region.id },
        `${region.name} (${region.currency_code.toUpperCase()})`,
      ),
    ),
  );
  return el(
    "div",
    { class: "region-switcher" },
    field(
      "Region",
      select,
      "Prices, stock and shipping are those of your region. A cart stays in its region: changing the region starts a new cart.",
    ),
  );
}

function productCard(product, formatMoney) {
  const image = product.images[0];
  return el(
    "li",
    { class: "product-card", dataset: { testid: "product" } },
    el(
      "a",
      { href: `#/products/${encodeURIComponent(product.handle)}` },
      image ? el("img", { src: image.url, alt: "", width: 320, height: 240, loading: "lazy" }) : null,
      el("h2", {}, product.title),
    ),
    el("p", { class: "price" }, priceLabel(product, formatMoney)),
  );
}

function pager(pageNumber, count) {
  const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
  if (pages === 1) return null;
  const link = (number, text, rel) => el("a", { href: `#/?page=${number}`, rel }, text);
  return el(
    "nav",
    { class: "pager", "aria-label": "Catalog pages" },
    pageNumber > 1 ? link(pageNumber - 1, "Previous page", "prev") : null,
    el("span", {}, `Page ${pageNumber} of ${pages}`),
    pageNumber < pages ? link(pageNumber + 1, "Next page", "next") : null,
  );
}

export async function render(context) {
  const { shop, page, query, setTitle } = context;
  setTitle("");
  const pageNumber = Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1);
  const list = el("ul", { class: "product-grid", "aria-label": "Towels" });
  fill(page, heading("Towels"), regionSwitcher(context), list);
  const params = new URLSearchParams({
    region_id: shop.region.id,
    limit: String(PAGE_SIZE),
    offset: String((pageNumber - 1) * PAGE_SIZE),
  });
  const { products, count } = await api.get(`/store/products?${params}`);
  if (products.length === 0) {
    fill(list, el("li", {}, "No towels here."));
    return;
  }
  fill(list, products.map((product) => productCard(product, shop.formatMoney)));
  const pages = pager(pageNumber, count);
  if (pages) list.after(pages);
}
