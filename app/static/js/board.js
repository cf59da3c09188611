// One sprint's board: its columns and the backlog, kept in step with the server.
//
// Loading and live updates follow the reference client: subscribe with `since`
// (null the first time), load over REST when there is no `since` or the ack says
// `resync`, and apply a `change` only when its seq is above the last one applied
// to that object. Changes that arrive while the board is loading wait for it.
//
// ETags: an ETag is good for exactly the version of the task it came with, so
// each is kept with that version. Before an edit, the ETag of the version the
// person saw is used; when it is unknown (after a list load or a remote change)
// the task is fetched, and if the server's copy differs from what the person
// saw, that is a conflict, shown like a 412.

import { api, ApiError, getAll } from "./api.js";
import { renderBurndown } from "./burndown.js";
import { chooseVersion } from "./conflict.js";
import { daysBetween, formatDate, formatLongDate, today } from "./dates.js";
import { announce, clear, el, showFormErrors, clearFormErrors, uniqueId } from "./dom.js";
import {
  byOrder,
  changedFields,
  COLUMN_BY_KEY,
  COLUMNS,
  columnKeyOf,
  KEPT_THEIRS,
  moveFields,
  placeAt,
  sameTask,
  TASK_FIELDS,
} from "./model.js";

const HINT_LIFETIME = 30000;

export class Board {
  constructor({ sprintId, live, users, me, taskDialog, onGone }) {
    this.sprintId = sprintId;
    this.live = live;
    this.users = users;
    this.me = me;
    this.taskDialog = taskDialog;
    this.onGone = onGone;

    this.sprint = null;
    this.server = new Map(); // task id -> the task as the server last told us (REST or live)
    this.overrides = new Map(); // task id -> {body, pending, seen, timer}: my own write, shown until its echo
    this.tasks = new Map(); // task id -> the task as shown: my write in flight, else the server's
    this.known = new Map(); // task id -> {etag, body}: the ETag of exactly that version
    this.applied = new Map(); // "model:id" -> seq of the change last applied to it
    this.floor = 0; // the REST load shows everything up to this seq: older changes are stale
    this.lastSeq = null; // the highest seq seen on this board
    this.revisions = new Map(); // task id -> count of live changes applied (guards REST answers)
    this.lastActor = new Map(); // task id -> who changed it last (from live changes)
    this.hints = new Map(); // task id -> {user, timer}
    this.presence = [];
    this.cards = new Map(); // task id -> Card
    this.loads = 0;
    this.loading = false;
    this.buffered = [];
    this.subscribeAttempt = 0;
    this.dragging = null;
    this.stopped = false;
    this.unlisten = [];

    this.view = document.getElementById("board-view");
    this.columnsRoot = document.getElementById("columns");
    this.title = document.getElementById("board-title");
    this.dates = document.getElementById("board-dates");
    this.description = document.getElementById("board-description");
    this.presenceList = document.getElementById("presence-list");
    this.chart = document.getElementById("burndown-chart");
    this.chartCaption = document.getElementById("burndown-caption");
    this.loadingNote = document.getElementById("board-loading");
  }

  // -- life cycle --------------------------------------------------------------

  start() {
    this.buildColumns();
    this.title.textContent = "Sprint";
    clear(this.dates);
    clear(this.description);
    clear(this.presenceList);
    clear(this.chart);
    clear(this.chartCaption);
    this.loadingNote.hidden = false;
    this.unlisten.push(
      this.live.on("connect", () => this.subscribe()),
      this.live.on("disconnect", () => this.forgetRemoteHints()),
      this.live.on("change", (change) => this.onChange(change)),
      this.live.on("hint", (hint) => this.onHint(hint)),
      this.live.on("presence", (presence) => this.onPresence(presence)),
    );
    if (this.live.connected) this.subscribe();
    else this.reload(null); // show the board now; the first subscribe loads it again
    let pending = null;
    this.resizeObserver = new ResizeObserver(() => {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(() => this.renderChart());
    });
    this.resizeObserver.observe(this.chart);
    // A board stays open all day: days left, overdue marks and the chart follow the calendar.
    this.clock = setInterval(() => this.render(), 5 * 60 * 1000);
  }

  renderChart() {
    if (this.stopped || !this.sprint) return;
    const width = this.chart.clientWidth;
    if (width === this.chartWidth && this.chartTasks === this.chartSignature()) return;
    this.chartWidth = width;
    this.chartTasks = this.chartSignature();
    renderBurndown(this.chart, this.chartCaption, this.sprint, this.sprintTasks());
  }

