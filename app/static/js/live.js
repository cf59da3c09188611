// The Socket.IO connection: one per signed-in page, shared by the views.
//
// States shown to the person: "connecting", "live", "reconnecting", "offline".
// Socket.IO reconnects by itself after a network error; when the browser says it
// is offline we close the socket ourselves and reopen it as soon as it is back,
// rather than waiting for heartbeats to time out.

const STATE_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

export class Live {
  constructor(token, { onRefused } = {}) {
    this.handlers = new Map();
    this.onRefused = onRefused || (() => {});
    this.state = "connecting";
    this.closed = false;
    this.socket = window.io({
      auth: { token },
      autoConnect: false,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      timeout: 8000,
    });
    const socket = this.socket;
    socket.on("connect", () => {
      this.setState("live");
      this.emitLocal("connect");
    });
    socket.on("disconnect", (reason) => {
      this.emitLocal("disconnect", reason);
      if (this.closed) return;
      if (reason === "io server disconnect") {
        // The server closed this socket: the token was revoked or has expired.
        this.setState("offline");
        this.onRefused(reason);
      } else if (reason === "io client disconnect") {
        this.setState("offline");
      } else {
        this.setState(navigator.onLine ? "reconnecting" : "offline");
      }
    });
    socket.on("connect_error", (error) => {
      if (this.closed) return;
      if (!socket.active) {
        // Refused by the server (not a network error): Socket.IO does not retry these.
        this.setState("offline");
        this.onRefused(error.message);
      } else {
        this.setState(navigator.onLine ? "reconnecting" : "offline");
      }
    });
    for (const event of ["change", "hint", "presence"]) {
      socket.on(event, (payload) => this.emitLocal(event, payload));
    }
    this.goOffline = () => {
      this.setState("offline");
      socket.disconnect();
    };
    this.goOnline = () => {
      if (this.closed || socket.connected) return;
      this.setState("reconnecting");
      socket.connect();
    };
    window.addEventListener("offline", this.goOffline);
    window.addEventListener("online", this.goOnline);
  }

  connect() {
    this.setState(navigator.onLine ? "connecting" : "offline");
    if (navigator.onLine) this.socket.connect();
  }

  get connected() {
    return this.socket.connected;
  }

  close() {
    this.closed = true;
    window.removeEventListener("offline", this.goOffline);
    window.removeEventListener("online", this.goOnline);
    this.socket.disconnect();
    this.handlers.clear();
  }

  /** Listen to a server event (change, hint, presence) or to connect/disconnect/state. */
  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(handler);
    return () => this.handlers.get(event)?.delete(handler);
  }

  emitLocal(event, payload) {
    for (const handler of [...(this.handlers.get(event) || [])]) {
      try {
        handler(payload);
      } catch (error) {
        console.error(`A ${event} handler failed`, error);
      }
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emitLocal("state", state);
  }

  stateText() {
    return STATE_TEXT[this.state] || this.state;
  }

  /** Emit with an acknowledgement; resolves to the ack, or null when none came in time. */
  async call(event, payload, timeout = 8000) {
    if (!this.socket.connected) return null;
    try {
      return await this.socket.timeout(timeout).emitWithAck(event, payload);
    } catch {
      return null;
    }
  }

  subscribe(sprint, since) {
    return this.call("subscribe", { sprint, since: since ?? null });
  }

  unsubscribe(sprint) {
    return this.call("unsubscribe", { sprint });
  }

  hint(task, action) {
    if (this.socket.connected) this.socket.emit("hint", { task, action });
  }
}
