// Front end of widgets.jupyter.Annotator: renders the synced state, turns keys into ONE message each.
//
// Messages sent to Python: {type: "choose", index, example_id, question, time_spent}, {type: "confirm", ...},
// {type: "skip", example_id}, {type: "undo"}. Python answers by updating the synced traits.
// Key events stop at the widget (stopPropagation) so JupyterLab's command-mode shortcuts never see them.

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) { node.className = cls; }
  if (text !== undefined) { node.textContent = text; }
  return node;
}

function render({ model, el: host }) {
  const root = el("div", "wb-annotator");
  root.tabIndex = 0;
  root.setAttribute("role", "application");
  root.setAttribute("aria-label", "Annotator: number keys choose, Enter confirms the draft, s skips, u undoes");

  const head = el("div", "wb-head");
  const progressLabel = el("span", "wb-progress-label");
  const bar = el("progress", "wb-progress");
  head.append(progressLabel, bar);

  const item = el("div", "wb-item");
  const itemId = el("div", "wb-item-id");
  const text = el("div", "wb-text");
  const image = el("img", "wb-image");
  image.alt = "item image";
  const imageNote = el("div", "wb-image-note");
  item.append(itemId, text, image, imageNote);

  const answers = el("div", "wb-answers");
  const question = el("div", "wb-question");
  const choices = el("div", "wb-choices");
  const draft = el("div", "wb-draft");
  const keys = el("div", "wb-keys", "1..k choose \u00b7 Enter confirms the draft \u00b7 s skips \u00b7 u undoes");
  const message = el("div", "wb-message");
  message.setAttribute("aria-live", "polite");
  const guide = el("details", "wb-guidelines");
  const guideSummary = el("summary", null, "Guidelines");
  const guideText = el("div", "wb-guidelines-text");
  guide.append(guideSummary, guideText);

  root.append(head, item, answers, question, choices, draft, keys, message, guide);
  host.appendChild(root);

  let shownAt = performance.now();
  let keyAt = null; // performance.now() of the key press awaiting the next render
  let lastChoices = "";

  function elapsed() { return Math.max(0, (performance.now() - shownAt) / 1000); }

  function send(msg) {
    keyAt = performance.now();
    model.send(msg);
  }

  function currentId() { return (model.get("item") || {}).example_id || null; }

  function choose(index) {
    send({ type: "choose", index, example_id: currentId(), question: model.get("question"), time_spent: elapsed() });
  }

  function draw() {
    const it = model.get("item") || {};
    const finished = model.get("finished");
    root.dataset.exampleId = it.example_id || "";
    root.dataset.revision = String(model.get("revision"));
    root.dataset.question = model.get("question") || "";
    root.classList.toggle("wb-finished", !!finished);
    itemId.textContent = it.example_id ? it.example_id : "";
    // The text arrives HTML-escaped from Python: assigning it as HTML shows it verbatim.
    text.innerHTML = it.html || "";
    if (it.image) { image.src = it.image; image.style.display = ""; } else { image.removeAttribute("src"); image.style.display = "none"; }
    imageNote.innerHTML = it.image_note || "";

    const given = model.get("answers") || {};
    const givenKeys = Object.keys(given);
    answers.textContent = givenKeys.length ? givenKeys.map((k) => `${k}: ${given[k]}`).join(" \u00b7 ") : "";
    question.textContent = finished ? "" : (model.get("question_text") || model.get("question") || "");

    const opts = model.get("choices") || [];
    const d = model.get("draft") || {};
    const signature = JSON.stringify([opts, d.value || null]);
    if (signature !== lastChoices) {
      lastChoices = signature;
      choices.replaceChildren(...opts.map((c, i) => {
        const b = el("button", "wb-choice" + (d.value === c ? " wb-choice-draft" : ""));
        b.type = "button";
        b.tabIndex = -1;
        b.dataset.index = String(i + 1);
        b.append(el("kbd", null, String(i + 1)), el("span", null, " " + c));
        b.addEventListener("mousedown", (e) => e.preventDefault()); // keep the focus on the widget
        b.addEventListener("click", () => choose(i + 1));
        return b;
      }));
    }
    if (d.value) {
      const conf = typeof d.confidence === "number" ? ` (confidence ${d.confidence.toFixed(2)}, ${d.source})` : ` (${d.source})`;
      draft.textContent = `Draft: ${d.value}${conf} \u2014 Enter confirms`;
      draft.style.display = "";
    } else {
      draft.textContent = "";
      draft.style.display = "none";
    }
    const p = model.get("progress") || {};
    const done = p.done || 0;
    const total = p.batch || 0;
    bar.max = Math.max(total, 1);
    bar.value = Math.min(done, bar.max);
    progressLabel.textContent = `${done} / ${total} in this batch \u00b7 ${p.answered || 0} answered \u00b7 ${p.skipped || 0} skipped`;
    message.textContent = model.get("message") || "";
    const g = model.get("guidelines") || "";
    guideText.textContent = g;
    guide.style.display = g ? "" : "none";
  }

  let scheduled = false;
  function schedule() {
    if (scheduled) { return; }
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      draw();
      if (keyAt !== null) {
        const latency = performance.now() - keyAt;
        keyAt = null;
        root.dataset.lastLatencyMs = latency.toFixed(2);
        if (Array.isArray(window.__wbAnnotatorLatencies)) { window.__wbAnnotatorLatencies.push(latency); }
      }
    });
  }

  function onRevision() {
    if (Object.keys(model.get("answers") || {}).length === 0) { shownAt = performance.now(); }
    schedule();
  }

  const traits = ["item", "question", "question_text", "choices", "answers", "draft", "guidelines", "progress",
                  "message", "finished"];
  for (const t of traits) { model.on(`change:${t}`, schedule); }
  model.on("change:revision", onRevision);

  function onKeyDown(e) {
    // Browser and editor shortcuts with Ctrl/Cmd/Alt (save, copy ...) pass through; nothing else does.
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    e.stopPropagation();
    if (e.target !== root && e.target.tagName === "SUMMARY" && (e.key === "Enter" || e.key === " ")) { return; }
    const key = e.key;
    if (e.shiftKey && key === "Enter") { e.preventDefault(); return; } // never re-run the cell from here
    if (/^[1-9]$/.test(key)) {
      e.preventDefault();
      const n = Number(key);
      const opts = model.get("choices") || [];
      if (n <= opts.length) { choose(n); }
      return;
    }
    if (key === "Enter") { e.preventDefault(); send({ type: "confirm", example_id: currentId(), question: model.get("question"), time_spent: elapsed() }); return; }
    if (key === "s" || key === "S") { e.preventDefault(); send({ type: "skip", example_id: currentId() }); return; }
    if (key === "u" || key === "U" || key === "Backspace") { e.preventDefault(); send({ type: "undo" }); return; }
  }
  function stopOnly(e) { if (!(e.ctrlKey || e.metaKey || e.altKey)) { e.stopPropagation(); } }
  root.addEventListener("keydown", onKeyDown);
  root.addEventListener("keypress", stopOnly);
  root.addEventListener("keyup", stopOnly);

  draw();
  // Take the focus once, so typing starts right away (without scrolling the notebook).
  requestAnimationFrame(() => root.focus({ preventScroll: true }));

  return () => {
    for (const t of traits) { model.off(`change:${t}`, schedule); }
    model.off("change:revision", onRevision);
    root.removeEventListener("keydown", onKeyDown);
    root.removeEventListener("keypress", stopOnly);
    root.removeEventListener("keyup", stopOnly);
  };
}

export default { render };
