// Drawing the board: its header, the columns of cards, who is on it and the burndown.
// Cards are kept between renders and moved only when out of place, so that a
// render never takes the focus off the card someone is working with.

import { renderBurndown } from "../burndown.js";
import { daysBetween, formatLongDate, today } from "../dates.js";
import { clear, el } from "../dom.js";
import { byOrder, COLUMNS, columnKeyOf, sprintName } from "../model.js";
import { addTaskControl } from "./addtask.js";
import { Card, initials } from "./card.js";

/** When a sprint ends, as the board's header says it on `now`. */
export function sprintWhen(sprint, now) {
  const left = daysBetween(now, sprint.end);
  const end = formatLongDate(sprint.end);
  if (left < 0) return `Ended ${end}`;
  if (left === 0) return `Ends ${end} · last day`;
  return `Ends ${end} · ${left} ${left === 1 ? "day" : "days"} left`;
}

export class BoardView {
  constructor(board) {
    this.board = board;
    this.cards = new Map(); // task id -> Card
    this.columns = new Map(); // column key -> {section, list, count, empty, add}
    const byId = (id) => document.getElementById(id);
    this.columnsRoot = byId("columns");
    this.title = byId("board-title");
    this.dates = byId("board-dates");
    this.description = byId("board-description");
    this.presenceList = byId("presence-list");
    this.chart = byId("burndown-chart");
    this.chartCaption = byId("burndown-caption");
    this.loadingNote = byId("board-loading");
  }

  start() {
    this.buildColumns();
    this.title.textContent = "Sprint";
    for (const node of [this.dates, this.description, this.presenceList, this.chart, this.chartCaption]) clear(node);
    this.loadingNote.hidden = false;
    let pending = null;
    this.resizeObserver = new ResizeObserver(() => {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(() => this.renderChart());
    });
    this.resizeObserver.observe(this.chart);
  }

  stop() {
    this.resizeObserver?.disconnect();
    clear(this.columnsRoot);
    this.cards.clear();
  }

  buildColumns() {
    clear(this.columnsRoot);
    this.cards.clear();
    this.columns.clear();
    for (const column of COLUMNS) {
      const headingId = `column-${column.key}`;
      const count = el("span", { className: "count" });
      const list = el("ol", { className: "task-list", attrs: { "aria-label": `${column.title} tasks` } });
      const empty = el("p", { className: "column-empty", text: "No tasks" });
      const add = addTaskControl(column, (name, form) => this.board.writes.create(name, column.key, form));
      const section = el(
        "section",
        { className: `column column-${column.key}`, attrs: { "aria-labelledby": headingId }, dataset: { column: column.key } },
        el("header", { className: "column-head" }, el("h2", { id: headingId, text: column.title }), count),
        list,
        empty,
        add,
      );
      this.board.drag.watch(section, column.key);
      this.columns.set(column.key, { section, list, count, empty, add });
      this.columnsRoot.append(section);
    }
  }

  loaded() {
    this.loadingNote.hidden = true;
  }

  render() {
    const { readOnly } = this.board;
    this.columnsRoot.classList.toggle("is-read-only", readOnly);
    for (const { add } of this.columns.values()) add.hidden = readOnly;
    this.renderHeader();
    this.renderColumns();
    this.renderPresence();
    this.renderChart();
  }

  renderHeader() {
    const { sprint } = this.board;
    const name = sprintName(sprint);
    this.title.textContent = name;
    document.title = `${name} · Scrum board`;
    this.dates.textContent = sprintWhen(sprint, today());
    this.description.textContent = sprint.description || "";
    this.description.hidden = !sprint.description;
  }

  renderColumns() {
    const { board } = this;
    const byColumn = new Map(COLUMNS.map((column) => [column.key, []]));
    for (const task of board.store.tasks.values()) byColumn.get(columnKeyOf(task)).push(task);
    for (const [taskId, card] of this.cards) {
      if (!board.store.tasks.has(taskId)) {
        card.item.remove();
        this.cards.delete(taskId);
      }
    }
    for (const column of COLUMNS) {
      const tasks = byColumn.get(column.key).sort(byOrder);
      const parts = this.columns.get(column.key);
      let previous = null;
      for (const task of tasks) {
        let card = this.cards.get(task.id);
        if (!card) {
          card = new Card(board, task);
          this.cards.set(task.id, card);
        }
        card.update(task, board.hints.get(task.id));
        // Move a card only when it is out of place: moving a node takes the focus off it.
        const wanted = previous ? previous.item.nextElementSibling : parts.list.firstElementChild;
        if (card.item.parentNode !== parts.list || wanted !== card.item) {
          if (previous) previous.item.after(card.item);
          else parts.list.prepend(card.item);
        }
        previous = card;
      }
      parts.count.replaceChildren(
        String(tasks.length),
        el("span", { className: "visually-hidden", text: tasks.length === 1 ? " task" : " tasks" }),
      );
      parts.empty.hidden = tasks.length > 0;
    }
  }

  renderPresence() {
    const { me, users, presence } = this.board;
    clear(this.presenceList);
    for (const username of presence.length ? presence : [me]) {
      const user = users.get(username);
      const label = user && user.full_name ? user.full_name : username;
      this.presenceList.append(
        el(
          "li",
          { className: username === me ? "presence-user is-me" : "presence-user" },
          el("span", { className: "avatar", attrs: { "aria-hidden": "true" }, text: initials(label) }),
          el("span", { className: "presence-name", text: username }),
          username === me ? el("span", { className: "muted", text: " (you)" }) : null,
        ),
      );
    }
  }

  renderChart() {
    const { board } = this;
    if (board.stopped || !board.sprint) return;
    const width = this.chart.clientWidth;
    const signature = this.chartSignature();
    if (width === this.chartWidth && signature === this.chartTasks) return;
    this.chartWidth = width;
    this.chartTasks = signature;
    renderBurndown(this.chart, this.chartCaption, board.sprint, board.store.sprintTasks());
  }

  /** What the chart depends on, to skip redrawing it when nothing it shows changed. */
  chartSignature() {
    const parts = this.board.store.sprintTasks().map((task) => `${task.id}:${task.started}:${task.completed}`);
    return `${today()}|${this.board.sprint.end}|${parts.sort().join(",")}`;
  }

  updateCard(taskId) {
    const task = this.board.store.tasks.get(taskId);
    if (task) this.cards.get(taskId)?.update(task, this.board.hints.get(taskId));
  }

  focusCard(taskId) {
    this.cards.get(taskId)?.focus();
  }

  cardItem(taskId) {
    return this.cards.get(taskId)?.item;
  }

  columnList(columnKey) {
    return this.columns.get(columnKey).list;
  }

  /** Highlight the column a card would drop into (none for null). */
  markDropTarget(columnKey) {
    for (const [key, parts] of this.columns) parts.section.classList.toggle("is-drop-target", key === columnKey);
  }
}
