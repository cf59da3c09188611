// Changes made while the board is offline: kept in order in a visible list
// ("2 changes waiting to be sent") and shown on the board meanwhile, then sent
// on reconnect, each with the If-Match of the version the person changed, so a
// conflict opens the conflict dialog as any other would. Nothing is dropped
// unseen: each is sent, or refused with a message, or the person chooses.

import { announce, clear, el } from "../dom.js";
import { COLUMN_BY_KEY, columnKeyOf, FIELD_LABELS, sameTask } from "../model.js";

/** What a queued change is called in the list: a move, a reorder or an edit. */
export function waitingLabel(base, changes) {
  const after = { ...base, ...changes };
  const name = `“${base.name}”`;
  if (columnKeyOf(after) !== columnKeyOf(base)) return `Move ${name} to ${COLUMN_BY_KEY.get(columnKeyOf(after)).title}`;
  const fields = Object.keys(changes).filter((field) => field !== "order");
  if (!fields.length) return `Reorder ${name}`;
  return `Edit ${name}: ${fields.map((field) => FIELD_LABELS[field] || field).join(", ").toLowerCase()}`;
}

export const QUEUED = Symbol("queued");

export class Outbox {
  constructor(board) {
    this.board = board;
    this.items = []; // {base, changes, after, label}, oldest first
    this.flushing = false;
    this.section = document.getElementById("outbox");
    this.heading = document.getElementById("outbox-title");
    this.list = document.getElementById("outbox-list");
    this.warnOnLeave = (event) => {
      if (this.items.length) event.preventDefault();
    };
  }

  start() {
    window.addEventListener("beforeunload", this.warnOnLeave);
    this.render();
  }

  stop() {
    window.removeEventListener("beforeunload", this.warnOnLeave);
    if (this.items.length) {
      announce(`${this.count()} made while offline could not be sent and were discarded.`, "error");
    }
    this.items = [];
    this.render();
  }

  /** Whether a write must wait: the live connection is down. */
  get offline() {
    return !this.board.live.connected;
  }

  count() {
    return this.items.length === 1 ? "1 change" : `${this.items.length} changes`;
  }

  /** Keep a change to send later; resolves to QUEUED. */
  add(base, changes) {
    this.items.push({ base, changes, after: { ...base, ...changes }, label: waitingLabel(base, changes) });
    this.showWaiting();
    announce(`You are offline: ${this.count()} waiting to be sent when the connection is back.`);
    return QUEUED;
  }

  /** Show every waiting change on the board (the latest of each task wins). */
  showWaiting() {
    for (const item of this.items) this.board.store.setOverride(item.base.id, item.after, true);
    this.render();
    this.board.render();
  }

  /** Send the waiting changes in order; stops (keeping the rest) if the connection drops again. */
  async flush() {
    if (this.flushing || !this.items.length) return;
    this.flushing = true;
    const { writes } = this.board;
    const sent = new Map(); // task id -> {after, saved}: a later change of a task builds on the one sent
    let all = true;
    while (this.items.length && !this.offline && !this.board.stopped) {
      const item = this.items[0];
      const previous = sent.get(item.base.id);
      const base = previous?.saved && sameTask(previous.after, item.base) ? previous.saved : item.base;
      const saved = await writes.enqueue(() => writes.save(base, item.changes, { optimistic: true, sending: true }));
      if (saved === QUEUED) break;
      this.items.shift();
      all = all && Boolean(saved) && typeof saved === "object";
      sent.set(item.base.id, { after: item.after, saved: typeof saved === "object" ? saved : null });
      this.render();
    }
    this.flushing = false;
    if (this.items.length) this.showWaiting();
    else if (all && sent.size) announce("Every change made while offline has been sent.");
  }

  render() {
    clear(this.list);
    for (const item of this.items) this.list.append(el("li", { text: item.label }));
    this.heading.textContent = `${this.count()} waiting to be sent`;
    this.section.hidden = this.items.length === 0;
  }
}
