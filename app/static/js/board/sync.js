// Loading a board and following it live, as the reference client does:
// subscribe with `since` (null the first time), load over REST when there is no
// `since` or the ack says `resync`, and apply each `change` by the seq rules
// (./seq.js). Changes that arrive while the board is loading wait for it.

import { api, getAll } from "../api.js";
import { announce } from "../dom.js";
import { isOnBoard } from "../model.js";
import { isChange, SeqGate } from "./seq.js";

const GONE = "This sprint no longer exists.";
// How long a board opened while the socket connects waits for it before loading over REST alone.
const CONNECT_WAIT = 2500;

function backlogPath(sprint) {
  return sprint.project ? `/api/tasks?backlog=true&project=${sprint.project}` : "/api/tasks?backlog=true";
}

export class BoardSync {
  constructor(board) {
    this.board = board;
    this.gate = new SeqGate();
    this.loads = 0;
    this.loading = false;
    this.buffered = [];
    this.subscribeAttempt = 0;
  }

  /**
   * Not connected yet. A socket on its way loads the board with its first
   * subscribe (sprint, tasks and backlog once); offline, or when it takes too
   * long, load over REST now (that subscribe then loads again, to miss nothing).
   */
  loadUnlessConnecting() {
    const { live } = this.board;
    if (live.state !== "connecting" && live.state !== "reconnecting") {
      this.reload(null);
      return;
    }
    this.waiting = setTimeout(() => {
      if (!this.board.stopped && !live.connected && !this.board.sprint) this.reload(null);
    }, CONNECT_WAIT);
  }

  stop() {
    clearTimeout(this.waiting);
  }

  async subscribe() {
    const { board } = this;
    clearTimeout(this.waiting);
    const attempt = ++this.subscribeAttempt;
    const since = this.gate.last;
    if (since === null) this.loading = true; // hold live changes until the load below is done
    const ack = await board.live.subscribe(board.sprintId, since);
    if (board.stopped || attempt !== this.subscribeAttempt) return;
    if (!ack) {
      // No answer in time: try again while the socket is up (it resubscribes on reconnect anyway).
      this.finishLoading();
      if (board.live.connected) setTimeout(() => attempt === this.subscribeAttempt && this.subscribe(), 1000);
      return;
    }
    if (!ack.ok) {
      this.finishLoading();
      announce(ack.error || "This board cannot be followed live.", "error");
      if (/does not exist/.test(ack.error || "")) board.onGone(GONE);
      return;
    }
    board.feed.seen(ack.seq, { live: false });
    if (since === null || ack.resync) await this.reload(ack.seq);
  }

  /** Load the sprint, its tasks and the backlog over REST; `seq` is the ack's latest seq. */
  async reload(seq) {
    const { board } = this;
    const load = ++this.loads;
    const current = () => !board.stopped && load === this.loads;
    this.loading = true;
    try {
      const sprintTasksLoad = getAll(`/api/tasks?sprint=${board.sprintId}`);
      sprintTasksLoad.catch(() => {}); // awaited below, unless the sprint itself fails first
      const { body: sprint } = await api.get(`/api/sprints/${board.sprintId}`);
      // The backlog beside a sprint is its project's.
      const [sprintTasks, backlog] = await Promise.all([sprintTasksLoad, getAll(backlogPath(sprint))]);
      if (!current()) return;
      board.sprint = sprint;
      board.store.load([...sprintTasks, ...backlog]);
      board.chart.reset();
      if (seq !== null && seq !== undefined) this.gate.loadedUpTo(seq);
    } catch (error) {
      if (!current()) return;
      if (seq !== null && seq !== undefined) this.gate.forget(); // load again on the next subscribe
      if (error.status === 404) {
        board.onGone(GONE);
        return;
      }
      if (error.status === 401) return; // signed out
      announce(`The board could not be loaded: ${error.message}`, "error");
      setTimeout(() => current() && this.reload(seq), 5000);
    } finally {
      if (current()) this.finishLoading();
    }
  }

  finishLoading() {
    this.loading = false;
    const waiting = this.buffered;
    this.buffered = [];
    for (const change of waiting) this.apply(change);
    if (this.board.sprint) this.board.loaded();
  }

  onChange(change) {
    if (this.board.stopped || !isChange(change)) return;
    this.gate.saw(change.seq);
    this.board.feed.seen(change.seq);
    if (this.loading) {
      this.buffered.push(change);
      return;
    }
    if (this.apply(change)) this.board.render();
  }

  /** Apply one change by the per-object seq rule; returns whether the board changed. */
  apply(change) {
    const { board } = this;
    if (!this.gate.admit(change)) return false;
    if (change.model === "task") {
      const onBoard = isOnBoard(change.body, board.sprintId);
      const changed = board.store.applyChange(change);
      if (!onBoard) board.hints.clear(change.id);
      board.taskDialog.remoteChange(board, change.id, onBoard ? change.body : null, change.actor, change.action);
      return changed;
    }
    if (change.model === "comment") {
      board.taskDialog.commentChange(board, change);
      return false;
    }
    if (change.model === "sprint" && change.id === board.sprintId) {
      if (change.body === null) {
        board.onGone(`${change.actor || "Someone"} deleted this sprint.`);
        return false;
      }
      board.sprint = change.body;
      board.sprintDialog.remoteChange(board, change.body, change.actor);
      return true;
    }
    return false;
  }
}
