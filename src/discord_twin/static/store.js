// What the page knows about the twin: a snapshot from /state kept current by live frames.
// Views subscribe; `apply` calls them with what changed.
import { compareIds } from "./dom.js";

export class Store {
  constructor() {
    this.me = null;
    this.guilds = [];
    this.channels = new Map();
    this.users = new Map();
    this.roles = new Map();
    this.commands = [];
    this.messages = new Map(); // channel id -> Map(message id -> message), loaded on open
    this.unread = new Set();
    this.listeners = [];
  }

  load(state) {
    this.me = state.me;
    this.guilds = state.guilds;
    this.channels = new Map(state.channels.map((c) => [c.id, c]));
    this.users = new Map(state.users.map((u) => [u.id, u]));
    this.roles = new Map(state.roles.map((r) => [r.id, r]));
    this.commands = state.commands;
    this.emit({ t: "reset" });
  }

  subscribe(listener) {
    this.listeners.push(listener);
  }

  emit(change) {
    for (const listener of this.listeners) listener(change);
  }

  /** Collect frames for a channel while its messages load (they are newer than the fetch). */
  beginLoading(channelId) {
    this.messages.set(channelId, new Map());
  }

  setMessages(channelId, list) {
    const map = new Map();
    for (const m of list) {
      map.set(m.id, m);
      this.learnUser(m.author);
    }
    for (const [id, m] of this.messages.get(channelId) || []) map.set(id, m);
    this.messages.set(channelId, map);
    this.emit({ t: "messages", channelId });
  }

  /** Apply one live frame (see web_live.py); frames are whole current objects. */
  apply(frame) {
    switch (frame.t) {
      case "message": {
        const m = frame.message;
        this.learnUser(m.author);
        const map = this.messages.get(m.channel_id);
        if (map) map.set(m.id, m);
        if (!this.isOpen(m.channel_id)) this.unread.add(m.channel_id);
        this.emit({ t: "message", message: m });
        break;
      }
      case "message_delete": {
        this.messages.get(frame.channel_id)?.delete(frame.id);
        this.emit(frame);
        break;
      }
      case "channel":
        this.channels.set(frame.channel.id, frame.channel);
        this.emit(frame);
        break;
      case "channel_delete":
        this.channels.delete(frame.id);
        this.emit(frame);
        break;
      case "commands":
        this.commands = frame.commands;
        this.emit(frame);
        break;
      case "user":
        this.learnUser(frame.user);
        break;
      case "role":
        this.roles.set(frame.role.id, frame.role);
        break;
      default:
        this.emit(frame);
    }
  }

  learnUser(user) {
    if (user && user.id) this.users.set(user.id, user);
  }

  isOpen(channelId) {
    return this.openChannelId === channelId;
  }

  sortedMessages(channelId) {
    const map = this.messages.get(channelId);
    return map ? [...map.values()].sort((a, b) => compareIds(a.id, b.id)) : [];
  }

  guildChannels(guildId) {
    return [...this.channels.values()]
      .filter((c) => c.guild_id === guildId && !isThread(c))
      .sort((a, b) => a.position - b.position || compareIds(a.id, b.id));
  }

  threadsOf(channelId) {
    return [...this.channels.values()]
      .filter((c) => isThread(c) && c.parent_id === channelId)
      .sort((a, b) => compareIds(b.id, a.id));
  }

  /** Commands usable in a channel: the guild's own and the global ones, by name. */
  commandsFor(channel) {
    return this.commands
      .filter((c) => c.type === 1 && (!c.guild_id || c.guild_id === channel.guild_id))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  userName(id) {
    const user = this.users.get(id);
    return user ? user.global_name || user.username : null;
  }
}

export const THREAD_TYPES = new Set([10, 11, 12]);

export function isThread(channel) {
  return THREAD_TYPES.has(channel.type);
}

export function displayName(user) {
  return user ? user.global_name || user.username : "unknown";
}
