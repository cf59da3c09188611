// The page's addresses, each of which opens its view directly (after signing in,
// when signed out: the address is kept while the person signs in):
//
//   ?project=ID#/                                 that project's sprint list
//   ?project=ID#/sprint/ID                        that sprint's board
//   ?project=ID&assignee=me&q=login&overdue=1#/sprint/ID   the board, filtered
//   ?project=ID#/sprint/ID/task/ID                the board with that task's dialog open
//
// The query string holds the project and the filter (see board/filters.js), the
// fragment the view. The task dialog keeps its task in the address while open.

import { TaskDialog } from "./taskdialog.js";

const ROUTE = /^#\/sprint\/(\d+)(?:\/task\/(\d+))?\/?$/;

/** `{sprintId, taskId}` named by a fragment (each null when not named). */
export function parseRoute(hash) {
  const match = ROUTE.exec(hash);
  return {
    sprintId: match ? Number(match[1]) : null,
    taskId: match && match[2] ? Number(match[2]) : null,
  };
}

/** The fragment of a sprint's board, with a task's dialog open when `taskId` is given. */
export function routeHash(sprintId, taskId = null) {
  return `#/sprint/${sprintId}` + (taskId ? `/task/${taskId}` : "");
}

function replaceHash(hash) {
  if (window.location.hash !== hash) window.history.replaceState(null, "", window.location.search + hash);
}

/** The task dialog, keeping the task it shows in the address (so the address can be shared). */
export class LinkedTaskDialog extends TaskDialog {
  constructor(options) {
    super(options);
    this.linked = null; // {sprintId, taskId} put in the address when opened
    this.dialog.addEventListener("close", () => {
      const { sprintId, taskId } = parseRoute(window.location.hash);
      // Only when the address still names this task (not when it already names another view).
      if (this.linked && this.linked.taskId === taskId) replaceHash(routeHash(sprintId));
      this.linked = null;
    });
  }

  open(board, taskId) {
    const opening = super.open(board, taskId);
    if (this.isOpen && this.taskId === taskId) {
      this.linked = { sprintId: board.sprintId, taskId };
      replaceHash(routeHash(board.sprintId, taskId));
    }
    return opening;
  }

  /** Open the task an address names on `board` (once it has loaded); false when it is not on it. */
  openLinked(board, taskId) {
    if (this.isOpen && this.taskId === taskId) return true;
    if (!board.store.tasks.get(taskId)) {
      replaceHash(routeHash(board.sprintId));
      return false;
    }
    this.open(board, taskId);
    return true;
  }
}
