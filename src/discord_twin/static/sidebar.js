// Guilds, then each guild's channels by category, with every channel's threads under it.
import { fill, h } from "./dom.js";
import { isThread } from "./store.js";

const CATEGORY = 4;
const TEXT_TYPES = new Set([0, 5, 15]);

export class Sidebar {
  constructor(rail, channels, app) {
    this.rail = rail;
    this.channelsEl = channels;
    this.app = app;
    this.guildId = null;
  }

  render() {
    const store = this.app.store;
    if (!store.guilds.some((g) => g.id === this.guildId))
      this.guildId = store.guilds[0]?.id ?? null;
    fill(
      this.rail,
      ...store.guilds.map((g) =>
        h(
          "button",
          {
            class: g.id === this.guildId ? "guild active" : "guild",
            type: "button",
            title: g.name,
            dataset: { guildId: g.id },
            onclick: () => this.showGuild(g.id),
          },
          g.name
            .split(/\s+/)
            .map((w) => w[0])
            .join("")
            .slice(0, 3),
        ),
      ),
    );
    const guild = store.guilds.find((g) => g.id === this.guildId);
    if (!guild) {
      fill(this.channelsEl, h("p", { class: "empty" }, "No guilds yet."));
      return;
    }
    const channels = store.guildChannels(guild.id);
    const loose = channels.filter((c) => c.type !== CATEGORY && !c.parent_id);
    const parts = [
      h("h1", { class: "guild-name" }, guild.name),
      ...loose.map((c) => this.channel(c)),
    ];
    for (const category of channels.filter((c) => c.type === CATEGORY)) {
      parts.push(
        h(
          "section",
          { class: "category", dataset: { channelId: category.id } },
          h("h2", { class: "category-name" }, category.name.toUpperCase()),
          channels.filter((c) => c.parent_id === category.id).map((c) => this.channel(c)),
        ),
      );
    }
    fill(this.channelsEl, ...parts);
  }

  showGuild(guildId) {
    this.guildId = guildId;
    this.render();
    const first = this.app.store.guildChannels(guildId).find((c) => TEXT_TYPES.has(c.type));
    if (first) this.app.openChannel(first.id);
  }

  channel(channel) {
    const store = this.app.store;
    const threads = store.threadsOf(channel.id);
    const text = TEXT_TYPES.has(channel.type);
    return h(
      "div",
      { class: "channel-block" },
      this.link(channel, text ? "#" : "•", channel.name, text ? "channel" : "channel other"),
      threads.length
        ? h(
            "div",
            { class: "thread-list", dataset: { parentId: channel.id } },
            threads.map((t) =>
              this.link(t, "└", t.name, t.thread_metadata?.archived ? "thread archived" : "thread"),
            ),
          )
        : null,
    );
  }

  link(channel, glyph, name, kind) {
    const store = this.app.store;
    const classes = [kind];
    if (store.openChannelId === channel.id) classes.push("active");
    if (store.unread.has(channel.id)) classes.push("unread");
    return h(
      "a",
      {
        class: classes.join(" "),
        href: `#/channels/${channel.id}`,
        dataset: { channelId: channel.id },
        title: name,
      },
      h("span", { class: "glyph" }, glyph),
      h("span", { class: "name" }, name),
      isThread(channel) && channel.message_count
        ? h("span", { class: "count" }, String(channel.message_count))
        : null,
    );
  }
}
