// Who else is moving a card right now: the `hint`s of the other people on the
// board, each forgotten on dragend or drop. The server sends that dragend for
// its sender too when the sender leaves the board (closes the tab, loses the
// connection); the lifetime below only covers a server that could not.

const HINT_LIFETIME = 30000;

export class RemoteHints {
  constructor(board) {
    this.board = board;
    this.hints = new Map(); // task id -> {user, timer}
  }

  get(taskId) {
    return this.hints.get(taskId);
  }

  onHint(hint) {
    const { board } = this;
    if (board.stopped || !hint || !board.store.tasks.has(hint.task)) return;
    this.clear(hint.task, false);
    if (hint.action === "dragstart") {
      const timer = setTimeout(() => this.clear(hint.task), HINT_LIFETIME);
      this.hints.set(hint.task, { user: hint.user, timer });
    }
    board.view.updateCard(hint.task);
  }

  clear(taskId, refresh = true) {
    const hint = this.hints.get(taskId);
    if (!hint) return;
    clearTimeout(hint.timer);
    this.hints.delete(taskId);
    if (refresh) this.board.view.updateCard(taskId);
  }

  clearAll() {
    for (const taskId of [...this.hints.keys()]) this.clear(taskId);
  }
}
