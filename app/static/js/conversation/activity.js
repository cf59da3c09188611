// A list of activity entries (a task's in its dialog, a sprint's on its board):
// the server's one-sentence summaries, newest first, a page at a time with
// "Show more", and optionally a "Since you were last here" marker.

import { api, sameOrigin } from "../api.js";
import { clear, el } from "../dom.js";
import { splitSince } from "./since.js";

const PAGE_SIZE = 10;

/** A moment from the API (ISO-8601) as the person's locale writes it. */
export function formatMoment(at) {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function entryItem(entry, fresh) {
  return el(
    "li",
    { className: fresh ? "activity-entry is-new" : "activity-entry", dataset: { seq: String(entry.seq) } },
    el("span", { className: "activity-summary", text: entry.summary }),
    " ",
    el("time", { className: "activity-when", attrs: { datetime: entry.at }, text: formatMoment(entry.at) }),
  );
}

export class ActivityList {
  /**
   * `list` the <ol> to fill, `more` its "Show more" button, `status` a line for
   * empty and error notes; `signal` ends its listening.
   */
  constructor({ list, more, status, pageSize = PAGE_SIZE, signal }) {
    Object.assign(this, { list, more, status, pageSize });
    this.entries = [];
    this.next = null;
    this.path = null;
    this.marker = null;
    this.loads = 0;
    this.more.addEventListener("click", () => this.loadMore(), { signal });
  }

  /** Show the first page of `path` (an activity list); entries above `marker` (a seq) are new. */
  async show(path, { marker = null } = {}) {
    this.path = path;
    this.marker = marker;
    this.entries = [];
    await this.fetch(`${path}?page_size=${this.pageSize}`, true);
  }

  /** Load the first page again (keeps what "Show more" added when nothing older changed). */
  refresh() {
    return this.path ? this.fetch(`${this.path}?page_size=${this.pageSize}`, true) : null;
  }

  loadMore() {
    return this.next ? this.fetch(this.next, false) : null;
  }

  reset() {
    this.loads += 1;
    this.path = null;
    this.entries = [];
    this.next = null;
    this.render();
  }

  async fetch(url, first) {
    const load = ++this.loads;
    this.more.disabled = true;
    try {
      const { body } = await api.get(url);
      if (load !== this.loads) return;
      if (first) {
        // Entries older than this page that "Show more" had added stay, with their own next page.
        const oldest = body.results.at(-1)?.seq ?? Infinity;
        const kept = this.entries.filter((entry) => entry.seq < oldest);
        this.entries = [...body.results, ...kept];
        if (!kept.length) this.next = body.next ? sameOrigin(body.next) : null;
      } else {
        const known = new Set(this.entries.map((entry) => entry.seq));
        this.entries.push(...body.results.filter((entry) => !known.has(entry.seq)));
        this.next = body.next ? sameOrigin(body.next) : null;
      }
      this.render();
    } catch (error) {
      if (load !== this.loads) return;
      this.status.textContent = `The activity could not be loaded: ${error.message}`;
      this.status.hidden = false;
    } finally {
      if (load === this.loads) this.more.disabled = false;
    }
  }

  /** How many entries shown are new since the marker. */
  get freshCount() {
    return splitSince(this.entries, this.marker).fresh.length;
  }

  render() {
    const { fresh, older } = splitSince(this.entries, this.marker);
    clear(this.list);
    this.list.append(...fresh.map((entry) => entryItem(entry, true)));
    if (fresh.length && (older.length || !this.next)) {
      this.list.append(el("li", { className: "activity-marker", text: "Since you were last here" }));
    }
    this.list.append(...older.map((entry) => entryItem(entry, false)));
    this.more.hidden = !this.next;
    this.status.textContent = this.entries.length ? "" : "Nothing has happened yet.";
    this.status.hidden = this.entries.length > 0;
  }
}
