// A project's sprints: current, upcoming and past (paged, newest first), kept
// up to date from `sprint` changes; its velocity beside them; and the form that
// creates a sprint (for those who may write to the project).

import { api, getAll } from "../api.js";
import { today } from "../dates.js";
import { announce, clear, clearFormErrors, el, showFormErrors } from "../dom.js";
import { sprintName } from "../model.js";
import { canWrite } from "../projects/list.js";
import { VelocityView } from "../velocity.js";
import { groupSprints, PAST_PAGE, pastCursor, sprintRange } from "./groups.js";
import { sprintProblems } from "./rules.js";

const GROUPS = [
  ["current", "Current"],
  ["upcoming", "Upcoming"],
  ["past", "Ended"],
];

export class SprintsView {
  constructor({ live }) {
    this.sprints = new Map(); // id -> sprint: those from today on, and the past ones loaded so far
    this.applied = new Map();
    this.pastMore = false; // whether older past sprints remain to be loaded
    this.visible = false;
    this.project = null;
    this.groups = new Map(
      GROUPS.map(([key]) => {
        const section = document.getElementById(`sprints-${key}`);
        return [key, { section, list: section.querySelector("ul") }];
      }),
    );
    this.empty = document.getElementById("sprint-list-empty");
    this.more = document.getElementById("sprints-past-more");
    this.more.addEventListener("click", () => this.loadPast());
    this.form = document.getElementById("sprint-form");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    this.velocity = new VelocityView();
    this.unlisten = live.on("change", (change) => this.onChange(change));
  }

  destroy() {
    this.unlisten();
    this.velocity.stop();
  }

  /** Show the sprints of `project` (null: none to show). */
  async show(project) {
    this.visible = true;
    document.title = project ? `Sprints · ${project.name} · Scrum board` : "Sprints · Scrum board";
    if (project?.id !== this.project?.id) {
      this.sprints = new Map();
      this.pastMore = false;
      this.render();
    }
    this.project = project;
    this.form.hidden = !project || !canWrite(project.role);
    this.velocity.show(project);
    if (project) await this.load();
  }

  hide() {
    this.visible = false;
  }

  /** The sprints from today on, and the first page of past ones. */
  async load() {
    const project = this.project;
    const now = today();
    try {
      const [active, past] = await Promise.all([
        getAll(`/api/sprints?project=${project.id}&end_min=${now}`),
        this.pastPage(project, pastCursor([], now)),
      ]);
      if (project !== this.project) return;
      this.sprints = new Map([...active, ...past.results].map((sprint) => [sprint.id, sprint]));
      this.pastMore = past.count > past.results.length;
      this.render();
    } catch (error) {
      announce(`The sprints could not be loaded: ${error.message}`, "error");
    }
  }

  /** Past sprints ending on or before `endMax`, newest first: one page. */
  async pastPage(project, endMax) {
    const query = `project=${project.id}&end_max=${endMax}&ordering=-end&page_size=${PAST_PAGE}`;
    return (await api.get(`/api/sprints?${query}`)).body;
  }

  /** The next page of past sprints, older than every one shown (pages never skip or repeat one). */
  async loadPast() {
    const project = this.project;
    this.more.disabled = true;
    try {
      const page = await this.pastPage(project, pastCursor([...this.sprints.values()], today()));
      if (project !== this.project) return;
      for (const sprint of page.results) this.sprints.set(sprint.id, sprint);
      this.pastMore = page.count > page.results.length;
      this.render();
      if (!this.pastMore) this.groups.get("past").list.lastElementChild?.querySelector("a")?.focus();
    } catch (error) {
      announce(`More sprints could not be loaded: ${error.message}`, "error");
    } finally {
      this.more.disabled = false;
    }
  }

  onChange(change) {
    if (!change || change.model !== "sprint") return;
    const project = change.body ? change.body.project : this.sprints.get(change.id)?.project;
    if (!this.project || project !== this.project.id) return;
    if (change.seq <= (this.applied.get(change.id) ?? 0)) return;
    this.applied.set(change.id, change.seq);
    this.velocity.changed();
    const now = today();
    // A past sprint older than those loaded comes with its page, not now.
    const floor = this.pastMore ? pastCursor([...this.sprints.values()], now) : "";
    if (change.body && (change.body.end >= now || change.body.end > floor)) this.sprints.set(change.id, change.body);
    else this.sprints.delete(change.id);
    if (this.visible) this.render();
  }

  render() {
    const now = today();
    const groups = groupSprints(this.sprints.values(), now);
    for (const [key, label] of GROUPS) {
      const { section, list } = this.groups.get(key);
      clear(list);
      for (const sprint of groups[key]) list.append(sprintItem(sprint, key, label, now));
      section.hidden = groups[key].length === 0 && !(key === "past" && this.pastMore);
    }
    this.more.hidden = !this.pastMore;
    this.empty.hidden = !this.project || groups.current.length + groups.upcoming.length > 0;
  }

  async create() {
    clearFormErrors(this.form);
    const data = new FormData(this.form);
    const values = { name: data.get("name").trim(), start: data.get("start"), end: data.get("end") };
    const errors = sprintProblems(values, null, today(), [...this.sprints.values()]);
    if (Object.keys(errors).length) {
      showFormErrors(this.form, { errors });
      return;
    }
    const body = { project: this.project.id, name: values.name, description: data.get("description"), end: values.end };
    if (values.start) body.start = values.start;
    const button = this.form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const { body: sprint } = await api.post("/api/sprints", body);
      this.sprints.set(sprint.id, sprint);
      this.render();
      this.form.reset();
      announce(`Created “${sprintName(sprint)}”.`);
    } catch (error) {
      showFormErrors(this.form, error.body);
    } finally {
      button.disabled = false;
    }
  }
}

function sprintItem(sprint, key, label, now) {
  return el(
    "li",
    { className: `sprint-item sprint-${key}`, dataset: { sprintId: String(sprint.id) } },
    el(
      "a",
      { className: "sprint-link", href: `#/sprint/${sprint.id}` },
      el("span", { className: "sprint-name", text: sprintName(sprint) }),
      el("span", { className: `badge badge-${key}`, text: label }),
    ),
    el("p", { className: "sprint-when", text: sprintRange(sprint, now) }),
    sprint.description ? el("p", { className: "sprint-description", text: sprint.description }) : null,
  );
}
