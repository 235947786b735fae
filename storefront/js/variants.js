// How a variant is offered in the shopper's region, from what the API says about it: its
// price there (null: not sold there) and its stock at the region's location.

/** The lowest price among the product's variants in the region, or null if none is sold there. */
export function lowestPrice(product) {
  const prices = product.variants.map((variant) => variant.calculated_price).filter(Boolean);
  if (prices.length === 0) return null;
  return prices.reduce((lowest, price) => (price.amount < lowest.amount ? price : lowest));
}

/** {canBuy, text}: whether "add to cart" makes sense, and the words for the shopper. */
export function availability(variant) {
  if (!variant.calculated_price) return { canBuy: false, text: "Not sold in this region" };
  const { available, allow_backorder: backorder } = variant.inventory;
  if (available > 5) return { canBuy: true, text: "In stock" };
  if (available > 0) return { canBuy: true, text: `In stock: only ${available} left` };
  if (backorder) return { canBuy: true, text: "Sold out: order now, it ships when restocked" };
  return { canBuy: false, text: "Out of stock" };
}

/** The line under a product's title in the catalog: "€15.00", "From €15.00" or why it is not for sale. */
export function priceLabel(product, formatMoney) {
  const lowest = lowestPrice(product);
  if (lowest === null) return "Not sold in this region";
  const amounts = new Set(product.variants.map((variant) => variant.calculated_price?.amount).filter((a) => a !== undefined));
  const formatted = formatMoney(lowest.amount, lowest.currency_code);
  return amounts.size > 1 ? `From ${formatted}` : formatted;
}
