// The board's rules, free of the DOM: columns, what a move changes, where a task goes.

import { formatLongDate, today } from "./dates.js";

export const STATUS = { NOT_STARTED: 1, IN_PROGRESS: 2, TESTING: 3, DONE: 4 };

/** The one place each status (and the backlog) is named. */
export const STATUS_LABELS = {
  [STATUS.NOT_STARTED]: "Not Started",
  [STATUS.IN_PROGRESS]: "In Progress",
  [STATUS.TESTING]: "Testing",
  [STATUS.DONE]: "Done",
};
export const BACKLOG_LABEL = "Backlog";

export const COLUMNS = [
  { key: "backlog", title: BACKLOG_LABEL, status: STATUS.NOT_STARTED, inSprint: false },
  ...Object.values(STATUS).map((status) => ({
    key: STATUS_LABELS[status].toLowerCase().replace(/ /g, "-"),
    title: STATUS_LABELS[status],
    status,
    inSprint: true,
  })),
];

export const COLUMN_BY_KEY = new Map(COLUMNS.map((column) => [column.key, column]));

/** The fields a person edits and a conflict compares, in display order. */
export const TASK_FIELDS = [
  "name",
  "description",
  "sprint",
  "status",
  "order",
  "points",
  "assigned",
  "started",
  "due",
  "completed",
];

export const FIELD_LABELS = {
  name: "Name",
  description: "Description",
  sprint: "Sprint",
  status: "Status",
  order: "Position",
  points: "Points",
  assigned: "Assignee",
  started: "Started",
  due: "Due date",
  completed: "Completed",
};

/** What a save resolves to when the person chose to keep someone else's version. */
export const KEPT_THEIRS = Symbol("kept theirs");

/** A sprint's name as shown: its own, or one made from its end date. */
export function sprintName(sprint) {
  return sprint.name || `Sprint ending ${formatLongDate(sprint.end)}`;
}

export function columnKeyOf(task) {
  if (task.sprint === null || task.sprint === undefined) return "backlog";
  return COLUMNS.find((column) => column.inSprint && column.status === task.status).key;
}

/** Whether a task belongs on the board of sprint `sprintId`: in that sprint, or in the backlog. */
export function isOnBoard(task, sprintId) {
  return Boolean(task) && (task.sprint === sprintId || task.sprint === null);
}

/**
 * The fields that put `task` in `columnKey` of sprint `sprintId`:
 * Backlog and Not Started clear the dates, In Progress and Testing keep (or set)
 * the start date, Done sets the completion date to today.
 */
export function moveFields(task, columnKey, sprintId) {
  const column = COLUMN_BY_KEY.get(columnKey);
  const now = today();
  if (!column.inSprint) return { sprint: null, status: STATUS.NOT_STARTED, started: null, completed: null };
  if (column.status === STATUS.NOT_STARTED) {
    return { sprint: sprintId, status: STATUS.NOT_STARTED, started: null, completed: null };
  }
  const started = (task && task.started) || now;
  if (column.status === STATUS.DONE) return { sprint: sprintId, status: STATUS.DONE, started, completed: now };
  return { sprint: sprintId, status: column.status, started, completed: null };
}

export function byOrder(a, b) {
  return a.order - b.order || a.id - b.id;
}

const GAP = 1024;
const MIN = -(2 ** 31);
const MAX = 2 ** 31 - 1;

/**
 * Where a task dropped at `index` among `others` (the column without it, in
 * order) goes: `{order, renumber}`. Usually one new `order` between its
 * neighbours; when there is no room, `renumber` lists `[task, order]` for every
 * task of the column (the moved one included) that must change.
 */
export function placeAt(task, others, index) {
  const before = others[index - 1];
  const after = others[index];
  let order = null;
  const fitsAlready = (!before || byOrder(before, task) < 0) && (!after || byOrder(task, after) < 0);
  if (fitsAlready) order = task.order;
  else if (!before) order = after.order - GAP > MIN ? Math.min(task.order, after.order - GAP) : null;
  else if (!after) order = before.order + GAP < MAX ? Math.max(task.order, before.order + GAP) : null;
  else if (after.order - before.order >= 2) order = Math.floor((before.order + after.order) / 2);
  if (!before && after && order !== null && byOrder({ ...task, order }, after) >= 0) order = after.order - GAP;
  if (!after && before && order !== null && byOrder(before, { ...task, order }) >= 0) order = before.order + GAP;
  if (order !== null) return { order, renumber: [] };
  const sequence = [...others.slice(0, index), task, ...others.slice(index)];
  const renumber = [];
  sequence.forEach((item, position) => {
    const wanted = (position + 1) * GAP;
    if (item.order !== wanted || item === task) renumber.push([item, wanted]);
  });
  return { order: (index + 1) * GAP, renumber };
}

/** The fields of a new task named `name` added at the end of a column (`columnTasks`, in order). */
export function newTaskFields(name, columnKey, sprintId, columnTasks) {
  const last = columnTasks.at(-1);
  const fields = { name, ...moveFields(null, columnKey, sprintId), order: last ? last.order + GAP : 0 };
  if (fields.started === null) delete fields.started;
  if (fields.completed === null) delete fields.completed;
  return fields;
}

const STEP_KEYS = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -1, ArrowDown: 1 };

export function isStepKey(key) {
  return key in STEP_KEYS;
}

/**
 * Where Alt+`key` takes `task`: `{columnKey, index}`, or null at an edge.
 * Left and right go to the end of the neighbouring column, up and down one
 * place within the column. `tasksOf(columnKey)` lists a column's tasks in order.
 */
export function stepTarget(task, key, tasksOf) {
  const current = columnKeyOf(task);
  const step = STEP_KEYS[key];
  if (!step) return null;
  if (key === "ArrowLeft" || key === "ArrowRight") {
    const next = COLUMNS[COLUMNS.findIndex((column) => column.key === current) + step];
    return next ? { columnKey: next.key, index: tasksOf(next.key).length } : null;
  }
  const tasks = tasksOf(current);
  const index = tasks.findIndex((item) => item.id === task.id) + step;
  return index >= 0 && index < tasks.length ? { columnKey: current, index } : null;
}

export function sameTask(a, b) {
  return TASK_FIELDS.every((field) => (a[field] ?? null) === (b[field] ?? null));
}

/** `changes` minus whatever `task` already has. */
export function changedFields(task, changes) {
  const result = {};
  for (const [field, value] of Object.entries(changes)) {
    if ((task[field] ?? null) !== (value ?? null)) result[field] = value;
  }
  return result;
}

/** Fields nobody is asked about: a position is worked out again on every move. */
const QUIET_FIELDS = new Set(["order"]);

/** The fields that differ between two versions of a task, positions aside, in display order. */
export function differingFields(a, b) {
  return TASK_FIELDS.filter((field) => !QUIET_FIELDS.has(field) && (a[field] ?? null) !== (b[field] ?? null));
}

/**
 * My `changes` to the version `base`, after someone else saved `theirs`:
 * `{clashes, merged}`. `clashes` are the fields we both changed to different
 * values (positions aside): only those need the person's choice. `merged` is
 * what to send on top of theirs: my changes that theirs does not have already.
 */
export function mergeEdit(base, theirs, changes) {
  const theirFields = differingFields(base, theirs);
  const clashes = theirFields.filter((field) => field in changes && (changes[field] ?? null) !== (theirs[field] ?? null));
  return { clashes, merged: changedFields(theirs, changes) };
}