  /** What the chart depends on, to skip redrawing it when nothing it shows changed. */
  chartSignature() {
    const parts = this.sprintTasks().map((task) => `${task.id}:${task.started}:${task.completed}`);
    return `${today()}|${this.sprint.end}|${parts.sort().join(",")}`;
  }

  stop() {
    this.stopped = true;
    this.resizeObserver?.disconnect();
    clearInterval(this.clock);
    for (const unlisten of this.unlisten) unlisten();
    this.forgetRemoteHints();
    if (this.live.connected) this.live.unsubscribe(this.sprintId);
    clear(this.columnsRoot);
    this.cards.clear();
  }

  async subscribe() {
    const attempt = ++this.subscribeAttempt;
    const since = this.lastSeq;
    if (since === null) this.loading = true; // hold live changes until the load below is done
    const ack = await this.live.subscribe(this.sprintId, since);
    if (this.stopped || attempt !== this.subscribeAttempt) return;
    if (!ack) {
      // No answer in time: try again while the socket is up (it resubscribes on reconnect anyway).
      this.finishLoading();
      if (this.live.connected) setTimeout(() => attempt === this.subscribeAttempt && this.subscribe(), 1000);
      return;
    }
    if (!ack.ok) {
      this.finishLoading();
      announce(ack.error || "This board cannot be followed live.", "error");
      if (/does not exist/.test(ack.error || "")) this.onGone("This sprint no longer exists.");
      return;
    }
    if (since === null || ack.resync) await this.reload(ack.seq);
  }

  /** Load the sprint, its tasks and the backlog over REST; `seq` is the ack's latest seq. */
  async reload(seq) {
    const load = ++this.loads;
    this.loading = true;
    try {
      const [sprint, sprintTasks, backlog] = await Promise.all([
        api.get(`/api/sprints/${this.sprintId}`),
        getAll(`/api/tasks?sprint=${this.sprintId}`),
        getAll("/api/tasks?backlog=true"),
      ]);
      if (this.stopped || load !== this.loads) return;
      this.sprint = sprint.body;
      this.server = new Map([...sprintTasks, ...backlog].map((task) => [task.id, task]));
      for (const [id, override] of this.overrides) if (!override.pending) this.dropOverride(id);
      this.tasks = new Map();
      for (const id of new Set([...this.server.keys(), ...this.overrides.keys()])) this.refreshTask(id);
      if (seq !== null && seq !== undefined) {
        // Loaded after the ack: it shows every change up to `seq`, tasks deleted meanwhile included.
        this.floor = Math.max(this.floor, seq);
        this.lastSeq = Math.max(this.lastSeq ?? 0, seq);
      }
    } catch (error) {
      if (this.stopped || load !== this.loads) return;
      if (seq !== null && seq !== undefined) this.lastSeq = null; // load again on the next subscribe
      if (error.status === 404) {
        this.onGone("This sprint no longer exists.");
        return;
      }
      if (error.status === 401) return; // signed out
      announce(`The board could not be loaded: ${error.message}`, "error");
      setTimeout(() => !this.stopped && load === this.loads && this.reload(seq), 5000);
    } finally {
      if (!this.stopped && load === this.loads) this.finishLoading();
    }
  }

  finishLoading() {
    this.loading = false;
    const waiting = this.buffered;
    this.buffered = [];
    for (const change of waiting) this.applyChange(change);
    if (this.sprint) {
      this.loadingNote.hidden = true;
      this.render();
    }
  }

  // -- live events -------------------------------------------------------------

  onChange(change) {
    if (this.stopped || !change || typeof change.seq !== "number") return;
    this.lastSeq = Math.max(this.lastSeq ?? 0, change.seq);
    if (this.loading) {
      this.buffered.push(change);
      return;
    }
    if (this.applyChange(change)) this.render();
  }

