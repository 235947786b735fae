// Building DOM nodes without innerHTML: product titles and addresses come from the API and
// must never be parsed as markup.

/**
 * el("a", {href: "#/cart", dataset: {testid: "cart-link"}}, "Cart")
 * Attributes: `class`, `dataset` (an object), `on` ({event: handler}), booleans (true sets the
 * attribute, false or null leaves it out), anything else as a string attribute.
 * Children: nodes, strings, or null/false (skipped); arrays are flattened.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "on") {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

/** Replace everything inside `node` with `children`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A label and its input/select, joined by `for`/`id`; `hint` adds a description read with it. */
export function field(labelText, control, hint) {
  const hintNode = hint ? el("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintNode) control.setAttribute("aria-describedby", hintNode.id);
  return el("div", { class: "field" }, el("label", { for: control.id }, labelText), control, hintNode);
}

/** A view's h1: focusable from script, so a new view can move focus to it. */
export function heading(...children) {
  return el("h1", { tabindex: "-1" }, ...children);
}

/** A whole-number quantity input (the server refuses anything else and enforces the maximum). */
export function quantityInput(id, value) {
  return el("input", { id, name: "quantity", type: "number", inputmode: "numeric", min: 1, step: 1, value, required: true });
}
