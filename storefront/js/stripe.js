// Stripe.js, loaded once from where GET /store/config says: Stripe's own in production,
// localstripe's fake of it in make dev and the tests (same API: elements, confirmCardPayment).

let stripe = null;

export function loadStripe({ js_url: url, publishable_key: publishableKey }) {
  stripe ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.onload = () =>
      typeof window.Stripe === "function"
        ? resolve(window.Stripe(publishableKey))
        : reject(new Error(`${url} did not define Stripe`));
    script.onerror = () => {
      stripe = null; // let the next attempt try again
      reject(new Error(`Stripe.js could not be loaded from ${url}. Check your connection and try again.`));
    };
    document.head.append(script);
  });
  return stripe;
}
