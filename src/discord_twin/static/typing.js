// "kimaki is typing…": a user types for about 10 s after each typing event, or until their
// message arrives in that channel.
import { fill, h } from "./dom.js";

const TYPING_MS = 10000;

export class TypingIndicator {
  constructor(el, app) {
    this.el = el;
    this.app = app;
    this.typers = new Map(); // channel id -> Map(user id -> {name, until})
    this.timer = null;
  }

  add(frame) {
    const user = frame.user;
    if (!user || user.id === this.app.store.me.id) return; // Discord does not show your own
    const channel = this.typers.get(frame.channel_id) || new Map();
    channel.set(user.id, {
      name: user.global_name || user.username,
      until: Date.now() + TYPING_MS,
    });
    this.typers.set(frame.channel_id, channel);
    this.render();
  }

  stop(channelId, userId) {
    if (this.typers.get(channelId)?.delete(userId)) this.render();
  }

  render() {
    const now = Date.now();
    for (const [channelId, users] of this.typers) {
      for (const [id, entry] of users) if (entry.until <= now) users.delete(id);
      if (!users.size) this.typers.delete(channelId);
    }
    const names = [...(this.typers.get(this.app.store.openChannelId)?.values() || [])].map(
      (u) => u.name,
    );
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing`;
    else if (names.length === 2 || names.length === 3)
      text = `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are typing`;
    else if (names.length > 3) text = "Several people are typing";
    fill(
      this.el,
      ...(text
        ? [
            h("span", { class: "typing-dots" }, "•••"),
            h("span", { class: "typing-text" }, `${text}…`),
          ]
        : []),
    );
    this.el.classList.toggle("active", Boolean(text));
    clearTimeout(this.timer);
    if (this.typers.size) this.timer = setTimeout(() => this.render(), 1000);
  }
}
