// A minimal client of the coordinator's SockJS event-bus bridge, over SockJS's raw WebSocket endpoint
// (/eventbus/websocket: plain JSON frames, no SockJS framing). Outbound only: the page registers for addresses and
// receives; the bridge permits nothing inbound. Reconnects with backoff; when the session is gone, goes to login.
"use strict";

class FleetBus {
  constructor(path, onState) {
    this.url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path + "/websocket";
    this.handlers = new Map();
    this.onState = onState || (() => {});
    this.backoff = 500;
    this.bytes = 0;
    this.messages = 0;
    this.connect();
  }

  on(address, handler) {
    this.handlers.set(address, handler);
    this.send({ type: "register", address });
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
    }
  }

  connect() {
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer"; // the raw endpoint sends its JSON frames as binary WebSocket messages
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 500;
      this.onState("live");
      for (const address of this.handlers.keys()) {
        this.send({ type: "register", address });
      }
      this.pinger = setInterval(() => this.send({ type: "ping" }), 5000);
    };
    const decoder = new TextDecoder();
    ws.onmessage = (event) => {
      const text = typeof event.data === "string" ? event.data : decoder.decode(event.data);
      this.bytes += typeof event.data === "string" ? event.data.length : event.data.byteLength;
      this.messages++;
      let frame;
      try {
        frame = JSON.parse(text);
      } catch (e) {
        return;
      }
      if (frame.type === "rec" && this.handlers.has(frame.address)) {
        this.handlers.get(frame.address)(frame.body);
      }
    };
    ws.onclose = () => {
      clearInterval(this.pinger);
      this.onState("reconnecting");
      fetch("/api/me", { credentials: "same-origin" }).then((r) => {
        if (r.status === 401) {
          location.href = "/login.html";
        }
      }, () => {});
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
    ws.onerror = () => {};
  }
}
