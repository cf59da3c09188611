// Story points as the API takes them: a number from 0 to 999 with at most one
// decimal, or none. Sums are kept in tenths so that 0.1 + 0.2 stays 0.3.

import { STATUS } from "./model.js";

export const POINTS_RULE = "Points are a number from 0 to 999 with at most one decimal.";

const POINTS_TEXT = /^(\d{1,3}(\.\d?)?|\.\d)$/;

/** What a person typed, as points: `{value}` (null when left empty) or `{error}`. */
export function parsePoints(text) {
  const typed = String(text ?? "").trim().replace(",", ".");
  if (!typed) return { value: null };
  if (!POINTS_TEXT.test(typed)) return { error: POINTS_RULE };
  return { value: Number(typed) };
}

/** Points as a form field shows them ("" for none). */
export function pointsText(points) {
  return points === null || points === undefined ? "" : String(points);
}

export function hasPoints(task) {
  return task.points !== null && task.points !== undefined;
}

export function sumPoints(tasks) {
  const tenths = tasks.reduce((sum, task) => sum + (hasPoints(task) ? Math.round(task.points * 10) : 0), 0);
  return tenths / 10;
}

/** "1 point", "2.5 points". */
export function formatPoints(points) {
  return `${points} ${points === 1 ? "point" : "points"}`;
}

/** "pts" labels, short enough for a card or a column header. */
export function shortPoints(points) {
  return `${points} ${points === 1 ? "pt" : "pts"}`;
}

/** What a burndown counts: points when any of `tasks` has them, else tasks. */
export function unitOf(tasks) {
  return tasks.some(hasPoints) ? "points" : "tasks";
}

/** What is left to do among `tasks`: points (or the count) of those not Done. */
export function remainingOf(tasks, unit) {
  const open = tasks.filter((task) => task.status !== STATUS.DONE);
  return unit === "points" ? sumPoints(open) : open.length;
}

/** A column's header figures: how many tasks, and their points (null when none has any). */
export function columnTotals(tasks) {
  return { count: tasks.length, points: tasks.some(hasPoints) ? sumPoints(tasks) : null };
}

/** A number in `unit`, in words: "3 points", "1 task". */
export function formatAmount(amount, unit) {
  if (unit === "points") return formatPoints(amount);
  return `${amount} ${amount === 1 ? "task" : "tasks"}`;
}
