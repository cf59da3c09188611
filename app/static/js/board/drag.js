// Dragging cards between and within columns: a drop indicator where the card
// would land, hints to the others on the board, and the move itself on drop.

import { el } from "../dom.js";

/**
 * The position among a column's cards (`boxes`, top to bottom) that a pointer at
 * `y` points to: just after the last card whose middle it is below. Cards the
 * filter hides have no box; they keep their place in the count.
 */
export function indexAt(y, boxes) {
  let index = 0;
  boxes.forEach((box, position) => {
    if (box && y > box.top + box.height / 2) index = position + 1;
  });
  return index;
}

export class BoardDrag {
  constructor(board) {
    this.board = board;
    this.dragging = null; // {taskId, dropped}
    this.indicator = el("li", { className: "drop-indicator", attrs: { "aria-hidden": "true" } });
  }

  /** Listen on a column's section for cards dragged over it. */
  watch(section, columnKey) {
    section.addEventListener("dragover", (event) => this.over(event, columnKey));
    section.addEventListener("dragleave", (event) => {
      if (!section.contains(event.relatedTarget)) this.removeIndicator();
    });
    section.addEventListener("drop", (event) => this.drop(event, columnKey));
  }

  start(taskId, event) {
    if (this.board.readOnly) {
      event.preventDefault();
      return;
    }
    this.dragging = { taskId, dropped: false };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", String(taskId));
    this.board.live.hint(taskId, "dragstart");
    this.board.writes.prefetch(taskId);
  }

  end(taskId) {
    if (this.dragging && this.dragging.taskId === taskId && !this.dragging.dropped) {
      this.board.live.hint(taskId, "dragend");
    }
    this.dragging = null;
    this.removeIndicator();
  }

  over(event, columnKey) {
    if (!this.dragging) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    this.showIndicator(columnKey, this.dropIndex(columnKey, event.clientY));
  }

  drop(event, columnKey) {
    if (!this.dragging) return;
    event.preventDefault();
    const { taskId } = this.dragging;
    this.dragging.dropped = true;
    const index = this.dropIndex(columnKey, event.clientY);
    this.removeIndicator();
    this.board.live.hint(taskId, "drop");
    this.board.writes.move(taskId, columnKey, index);
  }

  /** The column's cards without the one being dragged, in order. */
  otherCards(columnKey) {
    const draggedId = this.dragging?.taskId;
    return this.board.store
      .columnTasks(columnKey)
      .filter((task) => task.id !== draggedId)
      .map((task) => this.board.view.cardItem(task.id));
  }

  dropIndex(columnKey, y) {
    return indexAt(y, this.otherCards(columnKey).map((item) => item?.getBoundingClientRect()));
  }

  showIndicator(columnKey, index) {
    const before = this.otherCards(columnKey).slice(index).find(Boolean); // the next card shown
    const list = this.board.view.columnList(columnKey);
    if (before) list.insertBefore(this.indicator, before);
    else list.append(this.indicator);
    this.board.view.markDropTarget(columnKey);
  }

  removeIndicator() {
    this.indicator.remove();
    this.board.view.markDropTarget(null);
  }
}
