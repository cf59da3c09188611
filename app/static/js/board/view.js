// Drawing the board: its header, the columns of cards and who is on it (the
// burndown is ./chart.js).
// Cards are kept between renders and moved only when out of place, so that a
// render never takes the focus off the card someone is working with.

import { daysBetween, formatLongDate, today } from "../dates.js";
import { byIds, clear, el } from "../dom.js";
import { byOrder, COLUMNS, columnKeyOf, sprintName } from "../model.js";
import { columnTotals, formatPoints, shortPoints } from "../points.js";
import { addTaskControl } from "./addtask.js";
import { Card, initials } from "./card.js";
import { countText, matchesFilter } from "./filters.js";
import { ColumnTabs } from "./tabs.js";

/** When a sprint runs, as the board's header says it on `now`. */
export function sprintWhen(sprint, now) {
  const left = daysBetween(now, sprint.end);
  const end = formatLongDate(sprint.end);
  const start = sprint.start ? `${sprint.start > now ? "Starts" : "Started"} ${formatLongDate(sprint.start)} · ` : "";
  if (left < 0) return `${start}Ended ${end}`;
  if (left === 0) return `${start}Ends ${end} · last day`;
  return `${start}Ends ${end} · ${left} ${left === 1 ? "day" : "days"} left`;
}

/** A column header's figures: its task count, and "8 pts" (null when no task has points). */
export function columnFigures(tasks) {
  const { count, points } = columnTotals(tasks);
  if (points === null) return { count, points, short: null, long: "" };
  return { count, points, short: shortPoints(points), long: formatPoints(points) };
}

export class BoardView {
  constructor(board) {
    this.board = board;
    this.cards = new Map(); // task id -> Card
    this.columns = new Map(); // column key -> {section, list, count, empty, add}
    Object.assign(
      this,
      byIds({
        columnsRoot: "columns",
        title: "board-title",
        dates: "board-dates",
        description: "board-description",
        presenceList: "presence-list",
        editButton: "sprint-edit-open",
        loadingNote: "board-loading",
        headToggle: "board-head-toggle",
      }),
    );
    this.tabs = new ColumnTabs(board);
    // On a phone the sprint's details and burndown fold away above the columns (app.css).
    this.head = this.columnsRoot.parentNode.querySelector(".board-head");
    this.toggleHead = () => this.foldHead(this.headToggle.getAttribute("aria-expanded") === "true");
  }

  foldHead(folded) {
    this.head.classList.toggle("is-folded", folded);
    this.headToggle.setAttribute("aria-expanded", String(!folded));
  }

  start() {
    this.buildColumns();
    this.title.textContent = "Sprint";
    for (const node of [this.dates, this.description, this.presenceList]) clear(node);
    this.editButton.hidden = true;
    this.loadingNote.hidden = false;
    this.foldHead(true);
    this.headToggle.addEventListener("click", this.toggleHead);
  }

  stop() {
    clear(this.columnsRoot);
    this.cards.clear();
    this.tabs.stop();
    this.headToggle.removeEventListener("click", this.toggleHead);
  }

  buildColumns() {
    clear(this.columnsRoot);
    this.cards.clear();
    this.columns.clear();
    for (const column of COLUMNS) {
      const headingId = `column-${column.key}`;
      const count = el("span", { className: "count" });
      const points = el("span", { className: "column-points", hidden: true });
      const list = el("ol", { className: "task-list", attrs: { "aria-label": `${column.title} tasks` } });
      const empty = el("p", { className: "column-empty", text: "No tasks" });
      const add = addTaskControl(column, (name, form) => this.board.writes.create(name, column.key, form));
      const section = el(
        "section",
        {
          id: `column-section-${column.key}`,
          className: `column column-${column.key}`,
          attrs: { "aria-labelledby": headingId },
          dataset: { column: column.key },
        },
        el("header", { className: "column-head" }, el("h2", { id: headingId, text: column.title }), points, count),
        list,
        empty,
        add,
      );
      this.board.drag.watch(section, column.key);
      this.columns.set(column.key, { section, list, count, points, empty, add });
      this.columnsRoot.append(section);
    }
    this.tabs.build(new Map([...this.columns].map(([key, parts]) => [key, parts.section])));
  }

  loaded() {
    this.loadingNote.hidden = true;
  }

  render() {
    const { readOnly } = this.board;
    this.columnsRoot.classList.toggle("is-read-only", readOnly);
    for (const { add } of this.columns.values()) add.hidden = readOnly;
    this.editButton.hidden = readOnly;
    this.renderHeader();
    this.board.filterBar.renderAssignees();
    this.renderColumns();
    this.renderPresence();
    this.board.chart.render();
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

  /** The columns' tasks in order: `all` of them, and those `shown` by the filter. */
  columnTasks() {
    const { store, filterBar, me } = this.board;
    const context = { me, today: today() };
    const byColumn = new Map(COLUMNS.map((column) => [column.key, { all: [], shown: [] }]));
    for (const task of [...store.tasks.values()].sort(byOrder)) {
      const lists = byColumn.get(columnKeyOf(task));
      lists.all.push(task);
      if (!filterBar.filtering || matchesFilter(task, filterBar.filter, context)) lists.shown.push(task);
    }
    return byColumn;
  }

  renderColumns() {
    const { board } = this;
    const byColumn = this.columnTasks();
    const shownIds = new Set([...byColumn.values()].flatMap(({ shown }) => shown.map((task) => task.id)));
    for (const [taskId, card] of this.cards) {
      if (!shownIds.has(taskId)) {
        card.item.remove();
        this.cards.delete(taskId);
      }
    }
    for (const column of COLUMNS) {
      const { all, shown: tasks } = byColumn.get(column.key);
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
      const figures = columnFigures(all);
      parts.count.replaceChildren(
        countText(tasks.length, all.length, board.filterBar.filtering),
        el("span", { className: "visually-hidden", text: all.length === 1 ? " task" : " tasks" }),
      );
      parts.points.textContent = figures.short || "";
      parts.points.title = figures.long;
      parts.points.hidden = figures.points === null;
      parts.section.dataset.points = figures.points === null ? "" : String(figures.points);
      this.tabs.setCount(column.key, tasks.length);
      parts.empty.hidden = tasks.length > 0;
      parts.empty.textContent = all.length ? "No matching tasks" : "No tasks";
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
