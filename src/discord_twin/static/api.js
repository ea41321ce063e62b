// HTTP calls to /_twin/web and the live WebSocket. Failures come back as `{failed: text}` so
// the views can show them where the user acted, as Discord does.
const BASE = "/_twin/web";

async function call(path, init) {
  try {
    const response = await fetch(BASE + path, { cache: "no-store", ...init });
    const text = await response.text();
    const body = text ? JSON.parse(text) : {};
    if (!response.ok)
      return { failed: body.message || `${response.status} ${response.statusText}` };
    return body;
  } catch (error) {
    return { failed: `the twin could not be reached (${error.message})` };
  }
}

export const api = {
  get: (path) => call(path, {}),
  post: (path, body) =>
    call(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }),
  postForm: (path, form) => call(path, { method: "POST", body: form }),
};

/**
 * Keep a live feed open from `cursor()`: each batch goes to `onBatch`; after a drop, wait,
 * then call `onReconnect` (which reloads the snapshot and so moves the cursor) and reopen.
 */
export function connectLive({ cursor, onBatch, onStatus, onReconnect }) {
  let delay = 250;
  const live = { socket: null };
  const open = () => {
    const url = new URL(`${BASE}/live?since=${cursor()}`, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    live.socket = socket;
    socket.addEventListener("open", () => {
      delay = 250;
      onStatus(true);
    });
    socket.addEventListener("message", (event) => onBatch(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      onStatus(false);
      setTimeout(async () => {
        await onReconnect();
        open();
      }, delay);
      delay = Math.min(delay * 2, 5000);
    });
  };
  open();
  return live;
}
