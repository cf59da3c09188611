// The board's rules, free of the DOM: columns, what a move changes, where a task goes.

import { today } from "./dates.js";

export const STATUS = { NOT_STARTED: 1, IN_PROGRESS: 2, TESTING: 3, DONE: 4 };

export const COLUMNS = [
  { key: "backlog", title: "Backlog", status: STATUS.NOT_STARTED, inSprint: false },
  { key: "not-started", title: "Not Started", status: STATUS.NOT_STARTED, inSprint: true },
  { key: "in-progress", title: "In Progress", status: STATUS.IN_PROGRESS, inSprint: true },
  { key: "testing", title: "Testing", status: STATUS.TESTING, inSprint: true },
  { key: "done", title: "Done", status: STATUS.DONE, inSprint: true },
];

export const COLUMN_BY_KEY = new Map(COLUMNS.map((column) => [column.key, column]));

/** The fields a person edits and a conflict compares, in display order. */
export const TASK_FIELDS = ["name", "description", "sprint", "status", "order", "assigned", "started", "due", "completed"];

export const FIELD_LABELS = {
  name: "Name",
  description: "Description",
  sprint: "Sprint",
  status: "Status",
  order: "Position",
  assigned: "Assignee",
  started: "Started",
  due: "Due date",
  completed: "Completed",
};

/** What a save resolves to when the person chose to keep someone else's version. */
export const KEPT_THEIRS = Symbol("kept theirs");

export const STATUS_LABELS = { 1: "Not Started", 2: "In Progress", 3: "Testing", 4: "Done" };

export function columnKeyOf(task) {
  if (task.sprint === null || task.sprint === undefined) return "backlog";
  return COLUMNS.find((column) => column.inSprint && column.status === task.status).key;
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
