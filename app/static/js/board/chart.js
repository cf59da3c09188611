// The board's burndown: the sprint's history fetched once, today's point kept
// up to date from the board's own tasks on every render. The history is
// fetched again only when what it depends on changes: the (UTC) day, the
// sprint's dates, the unit (points in the sprint or none), or a resync of the board.

import { api } from "../api.js";
import { liveBurndown, renderBurndown } from "../burndown.js";
import { utcToday } from "../dates.js";

export class BoardChart {
  constructor(board) {
    this.board = board;
    this.container = document.getElementById("burndown-chart");
    this.caption = document.getElementById("burndown-caption");
    this.legend = document.getElementById("burndown-legend-actual");
    this.fetched = null; // the last burndown the server sent
    this.fetchedFor = null; // what it was fetched for (see key())
    this.loads = 0;
    this.drawn = null;
  }

  start() {
    this.container.replaceChildren();
    this.caption.textContent = "";
    let pending = null;
    this.resizeObserver = new ResizeObserver(() => {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(() => this.render());
    });
    this.resizeObserver.observe(this.container);
  }

  stop() {
    this.resizeObserver?.disconnect();
  }

  /** The board loaded afresh (a resync): its history may have changed in ways no change showed. */
  reset() {
    this.fetchedFor = null;
  }

  /** Whether the history must be fetched (again) for `now`, given the chart's `data` so far. */
  needsFetch(now, data) {
    const { sprint } = this.board;
    const key = `${now}|${sprint.start}|${sprint.end}`;
    const wanted = { key, unit: data ? data.unit : null };
    const last = this.fetchedFor;
    if (last && last.key === key && !(data?.stale && last.unit !== data.unit)) return null;
    return wanted;
  }

  async fetch(wanted) {
    const { board } = this;
    const load = ++this.loads;
    this.fetchedFor = wanted;
    try {
      const { body } = await api.get(`/api/sprints/${board.sprintId}/burndown`);
      if (load !== this.loads || board.stopped) return;
      this.fetched = body;
      this.render();
    } catch {
      // Shown again on the next render (a live change, the clock, or a reconnect's resync).
      if (load === this.loads) this.fetchedFor = null;
    }
  }

  render() {
    const { board } = this;
    if (board.stopped || !board.sprint) return;
    const now = utcToday();
    const tasks = board.store.sprintTasks();
    const data = this.fetched && liveBurndown(this.fetched, tasks, now);
    const wanted = this.needsFetch(now, data);
    if (wanted) this.fetch(wanted);
    if (!data) return;
    // Redraw only when something it shows changed (a render happens on every change of the board).
    const drawn = `${this.container.clientWidth}|${now}|${JSON.stringify(data)}`;
    if (drawn === this.drawn) return;
    this.drawn = drawn;
    this.caption.textContent = renderBurndown(this.container, data, now);
    this.legend.textContent = data.unit === "points" ? "Remaining points" : "Remaining tasks";
  }
}
