// One message as Discord draws it: avatar and name (once per run of messages by the same
// author), the markdown body, embeds, attachments, components, the thread it started, and the
// marks only the owner's client shows (ephemeral, thinking, edited).
import { compareIds, formatSize, h, isLocalUrl } from "./dom.js";
import { renderComponents } from "./components.js";
import { renderMarkdown } from "./markdown.js";
import { displayName } from "./store.js";

const EPHEMERAL = 1 << 6;
const LOADING = 1 << 7;
const GROUP_WINDOW_MS = 7 * 60 * 1000;
const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg)$/i;

export class MessageList {
  /** `app` gives markdown context (`app.markdownContext()`) and opens threads and modals. */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.nodes = new Map();
  }

  reset(messages) {
    this.root.replaceChildren();
    this.nodes.clear();
    for (const message of messages) this.upsert(message, false);
    this.regroup();
    this.scrollToEnd();
  }

  upsert(message, regroup = true) {
    const stick = this.atEnd();
    const node = this.render(message);
    const old = this.nodes.get(message.id);
    if (old) {
      old.replaceWith(node);
    } else {
      const after = [...this.nodes.keys()].filter((id) => compareIds(id, message.id) > 0);
      const next = after.length ? this.nodes.get(after.sort(compareIds)[0]) : null;
      this.root.insertBefore(node, next);
    }
    this.nodes.set(message.id, node);
    if (regroup) this.regroup();
    if (stick) this.scrollToEnd();
  }

  remove(id) {
    this.nodes.get(id)?.remove();
    this.nodes.delete(id);
    this.regroup();
  }

  /** A message continues the previous one's group when the author and minute are close. */
  regroup() {
    let previous = null;
    for (const node of this.root.children) {
      const grouped =
        previous !== null &&
        previous.dataset.author === node.dataset.author &&
        !node.dataset.standalone &&
        !previous.dataset.standalone &&
        Number(node.dataset.time) - Number(previous.dataset.time) < GROUP_WINDOW_MS;
      node.classList.toggle("grouped", grouped);
      previous = node;
    }
  }

  atEnd() {
    const scroller = this.root.parentElement;
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
  }

  scrollToEnd() {
    const scroller = this.root.parentElement;
    scroller.scrollTop = scroller.scrollHeight;
  }

  render(message) {
    const author = message.author;
    const time = new Date(message.timestamp);
    const ephemeral = message.ephemeral || Boolean(message.flags & EPHEMERAL);
    const loading = Boolean(message.flags & LOADING);
    const standalone = Boolean(message.command_name || message.message_reference);
    const classes = ["message", author.bot ? "from-bot" : "from-user"];
    if (ephemeral) classes.push("ephemeral");
    if (loading) classes.push("loading");
    return h(
      "article",
      {
        class: classes.join(" "),
        dataset: {
          messageId: message.id,
          author: author.id,
          time: String(time.getTime()),
          standalone: standalone ? "1" : undefined,
        },
      },
      this.context(message),
      h("div", { class: "avatar", style: { background: avatarColor(author.id) } }, initial(author)),
      h(
        "div",
        { class: "message-body" },
        h(
          "header",
          { class: "message-header" },
          h("span", { class: "author" }, displayName(author)),
          author.bot ? h("span", { class: "bot-tag" }, "APP") : null,
          h(
            "time",
            { class: "message-time", datetime: message.timestamp, title: time.toLocaleString() },
            shortTime(time),
          ),
        ),
        loading ? thinking(author) : this.content(message),
        ...(message.embeds || []).map((e) => this.embed(e)),
        attachments(message.attachments || []),
        renderComponents(message, this.app),
        this.threadChip(message),
        reactions(message.reactions || []),
        ephemeral ? h("div", { class: "ephemeral-note" }, "Only you can see this") : null,
      ),
    );
  }

  /** The line above a command's answer ("owner used /verbosity") or above a reply. */
  context(message) {
    if (message.command_name && message.interaction_metadata) {
      const user = message.interaction_metadata.user;
      return h(
        "div",
        { class: "message-context" },
        h("span", { class: "author" }, displayName(user)),
        " used ",
        h("span", { class: "command-name" }, message.command_name),
      );
    }
    const ref = message.referenced_message;
    if (ref) {
      const text = ref.content.length > 80 ? ref.content.slice(0, 80) + "…" : ref.content;
      return h(
        "div",
        { class: "message-context" },
        "↪ ",
        h("span", { class: "author" }, displayName(ref.author)),
        " ",
        text,
      );
    }
    return null;
  }

  content(message) {
    if (!message.content) return null;
    const body = renderMarkdown(message.content, this.app.markdownContext());
    body.classList.add("message-content");
    if (message.edited_timestamp)
      body.append(h("span", { class: "edited", title: message.edited_timestamp }, " (edited)"));
    return body;
  }

  embed(embed) {
    const ctx = this.app.markdownContext();
    const color =
      embed.color !== undefined ? `#${embed.color.toString(16).padStart(6, "0")}` : null;
    return h(
      "div",
      { class: "embed", style: color ? { borderLeftColor: color } : undefined },
      embed.author?.name ? h("div", { class: "embed-author" }, embed.author.name) : null,
      embed.title ? h("div", { class: "embed-title" }, renderMarkdown(embed.title, ctx)) : null,
      embed.description ? renderMarkdown(embed.description, ctx) : null,
      embed.fields?.length
        ? h(
            "div",
            { class: "embed-fields" },
            embed.fields.map((f) =>
              h(
                "div",
                { class: f.inline ? "embed-field inline" : "embed-field" },
                h("div", { class: "embed-field-name" }, renderMarkdown(f.name, ctx)),
                renderMarkdown(f.value, ctx),
              ),
            ),
          )
        : null,
      embed.image?.url && isLocalUrl(embed.image.url)
        ? h("img", { class: "embed-image", src: embed.image.url, alt: "" })
        : null,
      embed.footer?.text ? h("div", { class: "embed-footer" }, embed.footer.text) : null,
    );
  }

  threadChip(message) {
    const thread = message.thread;
    if (!thread || this.app.store.openChannelId === thread.id) return null; // not inside itself
    const count = thread.message_count ?? 0;
    return h(
      "button",
      {
        class: "thread-chip",
        type: "button",
        dataset: { threadId: thread.id },
        onclick: () => this.app.openChannel(thread.id),
      },
      h("span", { class: "thread-chip-name" }, thread.name),
      h(
        "span",
        { class: "thread-chip-count" },
        `${count} ${count === 1 ? "message" : "messages"} ›`,
      ),
    );
  }
}

