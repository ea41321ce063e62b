// A modal the bot opened (interaction callback type 9): its text inputs (in action rows or
// labels), string selects and text displays; Submit sends the values back as the owner.
import { h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

export function openModal(app, interactionId, modal) {
  document.querySelector(".modal-backdrop")?.remove();
  const fields = h("div", { class: "modal-fields" });
  const error = h("div", { class: "modal-error", hidden: true });
  const close = () => backdrop.remove();
  const submit = h("button", { class: "button primary", type: "submit" }, "Submit");
  const form = h(
    "form",
    {
      class: "modal",
      role: "dialog",
      "aria-label": modal.title || "modal",
      dataset: { customId: modal.custom_id },
    },
    h(
      "header",
      { class: "modal-title" },
      modal.title || "",
      h(
        "button",
        { class: "modal-close", type: "button", "aria-label": "Close", onclick: close },
        "×",
      ),
    ),
    fields,
    error,
    h(
      "footer",
      { class: "modal-footer" },
      h("button", { class: "button link-like", type: "button", onclick: close }, "Cancel"),
      submit,
    ),
  );
  for (const c of modal.components || []) fields.append(...field(c, app));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    submit.disabled = true;
    const outcome = await app.interact("/modals", {
      interaction_id: interactionId,
      values: values(form),
    });
    submit.disabled = false;
    if (outcome.failed) {
      error.textContent = `Something went wrong: ${outcome.failed}`;
      error.hidden = false;
      return;
    }
    close();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  const backdrop = h("div", { class: "modal-backdrop" }, form);
  document.body.append(backdrop);
  form.querySelector("input, textarea, select")?.focus();
}

function field(c, app) {
  if (c.type === 1) return (c.components || []).flatMap((x) => field(x, app));
  if (c.type === 18 && c.component) return [control(c.component, c.label, c.description)];
  if (c.type === 4) return [control(c, c.label, null)];
  if (c.type === 10)
    return [
      h("div", { class: "text-display" }, renderMarkdown(c.content || "", app.markdownContext())),
    ];
  return [];
}

function control(c, label, description) {
  const required = c.required ?? true;
  let input;
  if (c.type === 4) {
    const attrs = {
      name: c.custom_id,
      placeholder: c.placeholder,
      required,
      minlength: c.min_length,
      maxlength: c.max_length,
      dataset: { customId: c.custom_id },
    };
    input =
      c.style === 2
        ? h("textarea", { ...attrs, rows: 4 }, c.value || "")
        : h("input", { ...attrs, type: "text", value: c.value });
  } else if (c.type === 3) {
    const multi = (c.max_values ?? 1) > 1;
    input = h(
      "select",
      {
        name: c.custom_id,
        multiple: multi,
        required: (c.min_values ?? 1) > 0 && required,
        dataset: { customId: c.custom_id, kind: "select" },
      },
      multi ? null : h("option", { value: "" }, c.placeholder || "Make a selection"),
      (c.options || []).map((o) =>
        h("option", { value: o.value, selected: Boolean(o.default) }, o.label),
      ),
    );
  } else {
    return h("div", { class: "unsupported" }, `[input type ${c.type}]`);
  }
  return h(
    "label",
    { class: "modal-field" },
    h(
      "span",
      { class: "modal-label" },
      label || c.custom_id,
      required ? h("span", { class: "required" }, " *") : null,
    ),
    description ? h("span", { class: "modal-description" }, description) : null,
    input,
  );
}

function values(form) {
  const out = {};
  for (const el of form.querySelectorAll("[data-custom-id]")) {
    if (el.dataset.kind === "select")
      out[el.dataset.customId] = [...el.selectedOptions].map((o) => o.value).filter(Boolean);
    else if (el.tagName !== "FORM") out[el.dataset.customId] = el.value;
  }
  return out;
}
