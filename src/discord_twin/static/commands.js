// Slash commands in the composer: typing `/` lists the guild's registered commands (each
// subcommand as its own entry); picking one opens a form with a field per option: choices as
// a menu, autocomplete options asking the bot as you type, the rest as typed inputs.
import { fill, h } from "./dom.js";

const SUB_COMMAND = 1;
const SUB_COMMAND_GROUP = 2;
const TYPE_NAMES = {
  3: "text",
  4: "integer",
  5: "true/false",
  6: "user",
  7: "channel",
  8: "role",
  9: "mentionable",
  10: "number",
  11: "file",
};

/** Every runnable entry: `/name`, `/name sub`, `/name group sub`, with the leaf's options. */
export function commandEntries(commands) {
  const entries = [];
  const walk = (command, path, options, description) => {
    const subs = options.filter((o) => o.type === SUB_COMMAND || o.type === SUB_COMMAND_GROUP);
    if (!subs.length) {
      entries.push({
        command,
        path,
        name: [command.name, ...path].join(" "),
        description,
        options,
      });
      return;
    }
    for (const sub of subs)
      walk(command, [...path, sub.name], sub.options || [], sub.description || description);
  };
  for (const command of commands) walk(command, [], command.options || [], command.description);
  return entries;
}

/** The popup above the composer while its text is `/something`. */
export class CommandPicker {
  constructor(anchor, onPick) {
    this.el = h("div", { class: "command-picker", hidden: true, role: "listbox" });
    anchor.append(this.el);
    this.onPick = onPick;
    this.matches = [];
    this.active = 0;
  }

  get open() {
    return !this.el.hidden;
  }

  update(text, commands) {
    const query = /^\/([^\n]*)$/.exec(text);
    if (!query) return this.hide();
    const wanted = query[1].trim().toLowerCase();
    this.matches = commandEntries(commands).filter(
      (e) => e.name.startsWith(wanted) || (wanted && e.name.includes(wanted)),
    );
    this.active = 0;
    this.render();
  }

  render() {
    fill(
      this.el,
      h(
        "div",
        { class: "command-picker-title" },
        this.matches.length ? "Commands" : "No commands match",
      ),
      ...this.matches.map((entry, i) => {
        const row = h(
          "div",
          {
            class: i === this.active ? "command-option active" : "command-option",
            role: "option",
            dataset: { command: entry.name },
          },
          h("span", { class: "command-option-name" }, `/${entry.name}`),
          entry.options.map((o) => h("span", { class: "command-option-arg" }, o.name)),
          h("span", { class: "command-option-description" }, entry.description || ""),
        );
        row.addEventListener("mousedown", (event) => {
          event.preventDefault();
          this.pick(i);
        });
        return row;
      }),
    );
    this.el.hidden = false;
  }

  hide() {
    this.el.hidden = true;
    this.matches = [];
  }

  /** Arrow keys move, Enter/Tab pick, Escape closes; returns true when it used the key. */
  key(event) {
    if (!this.open || !this.matches.length) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.matches.length) % this.matches.length;
      this.render();
    } else if (event.key === "Enter" || event.key === "Tab") {
      this.pick(this.active);
    } else if (event.key === "Escape") {
      this.hide();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  pick(index) {
    const entry = this.matches[index];
    this.hide();
    if (entry) this.onPick(entry);
  }
}

/** The options of one command, filled in and run as the owner. */
export class CommandForm {
  constructor(entry, channel, app, onDone) {
    this.entry = entry;
    this.channel = channel;
    this.app = app;
    this.onDone = onDone;
    this.fields = entry.options.map((option) => this.field(option));
    this.status = h("div", { class: "command-status" });
    this.el = h(
      "div",
      { class: "command-form", dataset: { command: entry.name } },
      h(
        "div",
        { class: "command-form-head" },
        h("span", { class: "command-chip" }, `/${entry.name}`),
        h("span", { class: "command-form-description" }, entry.description || ""),
        h(
          "button",
          {
            class: "command-cancel",
            type: "button",
            title: "Cancel (Esc)",
            onclick: () => onDone(),
          },
          "×",
        ),
      ),
      this.fields.length
        ? h(
            "div",
            { class: "command-fields" },
            this.fields.map((f) => f.el),
          )
        : null,
      h(
        "div",
        { class: "command-form-foot" },
        h("span", { class: "hint" }, "Enter to send · Esc to cancel"),
        h(
          "button",
          { class: "button primary command-send", type: "button", onclick: () => this.run() },
          "Send",
        ),
      ),
      this.status,
    );
    this.el.addEventListener("keydown", (event) => this.key(event));
  }

  focus() {
    (
      this.el.querySelector("input, select") || this.el.querySelector("button.command-send")
    ).focus();
  }

