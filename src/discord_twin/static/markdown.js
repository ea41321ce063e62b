// Discord's markdown, the common cases, rendered straight to DOM nodes (never to HTML text).
// Blocks: fenced code, `> ` and `>>> ` quotes, `#`–`###` headings, `-#` subtext, lists.
// Inline rules live in markdown-inline.js.
import { h } from "./dom.js";
import { makeCodeBlock, renderInline } from "./markdown-inline.js";

const HEADING = /^(#{1,3}) +(\S.*)$/;
const SUBTEXT = /^-# +(\S.*)$/;
const LIST_ITEM = /^( *)([-*]|\d{1,9}\.) +(\S.*)$/;
const LANGUAGE = /^([A-Za-z0-9_+#.-]+)\n/;

/**
 * Render message text. `ctx` resolves mentions: {user(id), channel(id), role(id),
 * openChannel(id)}; each may return null for an unknown id.
 */
export function renderMarkdown(text, ctx) {
  const root = h("div", { class: "md" });
  appendBlocks(root, text, ctx);
  return root;
}

function appendBlocks(parent, text, ctx) {
  const lines = text.split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let match;
    if (line.startsWith("```")) {
      const end = closingFence(lines, i);
      if (end !== null) {
        parent.append(...codeBlock(lines.slice(i, end.line + 1).join("\n"), ctx));
        i = end.line + 1;
        continue;
      }
    }
    if (line.startsWith(">>> ")) {
      const rest = [line.slice(4), ...lines.slice(i + 1)].join("\n");
      parent.append(quote(rest, ctx));
      return;
    }
    if (line.startsWith("> ") || line === ">") {
      const quoted = [];
      while (i < lines.length && (lines[i].startsWith("> ") || lines[i] === ">")) {
        quoted.push(lines[i].slice(2));
        i += 1;
      }
      parent.append(quote(quoted.join("\n"), ctx));
      continue;
    }
    if ((match = HEADING.exec(line))) {
      const tag = `h${match[1].length}`;
      parent.append(h(tag, { class: "md-heading" }, renderInline(match[2], ctx)));
      i += 1;
      continue;
    }
    if ((match = SUBTEXT.exec(line))) {
      parent.append(h("div", { class: "md-subtext" }, renderInline(match[1], ctx)));
      i += 1;
      continue;
    }
    if ((match = LIST_ITEM.exec(line))) {
      // One list per kind: a `1.` item at the first item's depth after `-` items starts anew.
      const ordered = /\d/.test(match[2]);
      const items = [match];
      for (i += 1; i < lines.length && (match = LIST_ITEM.exec(lines[i])); i += 1) {
        if (match[1].length <= items[0][1].length && /\d/.test(match[2]) !== ordered) break;
        items.push(match);
      }
      parent.append(list(items, ctx));
      continue;
    }
    const start = i;
    i = paragraphEnd(lines, i);
    parent.append(h("div", { class: "md-p" }, renderInline(lines.slice(start, i).join("\n"), ctx)));
  }
}

/** Where a paragraph stops: at the next block, but never inside an open ``` span. */
function paragraphEnd(lines, start) {
  let i = start;
  let fences = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (i > start && fences % 2 === 0 && startsBlock(line, lines, i)) break;
    fences += (line.match(/```/g) || []).length;
    i += 1;
  }
  return i;
}

function startsBlock(line, lines, i) {
  if (line.startsWith("```")) return closingFence(lines, i) !== null;
  return (
    line.startsWith("> ") ||
    line === ">" ||
    line.startsWith(">>> ") ||
    HEADING.test(line) ||
    SUBTEXT.test(line) ||
    LIST_ITEM.test(line)
  );
}

/** The line holding the ``` that closes the fence opened on `lines[start]`, or null. */
function closingFence(lines, start) {
  const first = lines[start].slice(3);
  const sameLine = first.indexOf("```");
  if (sameLine >= 0) return { line: start, inline: true };
  for (let j = start + 1; j < lines.length; j += 1) {
    if (lines[j].includes("```")) return { line: j, inline: false };
  }
  return null;
}

/** ```lang\ncode``` → a labelled monospace block; text after the closing fence is kept. */
function codeBlock(source, ctx) {
  const body = source.slice(3);
  const close = body.indexOf("```");
  let inner = body.slice(0, close);
  const after = body.slice(close + 3).trim();
  let language = "";
  const lang = LANGUAGE.exec(inner);
  if (lang) {
    language = lang[1];
    inner = inner.slice(lang[0].length);
  } else if (inner.startsWith("\n")) {
    inner = inner.slice(1);
  }
  if (inner.endsWith("\n")) inner = inner.slice(0, -1);
  const block = makeCodeBlock(language, inner);
  return after ? [block, h("div", { class: "md-p" }, renderInline(after, ctx))] : [block];
}

function quote(text, ctx) {
  const box = h("blockquote", { class: "md-quote" });
  appendBlocks(box, text, ctx);
  return box;
}

/** Items with their indentation: two spaces or more opens a nested list. */
function list(items, ctx) {
  const make = (ordered, first) =>
    ordered
      ? h("ol", { class: "md-list", start: parseInt(first, 10) })
      : h("ul", { class: "md-list" });
  const rootOrdered = /\d/.test(items[0][2]);
  const stack = [{ indent: items[0][1].length, el: make(rootOrdered, items[0][2]) }];
  for (const [, spaces, marker, text] of items) {
    const indent = spaces.length;
    let top = stack[stack.length - 1];
    if (indent > top.indent + 1 && top.el.lastElementChild) {
      const nested = make(/\d/.test(marker), marker);
      top.el.lastElementChild.append(nested);
      stack.push({ indent, el: nested });
    } else {
      while (stack.length > 1 && indent < top.indent) {
        stack.pop();
        top = stack[stack.length - 1];
      }
    }
    stack[stack.length - 1].el.append(h("li", {}, renderInline(text, ctx)));
  }
  return stack[0].el;
}
