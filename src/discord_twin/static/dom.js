// Building DOM without HTML strings: every text the page shows goes in as a text node, so
// nothing a bot or a model writes can become markup.

/** h("div", {class: "x", onclick: fn, dataset: {id: "1"}}, child, "text", [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") {
      for (const [name, data] of Object.entries(value)) if (data != null) el.dataset[name] = data;
    } else if (key === "style") Object.assign(el.style, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace an element's children; null, undefined and false children are skipped. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Snowflakes are decimal strings longer than a JS number holds exactly. */
export function compareIds(a, b) {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Only same-origin (relative) or loopback http(s) URLs may load without a click. */
export function isLocalUrl(url) {
  try {
    const parsed = new URL(url, location.href);
    if (parsed.origin === location.origin) return true;
    return ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  } catch {
    return false;
  }
}

/** A link that opens elsewhere; only http(s) and mailto survive, anything else is text. */
export function safeHref(url) {
  try {
    const parsed = new URL(url, location.href);
    return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
