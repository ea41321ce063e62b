// Message components that work: buttons send a click, select menus send the picked values
// (single: at once; multi: when the menu closes), and layout components (v2) are drawn.
import { fill, h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

const BUTTON_STYLES = {
  1: "primary",
  2: "secondary",
  3: "success",
  4: "danger",
  5: "link",
  6: "premium",
};
const SELECT_TYPES = new Set([3, 5, 6, 7, 8]);

export function renderComponents(message, app) {
  const list = message.components || [];
  if (!list.length) return null;
  const box = h("div", { class: "components" });
  box.append(...list.map((c) => component(c, message, app, box)));
  return box;
}

function component(c, message, app, box) {
  if (c.type === 1)
    return h(
      "div",
      { class: "action-row" },
      (c.components || []).map((x) => component(x, message, app, box)),
    );
  if (c.type === 2) return button(c, message, app, box);
  if (SELECT_TYPES.has(c.type)) return select(c, message, app, box);
  if (c.type === 10)
    return h(
      "div",
      { class: "text-display" },
      renderMarkdown(c.content || "", app.markdownContext()),
    );
  if (c.type === 9) {
    return h(
      "div",
      { class: "section" },
      h(
        "div",
        { class: "section-text" },
        (c.components || []).map((x) => component(x, message, app, box)),
      ),
      c.accessory ? component(c.accessory, message, app, box) : null,
    );
  }
  if (c.type === 17) {
    const color =
      c.accent_color != null ? `#${c.accent_color.toString(16).padStart(6, "0")}` : null;
    return h(
      "div",
      { class: "container", style: color ? { borderLeftColor: color } : undefined },
      (c.components || []).map((x) => component(x, message, app, box)),
    );
  }
  if (c.type === 14) return h("hr", { class: "separator" });
  return h("div", { class: "unsupported" }, `[component type ${c.type}]`);
}

function button(c, message, app, box) {
  const style = BUTTON_STYLES[c.style] || "secondary";
  const label = [
    c.emoji?.name ? h("span", { class: "emoji" }, c.emoji.name) : null,
    c.label || null,
  ];
  if (style === "link") {
    return h(
      "a",
      { class: "button link", href: c.url, target: "_blank", rel: "noopener noreferrer" },
      label,
      " ↗",
    );
  }
  const el = h(
    "button",
    {
      class: `button ${style}`,
      type: "button",
      disabled: Boolean(c.disabled),
      dataset: { customId: c.custom_id },
    },
    label,
  );
  el.addEventListener("click", async () => {
    el.disabled = true;
    el.classList.add("pending");
    const outcome = await app.interact("/components", {
      message_id: message.id,
      custom_id: c.custom_id,
    });
    el.classList.remove("pending");
    el.disabled = Boolean(c.disabled);
    if (outcome.failed) showFailure(box, outcome.failed);
  });
  return el;
}

/** Options of a select: its own for a string select, else the guild's users, roles, channels. */
function selectOptions(c, app) {
  if (c.type === 3) return c.options || [];
  const store = app.store;
  const users = () =>
    [...store.users.values()].map((u) => ({ label: u.global_name || u.username, value: u.id }));
  const roles = () =>
    [...store.roles.values()]
      .filter((r) => r.name !== "@everyone")
      .map((r) => ({ label: `@${r.name}`, value: r.id }));
  if (c.type === 5) return users();
  if (c.type === 6) return roles();
  if (c.type === 7) return [...users(), ...roles()];
  return [...store.channels.values()]
    .filter((ch) => ch.type === 0)
    .map((ch) => ({ label: `#${ch.name}`, value: ch.id }));
}

function select(c, message, app, box) {
  const options = selectOptions(c, app);
  const min = c.min_values ?? 1;
  const max = Math.min(c.max_values ?? 1, options.length || 1);
  const multi = max > 1;
  let chosen = new Set(options.filter((o) => o.default).map((o) => o.value));
  let opened = null;
  const root = h("div", {
    class: multi ? "select multi" : "select",
    dataset: { customId: c.custom_id },
  });
  const face = h("button", { class: "select-face", type: "button", disabled: Boolean(c.disabled) });
  const menu = h("div", { class: "select-menu", role: "listbox", hidden: true });

  const faceText = () => {
    const labels = options.filter((o) => chosen.has(o.value)).map((o) => o.label);
    fill(
      face,
      h(
        "span",
        { class: labels.length ? "select-value" : "select-placeholder" },
        labels.join(", ") || c.placeholder || "Make a selection",
      ),
      h("span", { class: "chevron" }, "⌄"),
    );
  };
  const send = async (values) => {
    face.classList.add("pending");
    const outcome = await app.interact("/components", {
      message_id: message.id,
      custom_id: c.custom_id,
      values,
    });
    face.classList.remove("pending");
    if (outcome.failed) showFailure(box, outcome.failed);
  };
  const close = (submit) => {
    if (menu.hidden) return;
    menu.hidden = true;
    root.classList.remove("open");
    document.removeEventListener("mousedown", outside, true);
    const changed =
      opened !== null && [...chosen].sort().join("\n") !== [...opened].sort().join("\n");
    if (submit && multi && changed && chosen.size >= min && chosen.size <= max) send([...chosen]);
  };
  const outside = (event) => {
    if (!root.contains(event.target)) close(true);
  };
  const renderMenu = () => {
    fill(
      menu,
      ...options.map((o) => {
        const row = h(
          "div",
          {
            class: chosen.has(o.value) ? "select-option chosen" : "select-option",
            role: "option",
            dataset: { value: o.value },
            "aria-selected": chosen.has(o.value) ? "true" : "false",
          },
          multi ? h("span", { class: "checkbox" }, chosen.has(o.value) ? "☑" : "☐") : null,
          o.emoji?.name ? h("span", { class: "emoji" }, o.emoji.name) : null,
          h(
            "div",
            { class: "select-option-text" },
            h("div", { class: "select-option-label" }, o.label),
            o.description ? h("div", { class: "select-option-description" }, o.description) : null,
          ),
        );
        row.addEventListener("click", () => pick(o.value));
        return row;
      }),
      multi
        ? h(
            "div",
            { class: "select-hint" },
            `Pick ${min === max ? min : `${min}–${max}`}; close the menu to send`,
          )
        : null,
    );
  };
  const pick = (value) => {
    if (!multi) {
      chosen = new Set([value]);
      faceText();
      close(false);
      send([value]);
      return;
    }
    if (chosen.has(value)) chosen.delete(value);
    else if (chosen.size < max) chosen.add(value);
    faceText();
    renderMenu();
  };
  face.addEventListener("click", () => {
    if (!menu.hidden) return close(true);
    opened = new Set(chosen);
    renderMenu();
    menu.hidden = false;
    root.classList.add("open");
    document.addEventListener("mousedown", outside, true);
    menu.scrollIntoView({ block: "nearest" });
  });
  root.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close(true);
  });
  faceText();
  root.append(face, menu);
  return root;
}

function showFailure(box, text) {
  box.querySelector(".interaction-failed")?.remove();
  const note = h("div", { class: "interaction-failed" }, `⚠ This interaction failed: ${text}`);
  box.append(note);
  setTimeout(() => note.remove(), 10000);
}
