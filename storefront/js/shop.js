// What the pages share: the store's configuration and regions, the shopper's region, and the
// cart, whose ID lives in localStorage so it survives a reload. A cart the API says is
// completed (or gone) is forgotten, and the next "add to cart" starts a fresh one.

import { api, ApiError } from "./api.js";
import { moneyFormatter } from "./money.js";

const CART_KEY = "gracestowel.cart_id";
const REGION_KEY = "gracestowel.region_id";
const ORDER_TOKENS_KEY = "gracestowel.order_tokens";

const STALE_CART_CODES = new Set(["cart_not_found", "cart_completed"]);

function readJson(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

export class Shop {
  static async load() {
    const [config, { regions }] = await Promise.all([api.get("/store/config"), api.get("/store/regions")]);
    return new Shop(config, regions);
  }

  constructor(config, regions) {
    this.config = config;
    this.regions = regions;
    this.formatMoney = moneyFormatter(config.currencies);
    this.cartListeners = [];
  }

  // --- region -----------------------------------------------------------------------------

  get region() {
    const stored = localStorage.getItem(REGION_KEY);
    return this.regions.find((region) => region.id === stored) ?? this.regions[0];
  }

  regionById(id) {
    return this.regions.find((region) => region.id === id);
  }

  /** A cart is priced in its region's currency and cannot move: another region starts a new cart. */
  async chooseRegion(regionId) {
    const cart = await this.loadCart();
    if (cart && cart.region_id !== regionId) this.forgetCart();
    localStorage.setItem(REGION_KEY, regionId);
  }

  // --- cart -------------------------------------------------------------------------------

  get cartId() {
    return localStorage.getItem(CART_KEY);
  }

  onCartChange(listener) {
    this.cartListeners.push(listener);
  }

  cartChanged(cart) {
    if (cart === null || cart.completed_at) {
      localStorage.removeItem(CART_KEY);
      cart = null;
    } else {
      localStorage.setItem(CART_KEY, cart.id);
      localStorage.setItem(REGION_KEY, cart.region_id); // the cart's region wins
    }
    for (const listener of this.cartListeners) listener(cart);
    return cart;
  }

  forgetCart() {
    return this.cartChanged(null);
  }

  /** The shopper's open cart, or null (none yet, completed, or unknown to the API). */
  async loadCart() {
    if (!this.cartId) return this.cartChanged(null);
    try {
      return this.cartChanged((await api.get(`/store/carts/${encodeURIComponent(this.cartId)}`)).cart);
    } catch (error) {
      if (error instanceof ApiError && STALE_CART_CODES.has(error.code)) return this.forgetCart();
      throw error;
    }
  }

  async addToCart(variantId, quantity) {
    const add = async () => {
      const cart = (await this.loadCart()) ?? (await this.createCart());
      return this.changeCart("POST", "line-items", { variant_id: variantId, quantity }, cart.id);
    };
    try {
      return await add();
    } catch (error) {
      // Completed in another tab meanwhile: start a fresh cart once.
      if (!(error instanceof ApiError && STALE_CART_CODES.has(error.code))) throw error;
      this.forgetCart();
      return add();
    }
  }

  async createCart() {
    return this.cartChanged((await api.post("/store/carts", { region_id: this.region.id })).cart);
  }

  /** One write to the cart (`POST /store/carts/{id}/<path>`, or the cart itself); answers the new cart. */
  async changeCart(method, path, body, cartId = this.cartId) {
    const url = `/store/carts/${encodeURIComponent(cartId)}${path ? `/${path}` : ""}`;
    const answer = method === "DELETE" ? await api.delete(url) : await api.post(url, body);
    return this.cartChanged(answer.cart);
  }

  // --- orders -----------------------------------------------------------------------------

  /** Keeps the order's access token: only it opens `GET /store/orders/{id}`. */
  rememberOrder(order) {
    const tokens = readJson(ORDER_TOKENS_KEY, {});
    tokens[order.id] = order.access_token;
    localStorage.setItem(ORDER_TOKENS_KEY, JSON.stringify(tokens));
  }

  orderToken(orderId) {
    return readJson(ORDER_TOKENS_KEY, {})[orderId] ?? null;
  }
}
