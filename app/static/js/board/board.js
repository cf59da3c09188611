// One sprint's board: its columns and the backlog, kept in step with the server.
//
// The parts, one concern each: ./store.js the tasks as shown (pure), ./seq.js
// which live changes apply (pure), ./sync.js loading and following the board,
// ./writes.js saving with ETags and conflicts, ./drag.js drag and drop,
// ./hints.js the others' drags, ./view.js and ./card.js drawing it, ./chart.js
// its burndown, ./filterbar.js its filters, ./feed.js its activity, ./outbox.js
// changes made offline, ./undo.js undoing one's own moves and deletes.

import { canWrite } from "../projects/list.js";
import { BoardChart } from "./chart.js";
import { BoardDrag } from "./drag.js";
import { BoardFeed } from "./feed.js";
import { FilterBar } from "./filterbar.js";
import { RemoteHints } from "./hints.js";
import { Outbox } from "./outbox.js";
import { TaskStore } from "./store.js";
import { BoardSync } from "./sync.js";
import { BoardUndo } from "./undo.js";
import { BoardView } from "./view.js";
import { BoardWrites } from "./writes.js";

export class Board {
  /**
   * `roleOf(projectId)` is my role in a project (the board is read-only unless I
   * may write to its sprint's project); `onLoaded(sprint)` after each load;
   * `onGone(message)` when the sprint no longer exists.
   */
  constructor({ sprintId, live, users, me, taskDialog, sprintDialog, roleOf, onLoaded = () => {}, onGone }) {
    this.sprintId = sprintId;
    this.live = live;
    this.users = users;
    this.me = me;
    this.taskDialog = taskDialog;
    this.sprintDialog = sprintDialog;
    this.onGone = onGone;
    this.roleOf = roleOf;
    this.onLoaded = onLoaded;
    this.sprint = null;
    this.presence = [];
    this.stopped = false;
    this.unlisten = [];

    this.store = new TaskStore(sprintId, { onExpire: () => this.render() });
    this.sync = new BoardSync(this);
    this.writes = new BoardWrites(this);
    this.outbox = new Outbox(this);
    this.undo = new BoardUndo(this);
    this.filterBar = new FilterBar(this);
    this.feed = new BoardFeed(this);
    this.hints = new RemoteHints(this);
    this.drag = new BoardDrag(this);
    this.view = new BoardView(this);
    this.chart = new BoardChart(this);
  }

  start() {
    this.view.start();
    this.chart.start();
    this.filterBar.start();
    this.outbox.start();
    this.feed.start();
    this.unlisten.push(
      this.live.on("connect", () => {
        this.sync.subscribe();
        this.outbox.flush();
      }),
      this.live.on("disconnect", () => this.hints.clearAll()),
      this.live.on("change", (change) => this.sync.onChange(change)),
      this.live.on("hint", (hint) => this.hints.onHint(hint)),
      this.live.on("presence", (presence) => this.onPresence(presence)),
    );
    if (this.live.connected) this.sync.subscribe();
    else this.sync.loadUnlessConnecting();
    // A board stays open all day: days left, overdue marks and the chart follow the calendar.
    this.clock = setInterval(() => this.render(), 5 * 60 * 1000);
  }

  stop() {
    this.stopped = true;
    clearInterval(this.clock);
    this.sync.stop();
    for (const unlisten of this.unlisten) unlisten();
    this.hints.clearAll();
    this.store.stop();
    if (this.live.connected) this.live.unsubscribe(this.sprintId);
    this.view.stop();
    this.chart.stop();
    this.filterBar.stop();
    this.outbox.stop();
    this.feed.stop();
  }

  /** The sprint has loaded (or loaded again): show it. */
  loaded() {
    this.view.loaded();
    this.onLoaded(this.sprint);
    this.render();
  }

  /** Viewers (and anyone before the sprint is known) see the board without its controls. */
  get readOnly() {
    return !this.sprint || !canWrite(this.roleOf(this.sprint.project));
  }

  render() {
    if (this.stopped || !this.sprint) return;
    this.view.render();
  }

  onPresence(presence) {
    if (this.stopped || !presence || presence.sprint !== this.sprintId) return;
    this.presence = Array.isArray(presence.users) ? presence.users : [];
    this.view.renderPresence();
  }

  focusCard(taskId) {
    this.view.focusCard(taskId);
  }

  /** A new task's fields with the board's project, for a backlog task (a sprint's task takes its sprint's). */
  withProject(fields) {
    const project = this.sprint?.project;
    return project && fields.sprint === null ? { ...fields, project } : fields;
  }
}
