// Undo on the toast after one's own move or delete. A move is undone by putting
// back the fields it changed, with the If-Match of the version the move produced:
// if anyone changed the task since, the undo is refused rather than overwriting
// them. A delete is undone by restoring the task (same id, fields and comments).

import { api, ApiError } from "../api.js";
import { announce } from "../dom.js";
import { friendlySentence } from "../messages.js";

/** The fields a move changed (`changes`), as they were in `before`: what undoing it sends. */
export function previousFields(before, changes) {
  const previous = {};
  for (const field of Object.keys(changes)) previous[field] = before[field] ?? null;
  return previous;
}

export class BoardUndo {
  constructor(board) {
    this.board = board;
  }

  /** Offer to undo a saved move: `before` the task as it was, `after` and `etag` what the move saved. */
  offerMove(message, before, changes, after, etag) {
    const previous = previousFields(before, changes);
    announce(message, "info", { label: "Undo", run: () => this.undoMove(after, previous, etag) });
  }

  offerDelete(message, task) {
    announce(message, "info", { label: "Undo", run: () => this.undoDelete(task) });
  }

  undoMove(after, previous, etag) {
    const { writes, store } = this.board;
    return writes.enqueue(async () => {
      try {
        const answer = await api.patch(`/api/tasks/${after.id}`, previous, { ifMatch: etag });
        store.remember(after.id, answer.etag, answer.body);
        store.setOverride(after.id, answer.body, false);
        this.board.render();
        announce(`Undone: “${answer.body.name}” is back where it was.`);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status === 412) {
          announce(`Cannot undo: someone changed “${after.name}” after your move. Nothing was changed.`, "error");
        } else if (error.status === 404) {
          announce(`Cannot undo: “${after.name}” has been deleted.`, "error");
        } else {
          announce(`Cannot undo: ${friendlySentence("task", error)}`, "error");
        }
      }
    });
  }

  async undoDelete(task) {
    const { store } = this.board;
    try {
      const { body, etag } = await api.post(`/api/tasks/${task.id}/restore`);
      store.remember(body.id, etag, body);
      store.setOverride(body.id, body, false); // shown now, until its live "add" arrives
      this.board.render();
      announce(`Restored “${body.name}”.`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      announce(`Cannot restore “${task.name}”: ${friendlySentence("task", error)}`, "error");
    }
  }
}
