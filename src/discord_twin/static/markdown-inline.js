// Inline markdown: at each position the first rule whose sticky regex matches wins, else plain
// text runs to the next character that could open a rule. Nodes are built, never parsed HTML.
import { h, safeHref } from "./dom.js";

const rules = [
  { re: /\\([^A-Za-z0-9\s])/y, make: (m) => m[1] },
  { re: /```(?:([A-Za-z0-9_+#.-]+)\n)?\n?([\s\S]*?)```/y, make: (m) => codeSpanBlock(m) },
  { re: /(``?)(?!`)([\s\S]*?[^`])\1(?!`)/y, make: (m) => h("code", { class: "md-code" }, m[2]) },
  { re: /\|\|([\s\S]+?)\|\|/y, make: (m, ctx) => spoiler(renderInline(m[1], ctx)) },
  {
    re: /\[([^[\]\n]+)\]\(\s*<?(https?:\/\/[^\s<>()]+(?:\([^\s<>()]*\)[^\s<>()]*)*)>?\s*\)/y,
    make: (m, ctx) => link(m[2], renderInline(m[1], ctx)),
  },
  { re: /<(https?:\/\/[^\s<>]+)>/y, make: (m) => link(m[1], m[1]) },
  { re: /https?:\/\/[^\s<]*[^\s<.,:;"'\])!?*_~|]/y, make: (m) => link(m[0], m[0]) },
  { re: /<@!?(\d{1,20})>/y, make: (m, ctx) => mention("@", ctx.user(m[1]), "unknown-user") },
  { re: /<@&(\d{1,20})>/y, make: (m, ctx) => mention("@", ctx.role(m[1]), "unknown-role") },
  { re: /<#(\d{1,20})>/y, make: (m, ctx) => channelMention(m[1], ctx) },
  { re: /<t:(-?\d{1,13})(?::([tTdDfFR]))?>/y, make: (m) => timestamp(Number(m[1]), m[2] || "f") },
  { re: /<a?:(\w{2,32}):\d{1,20}>/y, make: (m) => h("span", { class: "md-emoji" }, `:${m[1]}:`) },
  { re: /<\/([-_\p{L}\p{N} ]{1,96}):\d{1,20}>/uy, make: (m) => mention("/", m[1], "") },
  { re: /@(everyone|here)(?![\w])/y, make: (m) => mention("@", m[1], "") },
  {
    re: /\*\*\*(?!\s)([\s\S]+?)\*\*\*(?!\*)/y,
    make: (m, ctx) => wrap("strong", h("em", {}, renderInline(m[1], ctx))),
  },
  { re: /\*\*([\s\S]+?)\*\*(?!\*)/y, make: (m, ctx) => wrap("strong", renderInline(m[1], ctx)) },
  { re: /__([\s\S]+?)__(?!_)/y, make: (m, ctx) => wrap("u", renderInline(m[1], ctx)) },
  {
    re: /\*(?!\s)((?:\*\*[\s\S]+?\*\*|\\[\s\S]|[^*\\])+?)\*(?!\*)/y,
    make: (m, ctx) => wrap("em", renderInline(m[1], ctx)),
  },
  {
    re: /_((?:__[\s\S]+?__|\\[\s\S]|[^_\\])+?)_(?![A-Za-z0-9_])/y,
    make: (m, ctx) => wrap("em", renderInline(m[1], ctx)),
    afterWordBoundary: true,
  },
  { re: /~~([\s\S]+?)~~/y, make: (m, ctx) => wrap("s", renderInline(m[1], ctx)) },
];
const TEXT = /[\s\S][^\\`|[<h@*_~]*/y;

/** An array of nodes for one run of inline text. */
export function renderInline(text, ctx) {
  const out = [];
  let pending = "";
  let pos = 0;
  while (pos < text.length) {
    let made = null;
    for (const rule of rules) {
      if (rule.afterWordBoundary && pos > 0 && /[A-Za-z0-9]/.test(text[pos - 1])) continue;
      rule.re.lastIndex = pos;
      const match = rule.re.exec(text);
      if (!match) continue;
      pos = rule.re.lastIndex; // read before `make`: nested rendering reuses the regexes
      made = rule.make(match, ctx);
      break;
    }
    if (made === null) {
      TEXT.lastIndex = pos;
      const match = TEXT.exec(text);
      pending += match[0];
      pos = TEXT.lastIndex;
    } else if (typeof made === "string") {
      pending += made;
    } else {
      if (pending) out.push(pending);
      pending = "";
      out.push(made);
    }
  }
  if (pending) out.push(pending);
  return out;
}

export function makeCodeBlock(language, code) {
  return h(
    "div",
    { class: "md-codeblock", dataset: { language } },
    language ? h("div", { class: "md-codeblock-lang" }, language) : null,
    h("pre", {}, h("code", { class: language ? `language-${language}` : null }, code)),
  );
}

function codeSpanBlock(match) {
  let code = match[2];
  if (code.endsWith("\n")) code = code.slice(0, -1);
  return makeCodeBlock(match[1] || "", code);
}

function wrap(tag, children) {
  return h(tag, {}, children);
}

function spoiler(children) {
  const el = h("span", { class: "md-spoiler", title: "spoiler", tabindex: 0 }, children);
  el.addEventListener("click", () => el.classList.add("revealed"));
  return el;
}

function link(url, children) {
  const href = safeHref(url);
  if (!href) return h("span", {}, children);
  return h("a", { class: "md-link", href, target: "_blank", rel: "noopener noreferrer" }, children);
}

function mention(prefix, name, fallback) {
  return h("span", { class: "md-mention" }, prefix + (name || fallback));
}

function channelMention(id, ctx) {
  const name = ctx.channel(id);
  const el = h(
    "span",
    { class: "md-mention md-channel", dataset: { channelId: id } },
    `#${name || "unknown"}`,
  );
  if (name) el.addEventListener("click", () => ctx.openChannel(id));
  return el;
}

const DATE_STYLES = {
  t: { hour: "numeric", minute: "2-digit" },
  T: { hour: "numeric", minute: "2-digit", second: "2-digit" },
  d: { year: "numeric", month: "2-digit", day: "2-digit" },
  D: { year: "numeric", month: "long", day: "numeric" },
  f: { year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" },
  F: {
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
  },
};
const UNITS = [
  ["year", 31536000],
  ["month", 2592000],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

export function timestamp(seconds, style) {
  const date = new Date(seconds * 1000);
  try {
    const full = new Intl.DateTimeFormat(undefined, DATE_STYLES.F).format(date);
    const text =
      style === "R"
        ? relativeTime(date)
        : new Intl.DateTimeFormat(undefined, DATE_STYLES[style]).format(date);
    return h("time", { class: "md-timestamp", datetime: date.toISOString(), title: full }, text);
  } catch {
    return `<t:${seconds}:${style}>`;
  }
}

function relativeTime(date) {
  const diff = (date.getTime() - Date.now()) / 1000;
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(diff) >= size || unit === "second")
      return format.format(Math.round(diff / size), unit);
  }
  return "";
}
