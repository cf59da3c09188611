// The sprint's activity beside the board: a drawer that lists what happened,
// newest first, with a "Since you were last here" marker at the last seq this
// browser saw on the board (kept per person and board, ../conversation/since.js).

import { ActivityList } from "../conversation/activity.js";
import { LastSeen } from "../conversation/since.js";

const REFRESH_DELAY = 600; // ms: live changes in a burst refresh the list once

export class BoardFeed {
  constructor(board) {
    this.board = board;
    this.lastSeen = new LastSeen(window.localStorage, board.me, board.sprintId);
    this.marker = this.lastSeen.read(); // as it was when the board opened
    this.toggle = document.getElementById("activity-toggle");
    this.panel = document.getElementById("board-activity");
    this.listening = new AbortController();
    this.list = new ActivityList({
      list: document.getElementById("board-activity-list"),
      more: document.getElementById("board-activity-more"),
      status: document.getElementById("board-activity-status"),
      pageSize: 20,
      signal: this.listening.signal,
    });
    this.timer = null;
  }

  start() {
    const { signal } = this.listening;
    this.setOpen(false);
    this.toggle.addEventListener("click", () => this.setOpen(this.panel.hidden), { signal });
    this.panel.querySelector('[data-action="close"]').addEventListener("click", () => this.setOpen(false), {
      signal,
    });
    this.list.show(`/api/sprints/${this.board.sprintId}/activity`, { marker: this.marker }).then(() => this.label());
  }

  stop() {
    this.listening.abort();
    clearTimeout(this.timer);
    this.list.reset();
    this.setOpen(false);
  }

  setOpen(open) {
    this.panel.hidden = !open;
    this.toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) this.panel.focus();
  }

  /**
   * The board saw `seq` (a live change, or the log's latest when it subscribed): remember it,
   * refresh the list. A latest below the seq kept is another log's (the database was restored
   * or is new), whose numbers say nothing of the one kept.
   */
  seen(seq, { live = true } = {}) {
    if (!live && typeof seq === "number" && seq < (this.lastSeen.read() ?? seq)) {
      this.logReplaced(seq);
      return;
    }
    this.lastSeen.write(seq);
    if (!live) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.list.refresh()?.then(() => this.label()), REFRESH_DELAY);
  }

  /** "Since you were last here" starts over at `seq`, the new log's latest. */
  logReplaced(seq) {
    this.lastSeen.restart(seq);
    this.marker = seq;
    this.list.marker = seq;
    if (this.list.entries.length) this.list.render();
    this.label();
  }

  label() {
    const fresh = this.list.freshCount;
    this.toggle.textContent = fresh ? `Activity · ${fresh} new` : "Activity";
  }
}
