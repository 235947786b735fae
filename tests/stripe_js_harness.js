// A storefront's card form, run in Node against the fake Stripe's Stripe.js: loads the script
// from GET <fake>/js.stripe.com/v3/ (with the little DOM it needs), mounts a card Element, and
// for each card in turn types it in as a shopper would and calls
// stripe.confirmCardPayment(clientSecret, {payment_method: {card: cardElement}}).
// Prints one line per attempt, "RESULT <json of what confirmCardPayment resolved to>".
//
//   node stripe_js_harness.js FAKE_URL PUBLISHABLE_KEY CLIENT_SECRET CARD_NUMBER...
'use strict';
const vm = require('vm');

const [fakeUrl, publishableKey, clientSecret, ...cards] = process.argv.slice(2);

class FakeNode {
  constructor(tagName) {
    this.tagName = tagName;
    this.attributes = {};
    this.children = [];
    this.parentElement = null;
    this.style = {};
    this.value = '';
  }
  setAttribute(name, value) { this.attributes[name] = String(value); }
  getAttribute(name) { return this.attributes[name]; }
  appendChild(child) { child.parentElement = this; this.children.push(child); return child; }
  removeChild(child) { this.children = this.children.filter((c) => c !== child); child.parentElement = null; }
  remove() { if (this.parentElement) this.parentElement.removeChild(this); }
  focus() {}
  addEventListener() {}
}

const cardForm = new FakeNode('div');
globalThis.window = globalThis;
window.Element = FakeNode;
globalThis.document = {
  currentScript: {src: `${fakeUrl}/js.stripe.com/v3/`},
  body: new FakeNode('body'),
  createElement: (tagName) => new FakeNode(tagName),
  getElementsByTagName: () => [],
  querySelector: (selector) => (selector === '#card-element' ? cardForm : null),
};

function type(placeholder, text) {
  const input = cardForm.children.find((child) => child.getAttribute('placeholder') === placeholder);
  input.value = text;
  input.oninput({target: input});
}

(async () => {
  const script = await (await fetch(`${fakeUrl}/js.stripe.com/v3/`)).text();
  vm.runInThisContext(script, {filename: 'js.stripe.com/v3'});
  const stripe = Stripe(publishableKey);
  for (const number of cards) {
    const card = stripe.elements().create('card');
    card.mount('#card-element');
    type('number', number);
    type('exp_month', '12');
    type('exp_year', '34');
    type('cvc', '123');
    type('postal_code', '10115');
    const result = await stripe.confirmCardPayment(clientSecret, {
      payment_method: {card, billing_details: {name: 'Grace Hopper'}},
    });
    console.log(`RESULT ${JSON.stringify(result)}`);
    card.destroy();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
