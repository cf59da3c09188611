// Above the sprint list: which project is shown (a select), my role in it, its
// settings (admins) and "New project", and the notice that says why a board closed.

import { api } from "../api.js";
import { byIds, clear, clearFormErrors, el, showFormErrors } from "../dom.js";
import { isAdmin, ROLE_HELP, ROLE_LABELS } from "./list.js";

export class ProjectBar {
  /** `onSelect(id)` when the person picks a project, `onCreated(project)`, `onSettings()`. */
  constructor({ onSelect, onCreated, onSettings }) {
    this.onCreated = onCreated;
    Object.assign(
      this,
      byIds({
        select: "project-select",
        switcher: "project-switcher",
        role: "project-role",
        settingsButton: "project-settings-open",
        notice: "project-notice",
        noticeText: "project-notice-text",
        noProjects: "no-projects",
        sprintsLayout: "sprints-layout",
        dialog: "new-project-dialog",
        form: "new-project-form",
      }),
    );

    this.select.addEventListener("change", () => onSelect(Number(this.select.value)));
    this.settingsButton.addEventListener("click", () => onSettings());
    document.getElementById("project-notice-dismiss").addEventListener("click", () => this.showNotice(null));
    document.getElementById("project-new-open").addEventListener("click", () => this.openNew());
    this.form.querySelector('[data-action="close"]').addEventListener("click", () => this.dialog.close());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
  }

  /** Show `projects` (sorted) with `current` chosen. */
  render(projects, current) {
    clear(this.select);
    for (const project of projects) this.select.append(el("option", { value: String(project.id), text: project.name }));
    this.switcher.hidden = !current;
    this.noProjects.hidden = Boolean(current);
    this.sprintsLayout.hidden = !current;
    if (!current) {
      this.role.textContent = "";
      this.settingsButton.hidden = true;
      return;
    }
    this.select.value = String(current.id);
    this.role.textContent = `${ROLE_LABELS[current.role] || current.role}: ${ROLE_HELP[current.role] || ""}`;
    this.settingsButton.hidden = !isAdmin(current.role);
  }

  showNotice(text) {
    this.noticeText.textContent = text || "";
    this.notice.hidden = !text;
  }

  openNew() {
    this.form.reset();
    clearFormErrors(this.form);
    this.dialog.showModal();
    this.form.elements.name.focus();
  }

  async create() {
    clearFormErrors(this.form);
    const data = new FormData(this.form);
    const body = { name: String(data.get("name")).trim(), description: String(data.get("description")) };
    if (!body.name) {
      showFormErrors(this.form, { errors: { name: ["Enter a name for the project."] } });
      return;
    }
    const button = this.form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const { body: project } = await api.post("/api/projects", body);
      this.dialog.close();
      this.onCreated(project);
    } catch (error) {
      showFormErrors(this.form, error.body);
    } finally {
      button.disabled = false;
    }
  }
}
