// The message box: Enter sends, Shift+Enter breaks the line, files ride along (Discord's own
// multipart upload), `/` opens the command picker, and typing tells the channel you are typing.
import { fill, formatSize, h } from "./dom.js";
import { CommandForm, CommandPicker } from "./commands.js";

const TYPING_EVERY_MS = 8000;

export class Composer {
  constructor(root, app) {
    this.app = app;
    this.channel = null;
    this.files = [];
    this.lastTyping = 0;
    this.form = null;
    this.fileInput = h("input", {
      type: "file",
      multiple: true,
      hidden: true,
      class: "file-input",
    });
    this.fileList = h("div", { class: "pending-files", hidden: true });
    this.error = h("div", { class: "composer-error", hidden: true });
    this.text = h("textarea", { class: "composer-input", rows: 1, "aria-label": "Message" });
    this.formSlot = h("div", { class: "command-slot" });
    this.row = h(
      "div",
      { class: "composer-row" },
      h(
        "button",
        {
          class: "attach",
          type: "button",
          title: "Upload a file",
          onclick: () => this.fileInput.click(),
        },
        "+",
      ),
      this.text,
      h(
        "button",
        { class: "send", type: "button", title: "Send (Enter)", onclick: () => this.send() },
        "➤",
      ),
    );
    root.append(this.fileList, this.formSlot, this.row, this.error, this.fileInput);
    this.picker = new CommandPicker(root, (entry) => this.startCommand(entry));
    this.fileInput.addEventListener("change", () => {
      this.addFiles([...this.fileInput.files]);
      this.fileInput.value = "";
    });
    this.text.addEventListener("keydown", (event) => this.key(event));
    this.text.addEventListener("input", () => this.changed());
    this.text.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files || [])];
      if (files.length) {
        event.preventDefault();
        this.addFiles(files);
      }
    });
    root.addEventListener("dragover", (event) => event.preventDefault());
    root.addEventListener("drop", (event) => {
      event.preventDefault();
      this.addFiles([...(event.dataTransfer?.files || [])]);
    });
  }

  setChannel(channel, label) {
    this.channel = channel;
    this.endCommand();
    this.text.placeholder = `Message ${label}`;
    this.showError("");
    this.picker.hide();
  }

  refreshCommands() {
    if (this.picker.open) this.picker.update(this.text.value, this.commands());
  }

  commands() {
    return this.channel ? this.app.store.commandsFor(this.channel) : [];
  }

  key(event) {
    if (this.picker.key(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.send();
    }
  }

  changed() {
    this.text.style.height = "auto";
    this.text.style.height = `${Math.min(this.text.scrollHeight, 240)}px`;
    this.picker.update(this.text.value, this.commands());
    const now = Date.now();
    if (this.channel && this.text.value && now - this.lastTyping > TYPING_EVERY_MS) {
      this.lastTyping = now;
      this.app.api.post(`/channels/${this.channel.id}/typing`, {});
    }
  }

  addFiles(files) {
    this.files.push(...files);
    this.renderFiles();
  }

  renderFiles() {
    this.fileList.hidden = !this.files.length;
    fill(
      this.fileList,
      ...this.files.map((file, i) =>
        h(
          "div",
          { class: "pending-file", dataset: { filename: file.name } },
          h("span", {}, `${file.name} · ${formatSize(file.size)}`),
          h("button", { type: "button", title: "Remove", onclick: () => this.removeFile(i) }, "×"),
        ),
      ),
    );
  }

  removeFile(index) {
    this.files.splice(index, 1);
    this.renderFiles();
  }

  async send() {
    const content = this.text.value;
    if (!this.channel || (!content.trim() && !this.files.length)) return;
    const body = new FormData();
    body.append("payload_json", JSON.stringify({ content }));
    this.files.forEach((file, i) => body.append(`files[${i}]`, file, file.name));
    const result = await this.app.api.postForm(`/channels/${this.channel.id}/messages`, body);
    if (result.failed) {
      this.showError(result.failed);
      return;
    }
    this.text.value = "";
    this.files = [];
    this.lastTyping = 0;
    this.renderFiles();
    this.changed();
    this.showError("");
  }

  showError(text) {
    this.error.textContent = text ? `⚠ ${text}` : "";
    this.error.hidden = !text;
  }

  startCommand(entry) {
    this.endCommand();
    this.text.value = "";
    this.form = new CommandForm(entry, this.channel, this.app, () => this.endCommand(true));
    this.formSlot.append(this.form.el);
    this.row.hidden = true;
    this.form.focus();
  }

  endCommand(refocus = false) {
    this.form?.el.remove();
    this.form = null;
    this.row.hidden = false;
    if (refocus) this.text.focus();
  }
}
