// A project's sprint list (from a week ago onwards) and the form that creates a sprint
// (for those who may write to the project).

import { api, getAll } from "./api.js";
import { addDays, daysBetween, formatLongDate, today } from "./dates.js";
import { announce, clear, clearFormErrors, el, showFormErrors } from "./dom.js";
import { sprintName } from "./model.js";
import { canWrite } from "./projects/list.js";

export class SprintsView {
  constructor({ live }) {
    this.live = live;
    this.sprints = new Map();
    this.applied = new Map();
    this.visible = false;
    this.project = null;
    this.section = document.getElementById("sprints-view");
    this.list = document.getElementById("sprint-list");
    this.empty = document.getElementById("sprint-list-empty");
    this.form = document.getElementById("sprint-form");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    this.unlisten = live.on("change", (change) => this.onChange(change));
  }

  destroy() {
    this.unlisten();
  }

  get since() {
    return addDays(today(), -7);
  }

  /** Show the sprints of `project` (null: none to show). */
  async show(project) {
    this.visible = true;
    document.title = project ? `Sprints · ${project.name} · Scrum board` : "Sprints · Scrum board";
    if (project?.id !== this.project?.id) {
      this.sprints = new Map();
      this.render();
    }
    this.project = project;
    this.form.hidden = !project || !canWrite(project.role);
    if (project) await this.load();
  }

  hide() {
    this.visible = false;
  }

  async load() {
    const project = this.project;
    try {
      const sprints = await getAll(`/api/sprints?project=${project.id}&end_min=${this.since}`);
      if (project !== this.project) return;
      this.sprints = new Map(sprints.map((sprint) => [sprint.id, sprint]));
      this.render();
    } catch (error) {
      announce(`The sprints could not be loaded: ${error.message}`, "error");
    }
  }

  onChange(change) {
    if (!change || change.model !== "sprint") return;
    const project = change.body ? change.body.project : this.sprints.get(change.id)?.project;
    if (!this.project || project !== this.project.id) return;
    const key = change.id;
    if (change.seq <= (this.applied.get(key) ?? 0)) return;
    this.applied.set(key, change.seq);
    if (change.body && change.body.end >= this.since) this.sprints.set(change.id, change.body);
    else this.sprints.delete(change.id);
    if (this.visible) this.render();
  }

  render() {
    clear(this.list);
    const sprints = [...this.sprints.values()].sort((a, b) => (a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
    const now = today();
    const current = sprints.find((sprint) => sprint.end >= now);
    for (const sprint of sprints) {
      const name = sprintName(sprint);
      const left = daysBetween(now, sprint.end);
      let badge = "Upcoming";
      if (left < 0) badge = "Ended";
      else if (sprint === current) badge = "Current";
      let when = `Ends ${formatLongDate(sprint.end)}`;
      if (left < 0) when = `Ended ${formatLongDate(sprint.end)}`;
      else if (left === 0) when += " (today)";
      else when += ` (${left} ${left === 1 ? "day" : "days"} left)`;
      this.list.append(
        el(
          "li",
          { className: `sprint-item sprint-${badge.toLowerCase()}` },
          el(
            "a",
            { className: "sprint-link", href: `#/sprint/${sprint.id}` },
            el("span", { className: "sprint-name", text: name }),
            el("span", { className: `badge badge-${badge.toLowerCase()}`, text: badge }),
          ),
          el("p", { className: "sprint-when", text: when }),
          sprint.description ? el("p", { className: "sprint-description", text: sprint.description }) : null,
        ),
      );
    }
    this.empty.hidden = sprints.length > 0;
  }

  async create() {
    clearFormErrors(this.form);
    const data = new FormData(this.form);
    const body = {
      project: this.project.id,
      name: data.get("name").trim(),
      description: data.get("description"),
      end: data.get("end") || null,
    };
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