  /** Apply one change by the per-object seq rule; returns whether the board changed. */
  applyChange(change) {
    const key = `${change.model}:${change.id}`;
    // A late or repeated change never rolls anything back.
    if (change.seq <= Math.max(this.floor, this.applied.get(key) ?? 0)) return false;
    this.applied.set(key, change.seq);
    if (change.model === "task") {
      const body = change.body;
      const onBoard = body !== null && (body.sprint === this.sprintId || body.sprint === null);
      const had = this.tasks.has(change.id);
      if (body) this.server.set(change.id, body);
      else this.server.delete(change.id);
      const override = this.overrides.get(change.id);
      if (override && override.pending) override.seen.push(body);
      else if (override && body && sameTask(body, override.body)) this.dropOverride(change.id); // my echo
      this.refreshTask(change.id);
      this.revisions.set(change.id, (this.revisions.get(change.id) ?? 0) + 1);
      this.lastActor.set(change.id, change.actor);
      if (!onBoard) this.clearHint(change.id);
      this.taskDialog.remoteChange(this, change.id, onBoard ? body : null, change.actor, change.action);
      return onBoard || had;
    }
    if (change.model === "sprint" && change.id === this.sprintId) {
      if (change.body === null) {
        this.onGone(`${change.actor || "Someone"} deleted this sprint.`);
        return false;
      }
      this.sprint = change.body;
      return true;
    }
    return false;
  }

  /** What the board shows for a task: my own write until the server echoes it, else the server's copy. */
  refreshTask(id) {
    const override = this.overrides.get(id);
    const body = override ? override.body : this.server.get(id);
    if (body && (body.sprint === this.sprintId || body.sprint === null)) this.tasks.set(id, body);
    else this.tasks.delete(id);
  }

  /**
   * Show my version of a task while my write is in flight (`pending`), and after
   * it until the live echo of that write arrives: an echo of an earlier write of
   * mine that arrives late must not move the card back meanwhile.
   */
  setOverride(id, body, pending) {
    const previous = this.overrides.get(id);
    clearTimeout(previous?.timer);
    const override = { body, pending, seen: pending ? [] : previous?.seen || [], timer: null };
    if (!pending) {
      const current = this.server.get(id);
      if ((current && sameTask(current, body)) || override.seen.some((seen) => seen && sameTask(seen, body))) {
        // The echo came before the answer: the server's copy is at least as new.
        this.overrides.delete(id);
        this.refreshTask(id);
        return;
      }
      // Without an echo (offline, or out of order across processes) the server's copy wins after a while.
      override.timer = setTimeout(() => {
        if (this.overrides.get(id) === override) {
          this.dropOverride(id);
          this.render();
        }
      }, 5000);
    }
    this.overrides.set(id, override);
    this.refreshTask(id);
  }

  dropOverride(id) {
    clearTimeout(this.overrides.get(id)?.timer);
    this.overrides.delete(id);
    this.refreshTask(id);
  }

  onHint(hint) {
    if (this.stopped || !hint || !this.tasks.has(hint.task)) return;
    if (hint.action === "dragstart") {
      this.clearHint(hint.task, false);
      const timer = setTimeout(() => this.clearHint(hint.task), HINT_LIFETIME);
      this.hints.set(hint.task, { user: hint.user, timer });
    } else {
      this.clearHint(hint.task, false);
    }
    this.cards.get(hint.task)?.update(this.tasks.get(hint.task), this.hints.get(hint.task));
  }

  clearHint(taskId, refresh = true) {
    const hint = this.hints.get(taskId);
    if (!hint) return;
    clearTimeout(hint.timer);
    this.hints.delete(taskId);
    if (refresh && this.tasks.has(taskId)) this.cards.get(taskId)?.update(this.tasks.get(taskId), null);
  }

  forgetRemoteHints() {
    for (const taskId of [...this.hints.keys()]) this.clearHint(taskId);
  }

  onPresence(presence) {
    if (this.stopped || !presence || presence.sprint !== this.sprintId) return;
    this.presence = Array.isArray(presence.users) ? presence.users : [];
    this.renderPresence();
  }

  // -- rendering -----------------------------------------------------------------

  buildColumns() {
    clear(this.columnsRoot);
    this.cards.clear();
    this.columnParts = new Map();
    for (const column of COLUMNS) {
      const headingId = `column-${column.key}`;
      const count = el("span", { className: "count" });
      const list = el("ol", { className: "task-list", attrs: { "aria-label": `${column.title} tasks` } });
      const empty = el("p", { className: "column-empty", text: "No tasks" });
      const section = el(
        "section",
        { className: `column column-${column.key}`, attrs: { "aria-labelledby": headingId }, dataset: { column: column.key } },
        el("header", { className: "column-head" }, el("h2", { id: headingId, text: column.title }), count),
        list,
        empty,
        this.buildAddTask(column),
      );
      section.addEventListener("dragover", (event) => this.onDragOver(event, column.key));
      section.addEventListener("dragleave", (event) => this.onDragLeave(event, column.key));
      section.addEventListener("drop", (event) => this.onDrop(event, column.key));
      this.columnParts.set(column.key, { section, list, count, empty });
      this.columnsRoot.append(section);
    }
  }