  key(event) {
    const field = this.fields.find((f) => f.el.contains(event.target));
    if (field?.suggest && field.suggest.key(event)) return;
    if (event.key === "Escape") {
      event.preventDefault();
      this.onDone();
    } else if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      this.run();
    }
  }

  values() {
    const out = {};
    for (const f of this.fields) {
      const value = f.value();
      if (value !== "") out[f.option.name] = value;
    }
    return out;
  }

  body(extra) {
    return {
      channel_id: this.channel.id,
      command_id: this.entry.command.id,
      path: this.entry.path,
      options: this.values(),
      ...extra,
    };
  }

  async run() {
    const missing = this.fields.filter((f) => f.option.required && f.value() === "");
    if (missing.length) {
      this.status.textContent = `Fill in: ${missing.map((f) => f.option.name).join(", ")}`;
      return;
    }
    this.status.textContent = "Sending command…";
    const outcome = await this.app.interact("/commands", this.body({}));
    if (outcome.failed) {
      this.status.textContent = `⚠ ${outcome.failed}`;
      return;
    }
    this.onDone();
  }

  field(option) {
    const name = `${option.name}${option.required ? " *" : ""}`;
    const label = h(
      "span",
      { class: "command-field-label", title: option.description || "" },
      name,
    );
    const wrap = (control, extra) =>
      h(
        "label",
        { class: "command-field", dataset: { option: option.name } },
        label,
        control,
        extra || null,
      );
    if (option.choices?.length) {
      const select = h(
        "select",
        { name: option.name },
        h("option", { value: "" }, option.required ? "Choose…" : "(none)"),
        option.choices.map((c) => h("option", { value: String(c.value) }, c.name)),
      );
      return { option, el: wrap(select), value: () => select.value };
    }
    if (option.autocomplete) {
      const suggest = new Suggestions(this, option);
      return {
        option,
        el: wrap(suggest.input, suggest.list),
        value: () => suggest.value(),
        suggest,
      };
    }
    const pick = this.pickFrom(option);
    if (pick) {
      const select = h(
        "select",
        { name: option.name },
        h("option", { value: "" }, "(none)"),
        pick.map(([value, text]) => h("option", { value }, text)),
      );
      return { option, el: wrap(select), value: () => select.value };
    }
    const numeric = option.type === 4 || option.type === 10;
    const input = h("input", {
      name: option.name,
      type: numeric ? "number" : "text",
      step: option.type === 10 ? "any" : undefined,
      placeholder: option.description || TYPE_NAMES[option.type] || "",
      disabled: option.type === 11,
    });
    return { option, el: wrap(input), value: () => input.value };
  }

  /** Booleans, users, channels and roles are picked from what the page knows. */
  pickFrom(option) {
    const store = this.app.store;
    if (option.type === 5)
      return [
        ["true", "True"],
        ["false", "False"],
      ];
    const users = () =>
      [...store.users.values()].map((u) => [u.id, `@${u.global_name || u.username}`]);
    const roles = () => [...store.roles.values()].map((r) => [r.id, `@${r.name}`]);
    if (option.type === 6) return users();
    if (option.type === 8) return roles();
    if (option.type === 9) return [...users(), ...roles()];
    if (option.type === 7)
      return [...store.channels.values()]
        .filter((c) => c.guild_id === this.channel.guild_id)
        .map((c) => [c.id, `#${c.name}`]);
    return null;
  }
}

/** An autocomplete option: each keystroke asks the bot (type 4 interaction) for choices. */
class Suggestions {
  constructor(form, option) {
    this.form = form;
    this.option = option;
    this.chosen = null;
    this.choices = [];
    this.active = -1;
    this.asked = 0;
    this.input = h("input", {
      name: option.name,
      type: "text",
      autocomplete: "off",
      placeholder: option.description || "start typing",
    });
    this.list = h("div", { class: "autocomplete-list", hidden: true, role: "listbox" });
    this.input.addEventListener("input", () => {
      this.chosen = null;
      this.ask();
    });
    this.input.addEventListener("focus", () => this.ask());
    this.input.addEventListener("blur", () => setTimeout(() => (this.list.hidden = true), 150));
  }

  value() {
    return this.chosen ? this.chosen.value : this.input.value;
  }

  async ask() {
    const ticket = ++this.asked;
    const outcome = await this.form.app.api.post(
      "/autocomplete",
      this.form.body({ focused: this.option.name }),
    );
    if (ticket !== this.asked) return; // a newer keystroke's answer wins
    this.choices = outcome.choices || [];
    this.active = -1;
    this.render(outcome.failed);
  }

  render(failed) {
    fill(
      this.list,
      ...(failed && !this.choices.length
        ? [h("div", { class: "autocomplete-empty" }, `⚠ ${failed}`)]
        : []),
      ...this.choices.map((choice, i) => {
        const row = h(
          "div",
          {
            class: i === this.active ? "autocomplete-option active" : "autocomplete-option",
            role: "option",
            dataset: { value: String(choice.value) },
          },
          choice.name,
        );
        row.addEventListener("mousedown", (event) => {
          event.preventDefault();
          this.choose(i);
        });
        return row;
      }),
    );
    this.list.hidden = !this.list.childElementCount;
  }

  choose(index) {
    this.chosen = this.choices[index];
    this.input.value = this.chosen.name;
    this.list.hidden = true;
  }

  key(event) {
    if (this.list.hidden || !this.choices.length) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.choices.length) % this.choices.length;
      this.render();
    } else if ((event.key === "Enter" || event.key === "Tab") && this.active >= 0) {
      this.choose(this.active);
    } else if (event.key === "Escape") {
      this.list.hidden = true;
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }
}