function thinking(author) {
  return h(
    "div",
    { class: "thinking" },
    `${displayName(author)} is thinking`,
    h("span", { class: "dots" }, "…"),
  );
}

function attachments(list) {
  if (!list.length) return null;
  return h(
    "div",
    { class: "attachments" },
    list.map((a) => {
      const image = (a.content_type || "").startsWith("image/") || IMAGE.test(a.filename);
      const link = h(
        "a",
        { class: "attachment-download", href: a.url, download: a.filename },
        "Download",
      );
      if (image && isLocalUrl(a.url)) {
        return h(
          "figure",
          { class: "attachment image", dataset: { filename: a.filename } },
          h(
            "a",
            { href: a.url, target: "_blank", rel: "noopener" },
            h("img", { src: a.url, alt: a.filename, loading: "lazy" }),
          ),
          h("figcaption", {}, a.filename, " · ", formatSize(a.size), " · ", link),
        );
      }
      return h(
        "div",
        { class: "attachment file", dataset: { filename: a.filename } },
        h("span", { class: "file-icon" }, (a.filename.split(".").pop() || "file").slice(0, 4)),
        h(
          "div",
          { class: "file-meta" },
          h("a", { class: "file-name", href: a.url, download: a.filename }, a.filename),
          h("div", { class: "file-size" }, formatSize(a.size)),
        ),
        link,
      );
    }),
  );
}

function reactions(list) {
  if (!list.length) return null;
  return h(
    "div",
    { class: "reactions" },
    list.map((r) => h("span", { class: "reaction" }, `${r.emoji.name} ${r.count}`)),
  );
}

function initial(user) {
  return (displayName(user)[0] || "?").toUpperCase();
}

const AVATAR_COLORS = ["#5865f2", "#3ba55c", "#faa61a", "#ed4245", "#eb459e", "#747f8d"];

function avatarColor(id) {
  let sum = 0;
  for (const ch of id) sum = (sum * 31 + ch.charCodeAt(0)) % 9973;
  return AVATAR_COLORS[sum % AVATAR_COLORS.length];
}

function shortTime(date) {
  return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
}
