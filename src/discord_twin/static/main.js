// The web client: loads the twin's state, keeps it live, and wires the views together.
// The URL's hash names the open channel (#/channels/ID), so a reload keeps your place.
import { api, connectLive } from "./api.js";
import { Composer } from "./composer.js";
import { fill, h } from "./dom.js";
import { MessageList } from "./messages.js";
import { openModal } from "./modal.js";
import { Sidebar } from "./sidebar.js";
import { isThread, Store } from "./store.js";
import { TypingIndicator } from "./typing.js";

class App {
  constructor() {
    this.api = api;
    this.store = new Store();
    this.cursor = 0;
    this.sidebar = new Sidebar(
      document.getElementById("guilds"),
      document.getElementById("channels"),
      this,
    );
    this.list = new MessageList(document.getElementById("messages"), this);
    this.typing = new TypingIndicator(document.getElementById("typing"), this);
    this.composer = new Composer(document.getElementById("composer"), this);
    this.title = document.getElementById("channel-title");
    this.status = document.getElementById("live-status");
    this.store.subscribe((change) => this.changed(change));
    window.addEventListener("hashchange", () => this.openFromHash());
  }

  async start() {
    try {
      await this.reload();
    } catch (error) {
      console.error("web client: first load failed", error);
    }
    this.live = connectLive({
      cursor: () => this.cursor,
      onBatch: (batch) => this.batch(batch),
      onStatus: (live) => this.setLive(live),
      onReconnect: () => this.reload(),
    });
  }

  /** Snapshot, then the open channel's messages; the live feed continues from the snapshot. */
  async reload() {
    const state = await api.get("/state");
    if (state.failed) {
      this.title.textContent = `⚠ ${state.failed}`;
      return;
    }
    this.cursor = state.cursor;
    this.store.messages.clear();
    this.store.load(state);
    await this.openFromHash();
  }

  batch(batch) {
    this.cursor = batch.cursor;
    for (const frame of batch.frames) this.store.apply(frame);
  }

  setLive(live) {
    document.body.dataset.live = live ? "1" : "0";
    this.status.textContent = live ? "live" : "reconnecting…";
    this.status.classList.toggle("down", !live);
  }

  async openFromHash() {
    const wanted = /^#\/channels\/(\d+)$/.exec(location.hash)?.[1];
    const channel = this.store.channels.get(wanted) || this.defaultChannel();
    if (channel) await this.show(channel);
  }

  defaultChannel() {
    for (const guild of this.store.guilds) {
      const first = this.store.guildChannels(guild.id).find((c) => c.type === 0);
      if (first) return first;
    }
    return null;
  }

  openChannel(id) {
    location.hash = `#/channels/${id}`;
  }

  async show(channel) {
    const store = this.store;
    store.openChannelId = channel.id;
    store.unread.delete(channel.id);
    this.sidebar.guildId = channel.guild_id;
    this.sidebar.render();
    this.renderTitle(channel);
    this.composer.setChannel(channel, this.label(channel));
    this.typing.render();
    this.list.reset([]);
    store.beginLoading(channel.id);
    const messages = await api.get(`/channels/${channel.id}/messages`);
    if (store.openChannelId !== channel.id) return; // another channel was opened meanwhile
    if (messages.failed) {
      this.list.root.append(h("p", { class: "empty" }, `⚠ ${messages.failed}`));
      return;
    }
    store.setMessages(channel.id, messages);
  }

  label(channel) {
    return isThread(channel) ? channel.name : `#${channel.name}`;
  }

  renderTitle(channel) {
    const parent = isThread(channel) ? this.store.channels.get(channel.parent_id) : null;
    fill(
      this.title,
      parent
        ? h("a", { class: "title-parent", href: `#/channels/${parent.id}` }, `# ${parent.name}`)
        : null,
      parent ? h("span", { class: "title-sep" }, " › ") : null,
      h("span", { class: "title-name" }, isThread(channel) ? channel.name : `# ${channel.name}`),
      channel.topic ? h("span", { class: "title-topic" }, channel.topic) : null,
      channel.thread_metadata?.archived ? h("span", { class: "title-topic" }, "archived") : null,
    );
  }

  changed(change) {
    const store = this.store;
    const open = store.openChannelId;
    switch (change.t) {
      case "reset":
        this.sidebar.render();
        break;
      case "messages":
        if (change.channelId === open) this.list.reset(store.sortedMessages(open));
        break;
      case "message":
        if (change.message.channel_id === open) this.list.upsert(change.message);
        this.typing.stop(change.message.channel_id, change.message.author.id);
        this.sidebar.render();
        break;
      case "message_delete":
        if (change.channel_id === open) this.list.remove(change.id);
        break;
      case "channel":
      case "channel_delete":
        this.sidebar.render();
        if (change.channel?.id === open) this.renderTitle(change.channel);
        break;
      case "commands":
        this.composer.refreshCommands();
        break;
      case "typing":
        this.typing.add(change);
        break;
    }
  }

  /** An interaction from the page; a modal answer opens the modal. */
  async interact(path, body) {
    const outcome = await api.post(path, body);
    if (outcome.modal) openModal(this, outcome.interaction_id, outcome.modal);
    return outcome;
  }

  markdownContext() {
    const store = this.store;
    return {
      user: (id) => store.userName(id),
      channel: (id) => store.channels.get(id)?.name ?? null,
      role: (id) => store.roles.get(id)?.name ?? null,
      openChannel: (id) => this.openChannel(id),
    };
  }
}

const app = new App();
window.twinApp = app; // for people poking at the page from the console
app.start();
