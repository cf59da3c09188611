// A task on the board: a draggable card with its details button and a "Move to…" select.

import { formatDate, today } from "../dates.js";
import { clear, el, uniqueId } from "../dom.js";
import { COLUMNS, columnKeyOf, STATUS } from "../model.js";
import { formatPoints, hasPoints, shortPoints } from "../points.js";

export function initials(name) {
  const words = String(name).trim().split(/[\s._-]+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[1][0] : String(name).slice(0, 2);
  return letters.toUpperCase();
}

/** A person as a small avatar with their username beside it. */
export function personBadge(username, user, className) {
  const name = user && user.full_name ? user.full_name : username;
  return el(
    "span",
    { className, attrs: { title: name } },
    el("span", { className: "avatar avatar-small", attrs: { "aria-hidden": "true" }, text: initials(name) }),
    el("span", { text: username }),
  );
}

const KEY_SHORTCUTS = "Alt+ArrowLeft Alt+ArrowRight Alt+ArrowUp Alt+ArrowDown";

function shortDate(iso) {
  return formatDate(iso, { day: "numeric", month: "short" });
}

export class Card {
  constructor(board, task) {
    this.board = board;
    this.taskId = task.id;
    const titleId = uniqueId("task-title");
    const metaId = uniqueId("task-meta");
    this.title = el("button", { type: "button", className: "card-title", id: titleId });
    this.meta = el("p", { className: "card-meta", id: metaId });
    this.hint = el("p", { className: "card-hint", hidden: true });
    const selectId = uniqueId("move");
    this.moveLabel = el("label", { htmlFor: selectId, className: "visually-hidden" });
    this.move = el("select", { id: selectId, className: "card-move" });
    this.actions = el("div", { className: "card-actions" }, this.moveLabel, this.move);
    this.article = el(
      "article",
      { className: "task-card", attrs: { "aria-labelledby": titleId } },
      this.title,
      this.hint,
      el("div", { className: "card-foot" }, this.meta, this.actions),
    );
    this.item = el("li", { className: "card-item" }, this.article);
    this.describedBy = { writable: `${metaId} card-keys-help`, readOnly: metaId };

    this.title.addEventListener("click", () => board.taskDialog.open(board, this.taskId));
    this.move.addEventListener("change", () => {
      const columnKey = this.move.value;
      this.move.value = "";
      if (columnKey) board.writes.move(this.taskId, columnKey, board.store.columnTasks(columnKey).length, { focus: true });
    });
    this.article.addEventListener("keydown", (event) => {
      if (!event.altKey || event.ctrlKey || event.metaKey || event.target === this.move) return;
      if (board.writes.moveByKey(this.taskId, event.key)) event.preventDefault();
    });
    this.article.addEventListener("dragstart", (event) => {
      this.article.classList.add("is-dragging");
      board.drag.start(this.taskId, event);
    });
    this.article.addEventListener("dragend", () => {
      this.article.classList.remove("is-dragging");
      board.drag.end(this.taskId);
    });
  }

  update(task, hint) {
    const columnKey = columnKeyOf(task);
    if (this.title.textContent !== task.name) this.title.textContent = task.name;
    this.moveLabel.textContent = `Move “${task.name}” to`;
    this.article.dataset.column = columnKey;
    this.article.dataset.taskId = String(task.id);
    this.renderAccess(this.board.readOnly);
    this.renderMeta(task);
    this.renderMoveOptions(columnKey);
    this.renderHint(hint);
  }

  /** Viewers get no drag, no move select and no keyboard moves. */
  renderAccess(readOnly) {
    this.article.draggable = !readOnly;
    this.actions.hidden = readOnly;
    this.title.setAttribute("aria-describedby", readOnly ? this.describedBy.readOnly : this.describedBy.writable);
    if (readOnly) this.title.removeAttribute("aria-keyshortcuts");
    else this.title.setAttribute("aria-keyshortcuts", KEY_SHORTCUTS);
  }

  renderMeta(task) {
    const parts = [
      task.assigned
        ? personBadge(task.assigned, this.board.users.get(task.assigned), "assignee")
        : el("span", { className: "assignee unassigned", text: "Unassigned" }),
    ];
    if (task.due) {
      const overdue = task.status !== STATUS.DONE && task.due < today();
      const text = `${overdue ? "Overdue" : "Due"} ${shortDate(task.due)}`;
      parts.push(el("span", { className: overdue ? "due overdue" : "due", text }));
    }
    if (task.completed) parts.push(el("span", { className: "done-date", text: `Done ${shortDate(task.completed)}` }));
    if (hasPoints(task)) {
      const label = formatPoints(task.points);
      const attrs = { title: label, "data-points": task.points };
      parts.push(el("span", { className: "points", attrs }, shortPoints(task.points)));
    }
    this.meta.replaceChildren(...parts);
  }

  renderMoveOptions(columnKey) {
    if (this.moveSignature === columnKey) return;
    this.moveSignature = columnKey;
    clear(this.move);
    this.move.append(el("option", { value: "", text: "Move…" }));
    for (const column of COLUMNS) {
      if (column.key !== columnKey) this.move.append(el("option", { value: column.key, text: column.title }));
    }
  }

  renderHint(hint) {
    if (hint) {
      const mine = hint.user === this.board.me;
      this.hint.textContent = mine ? "You (in another window) are moving this" : `${hint.user} is moving this`;
      this.hint.hidden = false;
    } else {
      this.hint.hidden = true;
      this.hint.textContent = "";
    }
    this.article.classList.toggle("is-hinted", Boolean(hint));
  }

  focus() {
    this.title.focus();
  }
}
