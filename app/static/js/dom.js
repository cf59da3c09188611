// Building the page with DOM methods only: text always goes in as text, never as HTML.

import { friendlyErrors } from "./messages.js";

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Create an element. `props` sets properties (className, id, hidden, …), except:
 * `attrs` (attributes), `dataset`, `text` (textContent) and `on` (event listeners).
 * Children are nodes or strings (added as text nodes); null/false are skipped.
 */
export function el(tag, props = {}, ...children) {
  return build(document.createElement(tag), props, children);
}

export function svg(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), { attrs }, children);
}

function build(node, props, children) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined) continue;
    if (key === "attrs") {
      for (const [name, attr] of Object.entries(value)) {
        if (attr === null || attr === undefined || attr === false) continue;
        node.setAttribute(name, attr === true ? "" : String(attr));
      }
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key === "text") {
      node.textContent = value;
    } else if (key === "on") {
      for (const [event, listener] of Object.entries(value)) node.addEventListener(event, listener);
    } else {
      node[key] = value;
    }
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The page's elements, each under the name it is given: `byIds({ form: "login-form" }).form`. */
export function byIds(ids) {
  return Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, document.getElementById(id)]));
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

let uniqueCounter = 0;
export function uniqueId(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

/**
 * Show an API error body on a form: each field's messages in the element marked
 * `data-errors-for="<field>"` (next to that field), everything else at the top,
 * in plain words for what the form's `data-messages` names (./messages.js).
 */
export function showFormErrors(form, body) {
  clearFormErrors(form);
  const errors = friendlyErrors(form.dataset.messages, body && body.errors);
  const top = [];
  const targets = new Map();
  for (const node of form.querySelectorAll("[data-errors-for]")) {
    for (const name of node.dataset.errorsFor.split(" ")) targets.set(name, node);
  }
  let firstInvalid = null;
  for (const [field, messages] of Object.entries(errors)) {
    const list = Array.isArray(messages) ? messages : [String(messages)];
    const target = field !== "non_field_errors" ? targets.get(field) : null;
    if (!target) {
      top.push(...list);
      continue;
    }
    target.hidden = false;
    append(target, [target.textContent ? " " : "", list.join(" ")]);
    const input = form.querySelector(`[aria-describedby~="${target.id}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      firstInvalid = firstInvalid || input;
    }
  }
  if (!top.length && !Object.keys(errors).length) top.push((body && body.message) || "Something went wrong.");
  const formBox = targets.get("form");
  if (formBox && top.length) {
    formBox.hidden = false;
    append(formBox, top.length === 1 ? [top[0]] : [el("ul", {}, ...top.map((message) => el("li", { text: message })))]);
  }
  if (firstInvalid) firstInvalid.focus();
  else if (formBox && top.length) formBox.scrollIntoView({ block: "nearest" });
}

export function clearFormErrors(form) {
  for (const node of form.querySelectorAll("[data-errors-for]")) {
    node.hidden = true;
    clear(node);
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

let announceTimer = null;
/**
 * Say something in the polite live region (and show it briefly as a toast).
 * `action` `{label, run}` adds a button to the toast (Undo, say); the toast then stays longer.
 */
export function announce(message, kind = "info", action = null) {
  const region = document.getElementById("announcer");
  clear(region);
  region.dataset.kind = kind;
  // A fresh text node in a fresh element, so that repeating a message is announced again.
  const toast = el("p", { className: "toast", text: message });
  if (action) {
    const button = el("button", { type: "button", className: "toast-action", text: action.label });
    button.addEventListener("click", () => {
      clear(region);
      action.run();
    });
    toast.append(" ", button);
  }
  region.append(toast);
  clearTimeout(announceTimer);
  const lasts = action ? 10000 : kind === "error" ? 8000 : 4000;
  announceTimer = setTimeout(() => clear(region), lasts);
}
