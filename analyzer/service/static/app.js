// walkaway service pages: drag-and-drop upload with progress, report polling, copy button.
// No framework and no build step; the page works without this file too (plain form post).
"use strict";

(function () {
  const root = document.body.dataset.root || "";
  const LABELS = { pursue: "Pursue", qualify_further: "Qualify further", walk_away: "Walk away", nurture: "Nurture" };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text; // textContent: never HTML
    return e;
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function poll(url, onUpdate) {
    for (let delay = 500; ; delay = Math.min(delay * 1.5, 3000)) {
      const resp = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!resp.ok) throw new Error((await resp.json().catch(() => ({}))).detail || resp.statusText);
      const a = await resp.json();
      onUpdate(a);
      if (a.status === "done" || a.status === "failed") return a;
      await sleep(delay);
    }
  }

  // -- upload page -----------------------------------------------------------------------------------
  const form = document.getElementById("upload");
  if (form) {
    const input = document.getElementById("file");
    const drop = document.getElementById("drop");
    const chosen = document.getElementById("chosen");
    const list = document.getElementById("progress");
    let files = [];

    function setFiles(fileList) {
      files = Array.from(fileList);
      chosen.textContent = files.length ? files.map((f) => f.name).join(", ") : "";
    }
    input.addEventListener("change", () => setFiles(input.files));
    ["dragenter", "dragover"].forEach((ev) =>
      drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); }));
    ["dragleave", "drop"].forEach((ev) =>
      drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
    drop.addEventListener("drop", (e) => { if (e.dataTransfer && e.dataTransfer.files.length) setFiles(e.dataTransfer.files); });

    async function uploadOne(file, row) {
      const status = row.querySelector(".status");
      const maxBytes = Number(form.dataset.maxBytes || 0);
      if (maxBytes && file.size > maxBytes) {
        status.className = "status err";
        status.textContent = `too large (${file.size.toLocaleString()} bytes; limit ${maxBytes.toLocaleString()})`;
        return null;
      }
      const body = new FormData();
      body.append("file", file, file.name);
      for (const name of ["seller", "seller_domain", "account"]) body.append(name, form.elements[name].value);
      status.textContent = "uploading…";
      const resp = await fetch(`${root}/api/v1/analyses`, { method: "POST", body, credentials: "same-origin",
                                                          headers: { Accept: "application/json" } });
      const data = await resp.json().catch(() => ({}));
      if (resp.status !== 202) {
        status.className = "status err";
        status.textContent = data.detail || `upload failed (${resp.status})`;
        return null;
      }
      const done = await poll(data.links.self, (a) => {
        status.textContent = a.status + (a.format ? ` · ${a.format}` : "");
      });
      status.textContent = "";
      if (done.status === "done") {
        const link = el("a", "", "open report");
        link.href = done.links.page;
        const pill = el("span", `pill v-${done.verdict}`, LABELS[done.verdict] || done.verdict);
        status.append(pill, " ", link);
      } else {
        status.className = "status err";
        status.textContent = done.error || "failed";
      }
      return done;
    }

    form.addEventListener("submit", async (e) => {
      if (!files.length && input.files.length) setFiles(input.files);
      if (!files.length) return; // let the browser say the field is required
      e.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      list.textContent = "";
      const jobs = files.map((file) => {
        const row = el("li");
        row.append(el("span", "name", file.name), el("span", "status", "waiting…"));
        list.append(row);
        return uploadOne(file, row).catch((err) => {
          const s = row.querySelector(".status");
          s.className = "status err";
          s.textContent = String(err.message || err);
          return null;
        });
      });
      const results = await Promise.all(jobs);
      button.disabled = false;
      // One file: go straight to its report.
      if (results.length === 1 && results[0] && results[0].status === "done") {
        window.location.href = results[0].links.page;
      }
    });
  }

  // -- analysis page while queued/running --------------------------------------------------------------
  const waiting = document.getElementById("waiting");
  if (waiting) {
    const status = document.getElementById("status");
    poll(waiting.dataset.poll, (a) => { status.textContent = a.status; })
      .then(() => window.location.reload())
      .catch(() => setTimeout(() => window.location.reload(), 5000));
  }

  // -- report page: copy button, jump to evidence ------------------------------------------------------
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent;
      try {
        await navigator.clipboard.writeText(text);
      } catch (_) {
        const area = el("textarea");
        area.value = text;
        document.body.append(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      }
      button.textContent = "Copied";
      button.classList.add("done");
      setTimeout(() => { button.textContent = "Copy"; button.classList.remove("done"); }, 1600);
    });
  });
  document.querySelectorAll("a.quote[data-target]").forEach((a) => {
    a.addEventListener("click", (e) => {
      const target = document.getElementById(a.dataset.target);
      if (!target) return;
      e.preventDefault();
      target.scrollIntoView({ behavior: "smooth", block: "center" });
      target.classList.remove("flash");
      void target.offsetWidth; // restart the animation
      target.classList.add("flash");
    });
  });
})();