  buildAddTask(column) {
    const inputId = uniqueId("new-task");
    const errorId = `${inputId}-error`;
    const open = el("button", {
      type: "button",
      className: "add-task-button",
      attrs: { "aria-label": `Add task to ${column.title}` },
      text: "+ Add task",
    });
    const input = el("input", {
      id: inputId,
      name: "name",
      maxLength: 100,
      autocomplete: "off",
      attrs: { "aria-describedby": errorId },
    });
    const form = el(
      "form",
      { className: "add-task-form", hidden: true, noValidate: true },
      el("div", { className: "form-errors", hidden: true, attrs: { role: "alert" }, dataset: { errorsFor: "form" } }),
      el("label", { htmlFor: inputId, text: "Task name" }),
      input,
      el("p", {
        className: "field-error",
        id: errorId,
        hidden: true,
        dataset: { errorsFor: "name sprint status started completed order" },
      }),
      el(
        "div",
        { className: "button-row" },
        el("button", { type: "submit", className: "button button-primary button-small", text: "Add" }),
        el("button", { type: "button", className: "button button-small", text: "Cancel", dataset: { action: "cancel" } }),
      ),
    );
    const close = () => {
      form.hidden = true;
      open.hidden = false;
      clearFormErrors(form);
      input.value = "";
      open.focus();
    };
    open.addEventListener("click", () => {
      open.hidden = true;
      form.hidden = false;
      input.focus();
    });
    form.querySelector('[data-action="cancel"]').addEventListener("click", close);
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name) {
        showFormErrors(form, { errors: { name: ["Enter a name for the task."] } });
        return;
      }
      const created = await this.createTask(name, column.key, form);
      if (created) {
        input.value = "";
        clearFormErrors(form);
        input.focus();
      }
    });
    return el("div", { className: "column-add" }, open, form);
  }

  render() {
    if (this.stopped || !this.sprint) return;
    this.renderHeader();
    this.renderColumns();
    this.renderPresence();
    this.renderChart();
  }

  renderHeader() {
    const sprint = this.sprint;
    const name = sprint.name || `Sprint ending ${formatLongDate(sprint.end)}`;
    this.title.textContent = name;
    document.title = `${name} · Scrum board`;
    const left = daysBetween(today(), sprint.end);
    let when = `Ends ${formatLongDate(sprint.end)}`;
    if (left < 0) when = `Ended ${formatLongDate(sprint.end)}`;
    else if (left === 0) when += " · last day";
    else when += ` · ${left} ${left === 1 ? "day" : "days"} left`;
    this.dates.textContent = when;
    this.description.textContent = sprint.description || "";
    this.description.hidden = !sprint.description;
  }

  renderColumns() {
    const byColumn = new Map(COLUMNS.map((column) => [column.key, []]));
    for (const task of this.tasks.values()) byColumn.get(columnKeyOf(task)).push(task);
    for (const [taskId, card] of this.cards) {
      if (!this.tasks.has(taskId)) {
        card.item.remove();
        this.cards.delete(taskId);
      }
    }
    for (const column of COLUMNS) {
      const tasks = byColumn.get(column.key).sort(byOrder);
      const parts = this.columnParts.get(column.key);
      let previous = null;
      for (const task of tasks) {
        let card = this.cards.get(task.id);
        if (!card) {
          card = new Card(this, task);
          this.cards.set(task.id, card);
        }
        card.update(task, this.hints.get(task.id));
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
    clear(this.presenceList);
    const users = this.presence.length ? this.presence : [this.me];
    for (const username of users) {
      const user = this.users.get(username);
      const label = user && user.full_name ? user.full_name : username;
      this.presenceList.append(
        el(
          "li",
          { className: username === this.me ? "presence-user is-me" : "presence-user" },
          el("span", { className: "avatar", attrs: { "aria-hidden": "true" }, text: initials(label) }),
          el("span", { className: "presence-name", text: username }),
          username === this.me ? el("span", { className: "muted", text: " (you)" }) : null,
        ),
      );
    }
  }

  sprintTasks() {
    return [...this.tasks.values()].filter((task) => task.sprint === this.sprintId);
  }

  columnTasks(columnKey) {
    return [...this.tasks.values()].filter((task) => columnKeyOf(task) === columnKey).sort(byOrder);
  }

  // -- drag and drop -----------------------------------------------------------------

  startDrag(taskId, event) {
    this.dragging = { taskId, dropped: false };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", String(taskId));
    this.live.hint(taskId, "dragstart");
    this.prefetch(taskId);
  }

  endDrag(taskId) {
    if (this.dragging && this.dragging.taskId === taskId && !this.dragging.dropped) {
      this.live.hint(taskId, "dragend");
    }
    this.dragging = null;
    this.removeDropIndicator();
  }

  onDragOver(event, columnKey) {
    if (!this.dragging) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    const index = this.dropIndex(columnKey, event.clientY);
    this.showDropIndicator(columnKey, index);
  }

  onDragLeave(event, columnKey) {
    const section = this.columnParts.get(columnKey).section;
    if (!section.contains(event.relatedTarget)) this.removeDropIndicator();
  }

  onDrop(event, columnKey) {
    if (!this.dragging) return;
    event.preventDefault();
    const { taskId } = this.dragging;
    this.dragging.dropped = true;
    const index = this.dropIndex(columnKey, event.clientY);
    this.removeDropIndicator();
    this.live.hint(taskId, "drop");
    this.moveTask(taskId, columnKey, index);
  }

  /** The position among the column's other tasks that a pointer at `y` points to. */
  dropIndex(columnKey, y) {
    const draggedId = this.dragging?.taskId;
    const others = this.columnTasks(columnKey).filter((task) => task.id !== draggedId);
    let index = 0;
    for (const task of others) {
      const box = this.cards.get(task.id)?.item.getBoundingClientRect();
      if (box && y > box.top + box.height / 2) index += 1;
    }
    return index;
  }

  showDropIndicator(columnKey, index) {
    const { list, section } = this.columnParts.get(columnKey);
    if (!this.indicator) this.indicator = el("li", { className: "drop-indicator", attrs: { "aria-hidden": "true" } });
    const draggedId = this.dragging?.taskId;
    const others = this.columnTasks(columnKey).filter((task) => task.id !== draggedId);
    const before = others[index] ? this.cards.get(others[index].id)?.item : null;
    if (before) list.insertBefore(this.indicator, before);
    else list.append(this.indicator);
    for (const parts of this.columnParts.values()) parts.section.classList.toggle("is-drop-target", parts.section === section);
  }

  removeDropIndicator() {
    this.indicator?.remove();
    for (const parts of this.columnParts?.values() || []) parts.section.classList.remove("is-drop-target");
  }

  // -- keyboard moves ----------------------------------------------------------------

  /** Alt+Arrow on a card: left/right to the next column, up/down within the column. */
  moveByKey(taskId, key) {
    if (!["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(key) || !this.tasks.has(taskId)) return false;
    // Where "next" is depends on the moves before this one: work it out when its turn comes.
    this.enqueue(() => this.stepTask(taskId, key));
    return true;
  }

  stepTask(taskId, key) {
    const task = this.tasks.get(taskId);
    if (!task) return null;
    const current = columnKeyOf(task);
    if (key === "ArrowLeft" || key === "ArrowRight") {
      const position = COLUMNS.findIndex((column) => column.key === current);
      const next = COLUMNS[position + (key === "ArrowLeft" ? -1 : 1)];
      if (!next) return null;
      return this.placeTask(taskId, next.key, this.columnTasks(next.key).length, { focus: true });
    }
    const tasks = this.columnTasks(current);
    const index = tasks.findIndex((item) => item.id === taskId);
    const target = index + (key === "ArrowUp" ? -1 : 1);
    if (target < 0 || target >= tasks.length) return null;
    return this.placeTask(taskId, current, target, { focus: true });
  }

  // -- saving --------------------------------------------------------------------

  /**
   * Run `operation` after the writes already under way have finished, so that
   * each starts from the version the previous one left (quick successive moves
   * of one task would otherwise race each other).
   */
  enqueue(operation) {
    const run = (this.queue || Promise.resolve()).then(operation);
    this.queue = run.catch(() => {});
    return run;
  }

  moveTask(taskId, columnKey, index, options) {
    return this.enqueue(() => this.placeTask(taskId, columnKey, index, options));
  }

  /** Put a task at `index` of a column: the move rules, a new order, one PATCH (and renumbering if needed). */
  async placeTask(taskId, columnKey, index, { focus = false } = {}) {
    const task = this.tasks.get(taskId);
    if (!task) return;
    const column = COLUMN_BY_KEY.get(columnKey);
    const others = this.columnTasks(columnKey).filter((item) => item.id !== taskId);
    const { order, renumber } = placeAt(task, others, index);
    // Within its column a task changes only its position; into another, the move rules apply.
    const target = columnKeyOf(task) === columnKey ? { order } : { ...moveFields(task, columnKey, this.sprintId), order };
    const changes = changedFields(task, target);
    if (!Object.keys(changes).length) return;
    const saving = this.saveTask(task, changes, {
      optimistic: true,
      done: `Moved “${task.name}” to ${column.title}.`,
    });
    // The card has moved already (optimistically); keep the keyboard on it.
    if (focus) this.cards.get(taskId)?.focus();
    const saved = await saving;
    if (focus && document.activeElement === document.body) this.cards.get(taskId)?.focus();
    if (saved && saved !== KEPT_THEIRS) {
      for (const [other, wanted] of renumber) {
        if (other.id === taskId) continue;
        const current = this.tasks.get(other.id);
        if (current && current.order !== wanted) {
          await this.saveTask(current, { order: wanted }, { quiet: true });
        }
      }
    }
  }

  async createTask(name, columnKey, form) {
    const last = this.columnTasks(columnKey).at(-1);
    const fields = { name, ...moveFields(null, columnKey, this.sprintId), order: last ? last.order + 1024 : 0 };
    if (fields.started === null) delete fields.started;
    if (fields.completed === null) delete fields.completed;
    const column = COLUMN_BY_KEY.get(columnKey);
    try {
      const { body, etag } = await api.post("/api/tasks", fields);
      this.known.set(body.id, { etag, body });
      if (!this.revisions.has(body.id)) {
        // Its live "add" has not come yet: show it now, until that echo arrives.
        this.setOverride(body.id, body, false);
        this.render();
      }
      announce(`Added “${body.name}” to ${column.title}.`);
      return body;
    } catch (error) {
      showFormErrors(form, error.body);
      return null;
    }
  }

  /**
   * The ETag of exactly the version `base` of a task. Resolves to `{etag}` when
   * known or fetched and unchanged, or `{etag, theirs}` when the server's copy has
   * moved on (a conflict), or `{gone: true}`.
   */
  async etagFor(base) {
    const known = this.known.get(base.id);
    if (known && sameTask(known.body, base)) return { etag: known.etag };
    try {
      const { body, etag } = await api.get(`/api/tasks/${base.id}`);
      this.known.set(base.id, { etag, body });
      return sameTask(body, base) ? { etag } : { etag, theirs: body };
    } catch (error) {
      if (error.status === 404) return { gone: true };
      throw error;
    }
  }

  /** Fetch a task's ETag ahead of an edit (when a drag starts). */
  prefetch(taskId) {
    const task = this.tasks.get(taskId);
    const known = this.known.get(taskId);
    if (!task || (known && sameTask(known.body, task))) return;
    this.etagFor(task).catch(() => null);
  }

  /**
   * Save `changes` to the task the person saw as `base`, with If-Match. A newer
   * version on the server (412, or found before sending) goes to the person to
   * decide. Resolves to the saved task, KEPT_THEIRS, or null (an error, shown).
   * `form` shows validation errors beside its fields; otherwise they are announced.
   */
  async saveTask(base, changes, { form = null, optimistic = false, done = null, quiet = false } = {}) {
    const id = base.id;
    const revision = this.revisions.get(id) ?? 0; // what a read made from here on can be compared with
    let shown = null;
    if (optimistic) {
      this.setOverride(id, { ...base, ...changes }, true);
      shown = this.overrides.get(id);
      this.render();
    }
    const restore = () => {
      if (shown && this.overrides.get(id) === shown) {
        this.dropOverride(id);
        this.render();
      }
      shown = null;
    };
    try {
      const { etag, theirs, gone } = await this.etagFor(base);
      if (gone) throw new ApiError(404, { message: `“${base.name}” has been deleted.` });
      if (theirs) {
        restore();
        return await this.resolveConflict(base, changes, theirs, etag, { form, done, quiet, revision });
      }
      const answer = await api.patch(`/api/tasks/${id}`, changes, { ifMatch: etag });
      this.known.set(id, { etag: answer.etag, body: answer.body });
      this.setOverride(id, answer.body, false);
      this.render();
      if (done && !quiet) announce(done);
      return answer.body;
    } catch (error) {
      restore();
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 412) {
        const theirs = stripMessage(error.body);
        this.known.set(id, { etag: error.etag, body: theirs });
        return await this.resolveConflict(base, changes, theirs, error.etag, { form, done, quiet, revision });
      }
      if (error.status === 404) {
        this.forgetTask(id);
        announce(`“${base.name}” no longer exists; someone deleted it.`, "error");
        return null;
      }
      if (form) showFormErrors(form, error.body);
      else if (!quiet) announce(errorSentence(error), "error");
      return null;
    }
  }

  /** Someone else saved first: show both versions and do what the person chooses. */
  async resolveConflict(base, changes, theirs, theirEtag, { form, done, quiet, revision }) {
    const id = base.id;
    const mine = { ...theirs, ...changes };
    if (sameTask(theirs, base)) {
      // Only the ETag moved (nothing visible changed): nothing of theirs can be lost.
      return this.saveTask(theirs, changes, { form, done, quiet });
    }
    if (sameTask(mine, theirs)) {
      this.accept(theirs, theirEtag, revision);
      if (done) announce(done);
      return theirs;
    }
    if (quiet) {
      // Housekeeping (renumbering the neighbours of a moved task) never overrides anyone.
      this.accept(theirs, theirEtag, revision);
      return null;
    }
    const fields = TASK_FIELDS.filter((field) => field in changes || (theirs[field] ?? null) !== (base[field] ?? null));
    const choice = await chooseVersion({
      mine,
      theirs,
      fields,
      actor: this.lastActor.get(id),
      context: { sprintId: this.sprintId, users: this.users },
    });
    if (choice === "mine") {
      return this.saveTask(theirs, changes, { form, done: done || `Saved your version of “${mine.name}”.` });
    }
    this.accept(theirs, theirEtag, revision);
    announce(`Kept their version of “${theirs.name}”.`);
    return KEPT_THEIRS;
  }

  /**
   * Record a task as the server answered a read (or a 412), unless a live change
   * was applied since `revision` was taken: that one may be newer.
   */
  accept(body, etag, revision) {
    this.known.set(body.id, { etag, body });
    if ((this.revisions.get(body.id) ?? 0) !== revision) return;
    this.server.set(body.id, body);
    this.refreshTask(body.id);
    this.render();
  }

  forgetTask(id) {
    this.server.delete(id);
    this.known.delete(id);
    this.dropOverride(id);
    this.render();
  }

  async deleteTask(base) {
    const id = base.id;
    const revision = this.revisions.get(id) ?? 0;
    try {
      const { etag, theirs, gone } = await this.etagFor(base);
      if (gone) {
        this.forgetTask(id);
        announce(`“${base.name}” was already deleted.`);
        return true;
      }
      if (theirs) return this.confirmDeleteAfterChange(base, theirs, etag, revision);
      await api.delete(`/api/tasks/${id}`, { ifMatch: etag });
      this.forgetTask(id);
      announce(`Deleted “${base.name}”.`);
      return true;
    } catch (error) {
      if (error.status === 412) {
        return this.confirmDeleteAfterChange(base, stripMessage(error.body), error.etag, revision);
      }
      if (error.status === 404) {
        this.forgetTask(id);
        return true;
      }
      announce(errorSentence(error), "error");
      return false;
    }
  }

  async confirmDeleteAfterChange(base, theirs, etag, revision) {
    const fields = TASK_FIELDS.filter((field) => (theirs[field] ?? null) !== (base[field] ?? null));
    this.known.set(base.id, { etag, body: theirs });
    const choice = await chooseVersion({
      mine: null,
      theirs,
      fields,
      actor: this.lastActor.get(base.id),
      title: "Someone else changed this task",
      mineLabel: "Delete anyway",
      context: { sprintId: this.sprintId, users: this.users },
    });
    if (choice === "mine") return this.deleteTask(theirs);
    this.accept(theirs, etag, revision);
    announce(`Kept “${theirs.name}”.`);
    return false;
  }
}

/** A task on the board: a draggable card with its details button and a "Move to…" select. */
class Card {
  constructor(board, task) {
    this.board = board;
    this.taskId = task.id;
    const titleId = uniqueId("task-title");
    const metaId = uniqueId("task-meta");
    this.title = el("button", {
      type: "button",
      className: "card-title",
      id: titleId,
      attrs: {
        "aria-describedby": `${metaId} card-keys-help`,
        "aria-keyshortcuts": "Alt+ArrowLeft Alt+ArrowRight Alt+ArrowUp Alt+ArrowDown",
      },
    });
    this.meta = el("p", { className: "card-meta", id: metaId });
    this.hint = el("p", { className: "card-hint", hidden: true });
    const selectId = uniqueId("move");
    this.moveLabel = el("label", { htmlFor: selectId, className: "visually-hidden" });
    this.move = el("select", { id: selectId, className: "card-move" });
    this.article = el(
      "article",
      { className: "task-card", draggable: true, attrs: { "aria-labelledby": titleId } },
      this.title,
      this.hint,
      el("div", { className: "card-foot" }, this.meta, el("div", { className: "card-actions" }, this.moveLabel, this.move)),
    );
    this.item = el("li", { className: "card-item" }, this.article);

    this.title.addEventListener("click", () => board.taskDialog.open(board, this.taskId));
    this.move.addEventListener("change", () => {
      const columnKey = this.move.value;
      this.move.value = "";
      if (columnKey) board.moveTask(this.taskId, columnKey, board.columnTasks(columnKey).length, { focus: true });
    });
    this.article.addEventListener("keydown", (event) => {
      if (!event.altKey || event.ctrlKey || event.metaKey || event.target === this.move) return;
      if (board.moveByKey(this.taskId, event.key)) event.preventDefault();
    });
    this.article.addEventListener("dragstart", (event) => {
      this.article.classList.add("is-dragging");
      board.startDrag(this.taskId, event);
    });
    this.article.addEventListener("dragend", () => {
      this.article.classList.remove("is-dragging");
      board.endDrag(this.taskId);
    });
  }

  update(task, hint) {
    const columnKey = columnKeyOf(task);
    if (this.title.textContent !== task.name) this.title.textContent = task.name;
    this.moveLabel.textContent = `Move “${task.name}” to`;
    this.article.dataset.column = columnKey;
    this.article.dataset.taskId = String(task.id);

    const parts = [];
    if (task.assigned) {
      const user = this.board.users.get(task.assigned);
      const name = user && user.full_name ? user.full_name : task.assigned;
      parts.push(
        el(
          "span",
          { className: "assignee", attrs: { title: name } },
          el("span", { className: "avatar avatar-small", attrs: { "aria-hidden": "true" }, text: initials(name) }),
          el("span", { text: task.assigned }),
        ),
      );
    } else {
      parts.push(el("span", { className: "assignee unassigned", text: "Unassigned" }));
    }
    if (task.due) {
      const overdue = task.status !== 4 && task.due < today();
      parts.push(
        el("span", {
          className: overdue ? "due overdue" : "due",
          text: `${overdue ? "Overdue" : "Due"} ${formatDate(task.due, { day: "numeric", month: "short" })}`,
        }),
      );
    }
    if (task.completed) {
      parts.push(el("span", { className: "done-date", text: `Done ${formatDate(task.completed, { day: "numeric", month: "short" })}` }));
    }
    clear(this.meta);
    this.meta.append(...parts);

    const signature = columnKey;
    if (this.moveSignature !== signature) {
      this.moveSignature = signature;
      clear(this.move);
      this.move.append(el("option", { value: "", text: "Move…" }));
      for (const column of COLUMNS) {
        if (column.key !== columnKey) this.move.append(el("option", { value: column.key, text: column.title }));
      }
    }

    if (hint) {
      const who = hint.user === this.board.me ? "You (in another window)" : hint.user;
      this.hint.textContent = `${who} ${hint.user === this.board.me ? "are" : "is"} moving this`;
      this.hint.hidden = false;
      this.article.classList.add("is-hinted");
    } else {
      this.hint.hidden = true;
      this.hint.textContent = "";
      this.article.classList.remove("is-hinted");
    }
  }

  focus() {
    this.title.focus();
  }
}

export function initials(name) {
  const words = String(name).trim().split(/[\s._-]+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[1][0] : String(name).slice(0, 2);
  return letters.toUpperCase();
}

function stripMessage(body) {
  const { message: _message, ...rest } = body || {};
  return rest;
}

function errorSentence(error) {
  const errors = error.body && error.body.errors;
  if (errors) {
    const messages = Object.values(errors).flat();
    if (messages.length) return messages.join(" ");
  }
  return error.message;
}
