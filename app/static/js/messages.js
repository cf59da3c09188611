// The API's validation messages in words a person uses, saying what to do.
// The API keeps its own messages (clients depend on them); the board maps
// them here, by what the message is about (a form's `data-messages`: task,
// sprint, comment, project, member, login) and its field. A message with no
// mapping (the rules the API already states as a person would, such as "End
// date cannot be in the past.") is shown as the API wrote it.

import { POINTS_RULE } from "./points.js";

const DATE = "Enter a date, such as 2030-01-31, or pick one from the calendar.";
const PLAIN_TEXT = "Remove the invisible control characters (they often come with pasted text).";

// Messages any field may get, by their pattern: `{label}` is the field's name in the sentence.
const COMMON = [
  [/Null characters are not allowed/, PLAIN_TEXT],
  [/Not a valid date/, DATE],
  [/Not a valid (string|integer|number)|valid number is required/, "Enter {label} again: this value is not understood."],
  [/Unknown field/, "This form has a field the server does not know: reload the page and try again."],
];

// Per subject and field: the field's name in a sentence, then [pattern, message] pairs.
const RULES = {
  login: {
    username: ["your username", [/required|null|blank|Length/, "Enter your username."]],
    password: ["your password", [/required|null|blank|Length/, "Enter your password."]],
  },
  task: {
    name: ["the task's name", [/required|null|blank|longer than|no more than|Length/, "Give the task a name of up to 100 characters."]],
    description: ["the description", [/null|valid string/, "Write the description as plain text, or leave it empty."]],
    points: ["the points", [/./, POINTS_RULE]],
    due: ["the due date", [/./, DATE]],
    started: ["the start date", [/not started tasks/, "A task that has not started has no start date: move it to In Progress first."]],
    completed: ["the completion date", [/uncompleted/, "Only a Done task has a completion date: move it to Done first."]],
    status: [
      "the status",
      [/Backlog tasks must/, "A backlog task has not started yet: move it into the sprint first, then change its status."],
      [/not started tasks/, "A task that has not started has no start date: move it to In Progress first."],
      [/uncompleted/, "Only a Done task has a completion date: move it to Done first."],
      [/Must be one of/, "Choose one of the board's columns."],
    ],
    sprint: [
      "the sprint",
      [/add tasks to past sprints/, "This sprint has ended: add the task to a current sprint or to the backlog."],
      [/assign tasks to past sprints/, "That sprint has ended: choose a current sprint or the backlog."],
      [/completed task/, "A Done task stays in its sprint: move it out of Done first."],
      [/does not exist/, "That sprint no longer exists: reload the board."],
    ],
    assigned: [
      "the assignee",
      [/not a member/, "That person is not in this project: choose someone who is, or ask an admin to add them."],
      [/does not exist/, "There is nobody with that username: choose someone from the list."],
    ],
  },
  sprint: {
    name: ["the sprint's name", [/longer than|no more than|Length/, "A sprint's name can have at most 100 characters."]],
    description: ["the description", [/null|valid string/, "Write the description as plain text, or leave it empty."]],
    start: ["the start date", [/null/, DATE]],
    end: [
      "the end date",
      [/required|null/, "Choose the date the sprint ends."],
      [/already exists/, "Another sprint of this project ends that day: choose another end date."],
    ],
  },
  comment: {
    body: ["the comment", [/required|null|blank|longer than|Length/, "Write a comment of up to 10,000 characters."]],
  },
  project: {
    name: [
      "the project's name",
      [/required|null|blank|longer than|Length/, "Give the project a name of up to 100 characters."],
    ],
    description: ["the description", [/null|valid string/, "Write the description as plain text, or leave it empty."]],
  },
  member: {
    role: ["the role", [/./, "Choose a role: viewer, member or admin."]],
    username: ["the person", [/does not exist/, "There is nobody with that username."]],
  },
};

/** One API message about `field` of a `subject`, in plain words. */
export function friendlyMessage(subject, field, message) {
  const [label = "this field", ...rules] = RULES[subject]?.[field] || [];
  for (const [pattern, friendly] of [...rules, ...COMMON]) {
    if (pattern.test(message)) return friendly.replace("{label}", label);
  }
  return message;
}

/**
 * An API error body's `errors` in plain words. The task rules about status and
 * dates that the API reports for the whole task belong beside the status.
 */
export function friendlyErrors(subject, errors) {
  const result = {};
  for (const [field, messages] of Object.entries(errors || {})) {
    const aboutStatus = subject === "task" && field === "non_field_errors";
    for (const message of Array.isArray(messages) ? messages : [String(messages)]) {
      const friendly = friendlyMessage(subject, aboutStatus ? "status" : field, message);
      const target = aboutStatus && friendly !== message ? "status" : field;
      result[target] ||= [];
      if (!result[target].includes(friendly)) result[target].push(friendly);
    }
  }
  return result;
}

/** An API error as one sentence in plain words, for a toast (there is no form to show it beside). */
export function friendlySentence(subject, error) {
  const errors = error && error.body && error.body.errors;
  const messages = Object.values(friendlyErrors(subject, errors)).flat();
  return messages.length ? messages.join(" ") : (error && error.message) || "Something went wrong.";
}
