// Front end of widgets.jupyter.Annotator: renders the synced state, turns keys into ONE message each.
//
// Messages sent to Python: {type: "choose", index, example_id, question, time_spent}, {type: "confirm", ...},
// {type: "skip", example_id}, {type: "undo"}. Python answers by updating the synced traits.
// Keys are taken only while the widget has the focus (the listeners sit on the widget's root), and stop at the
// widget (stopPropagation) so JupyterLab's command-mode shortcuts never see them. Without the focus the widget
// looks dimmed and says "click here". Everything from the data (texts, choices, messages) goes into the page
// as text (textContent), never as markup.
// Browser-only feedback, no message to Python: the "?" overlay listing the keys (Esc closes it) and the short
// note naming an unknown key.

const KEY_NOTE_MS = 3500;

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) { node.className = cls; }
  if (text !== undefined) { node.textContent = text; }
  return node;
}

function keyName(key) {
  return key === " " ? "Space" : key;
}

function render({ model, el: host }) {
  const root = el("div", "wb-annotator");
  root.tabIndex = 0;
  root.setAttribute("role", "application");
  root.setAttribute("aria-label", "Annotator: choice keys pick, Enter confirms the draft, s skips, u undoes, ? lists the keys");
  root.dataset.focused = "false";

  const head = el("div", "wb-head");
  const progressLabel = el("span", "wb-progress-label");
  const bar = el("progress", "wb-progress");
  const helpButton = el("button", "wb-help-button", "?");
  helpButton.type = "button";
  helpButton.tabIndex = -1;
  helpButton.title = "Keyboard shortcuts (press ?)";
  helpButton.setAttribute("aria-label", "Keyboard shortcuts");
  head.append(progressLabel, bar, helpButton);

  const focusHint = el("div", "wb-focus-hint", "\u2328 Click here to label with the keyboard");

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
  const keys = el("div", "wb-keys", "Enter confirms the draft \u00b7 s skips \u00b7 u undoes \u00b7 ? lists every key");
  const message = el("div", "wb-message");
  message.setAttribute("aria-live", "polite");
  const keyNote = el("div", "wb-key-note");
  keyNote.setAttribute("role", "status");
  const guide = el("details", "wb-guidelines");
  const guideSummary = el("summary", null, "Guidelines");
  const guideText = el("div", "wb-guidelines-text");
  guide.append(guideSummary, guideText);

  const help = el("div", "wb-help");
  help.setAttribute("role", "dialog");
  help.setAttribute("aria-label", "Keyboard shortcuts");
  help.hidden = true;
  const helpHead = el("div", "wb-help-head");
  const helpClose = el("button", "wb-help-close", "\u00d7");
  helpClose.type = "button";
  helpClose.tabIndex = -1;
  helpClose.title = "Close (Esc)";
  helpClose.setAttribute("aria-label", "Close the list of keys");
  helpHead.append(el("b", null, "Keyboard shortcuts"), helpClose);
  const helpKeys = el("table", "wb-help-keys");
  const helpFoot = el("div", "wb-help-foot",
    "Keys work while the widget has the focus (a blue ring); click it to give it the focus. ? or Esc closes this list.");
  help.append(helpHead, helpKeys, helpFoot);

  root.append(head, focusHint, item, answers, question, choices, draft, keys, message, keyNote, guide, help);
  host.appendChild(root);

  let shownAt = performance.now();
  let keyAt = null; // performance.now() of the key press awaiting the next render
  let lastChoices = "";
  let noteTimer = null;

  function elapsed() { return Math.max(0, (performance.now() - shownAt) / 1000); }

  function send(msg) {
    keyAt = performance.now();
    model.send(msg);
  }

  function currentId() { return (model.get("item") || {}).example_id || null; }

  function choose(index) {
    send({ type: "choose", index, example_id: currentId(), question: model.get("question"), time_spent: elapsed() });
  }

  function focusRoot() {
    if (!root.contains(document.activeElement)) { root.focus({ preventScroll: true }); }
  }

  // ---------------------------------------------------------------- focus state
  function setFocused(focused) {
    root.classList.toggle("wb-focused", focused);
    root.dataset.focused = String(focused);
  }
  function onFocusIn() { setFocused(true); }
  function onFocusOut(e) { setFocused(root.contains(e.relatedTarget)); }

  // ---------------------------------------------------------------- help overlay and key notes
  function setHelp(open) {
    help.hidden = !open;
    root.classList.toggle("wb-help-open", open);
    helpButton.setAttribute("aria-expanded", String(open));
  }

  function drawHelp(opts, choiceKeys) {
    const rows = opts.map((c, i) => [choiceKeys[i] || "(click)", `choose \u201c${c}\u201d`]);
    rows.push(
      ["Enter", "confirm the draft (its choice is preselected)"],
      ["s", "skip this item"],
      ["u / Backspace", "undo: step back one answer"],
      ["?", "show or hide this list"],
      ["Esc", "close this list"],
    );
    helpKeys.replaceChildren(...rows.map(([k, what]) => {
      const tr = el("tr");
      const keyCell = el("td", "wb-help-key");
      keyCell.append(el("kbd", null, k));
      tr.append(keyCell, el("td", null, what));
      return tr;
    }));
  }

  function note(textValue) {
    keyNote.textContent = textValue;
    keyNote.classList.add("wb-show");
    if (noteTimer !== null) { clearTimeout(noteTimer); }
    noteTimer = setTimeout(() => {
      noteTimer = null;
      keyNote.classList.remove("wb-show");
      keyNote.textContent = "";
    }, KEY_NOTE_MS);
  }

  // ---------------------------------------------------------------- drawing
  function draw() {
    const it = model.get("item") || {};
    const finished = model.get("finished");
    root.dataset.exampleId = it.example_id || "";
    root.dataset.revision = String(model.get("revision"));
    root.dataset.question = model.get("question") || "";
    root.classList.toggle("wb-finished", !!finished);
    itemId.textContent = it.example_id ? it.example_id : "";
    text.textContent = it.text || "";
    if (it.image) { image.src = it.image; image.style.display = ""; } else { image.removeAttribute("src"); image.style.display = "none"; }
    imageNote.textContent = it.image_note || "";

    const given = model.get("answers") || {};
    const givenKeys = Object.keys(given);
    answers.textContent = givenKeys.length ? givenKeys.map((k) => `${k}: ${given[k]}`).join(" \u00b7 ") : "";
    question.textContent = finished ? "" : (model.get("question_text") || model.get("question") || "");

    const opts = model.get("choices") || [];
    const choiceKeys = model.get("choice_keys") || [];
    const d = model.get("draft") || {};
    const hasDraft = d.value !== undefined && d.value !== null && d.value !== "";
    const signature = JSON.stringify([opts, choiceKeys, hasDraft ? d.value : null]);
    if (signature !== lastChoices) {
      lastChoices = signature;
      choices.replaceChildren(...opts.map((c, i) => {
        const preselected = hasDraft && d.value === c;
        const b = el("button", "wb-choice" + (preselected ? " wb-choice-draft" : ""));
        b.type = "button";
        b.tabIndex = -1;
        b.dataset.index = String(i + 1);
        b.setAttribute("aria-pressed", String(preselected));
        if (choiceKeys[i]) { b.append(el("kbd", null, choiceKeys[i])); }
        b.append(el("span", null, " " + c));
        if (preselected) { b.append(el("span", "wb-enter-mark", " \u21b5 Enter")); }
        b.addEventListener("mousedown", (e) => e.preventDefault()); // keep the focus on the widget
        b.addEventListener("click", () => { focusRoot(); choose(i + 1); });
        return b;
      }));
      drawHelp(opts, choiceKeys);
    }
    if (hasDraft && !finished) {
      const parts = [];
      if (typeof d.confidence === "number") { parts.push(`confidence ${d.confidence.toFixed(2)}`); }
      if (d.source) { parts.push(`from ${d.source}`); }
      draft.textContent = `Draft: ${d.value}${parts.length ? " (" + parts.join(", ") + ")" : ""} \u2014 Enter confirms`;
      draft.style.display = "";
    } else {
      draft.textContent = "";
      draft.style.display = "none";
    }
    const p = model.get("progress") || {};
    bar.max = Math.max(p.batch || 0, 1);
    bar.value = Math.min(p.done || 0, bar.max);
    progressLabel.textContent = p.text || "";
    message.textContent = model.get("message") || "";
    message.classList.toggle("wb-error", model.get("message_kind") === "error");
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

  const traits = ["item", "question", "question_text", "choices", "choice_keys", "answers", "draft", "guidelines",
                  "progress", "message", "message_kind", "finished"];
  for (const t of traits) { model.on(`change:${t}`, schedule); }
  model.on("change:revision", onRevision);

  // ---------------------------------------------------------------- keys (only while focused: listeners on root)
  function choiceIndex(key) {
    const choiceKeys = model.get("choice_keys") || [];
    const i = choiceKeys.indexOf(key.length === 1 ? key.toLowerCase() : key);
    return i >= 0 ? i + 1 : 0;
  }

  function onKeyDown(e) {
    // Browser and editor shortcuts with Ctrl/Cmd/Alt (save, copy ...) pass through; nothing else does.
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    e.stopPropagation();
    if (e.target !== root && e.target.tagName === "SUMMARY" && (e.key === "Enter" || e.key === " ")) { return; }
    const key = e.key;
    if (key === "?") { e.preventDefault(); setHelp(help.hidden); return; }
    if (key === "Escape") { e.preventDefault(); setHelp(false); return; }
    if (e.shiftKey && key === "Enter") { e.preventDefault(); return; } // never re-run the cell from here
    const index = choiceIndex(key);
    if (index) { e.preventDefault(); choose(index); return; }
    if (key === "Enter") { e.preventDefault(); send({ type: "confirm", example_id: currentId(), question: model.get("question"), time_spent: elapsed() }); return; }
    if (key === "s" || key === "S") { e.preventDefault(); send({ type: "skip", example_id: currentId() }); return; }
    if (key === "u" || key === "U" || key === "Backspace") { e.preventDefault(); send({ type: "undo" }); return; }
    if (key.length !== 1) { return; } // Shift, Tab, arrows ...: no action here, their default stays
    e.preventDefault();
    const n = (model.get("choices") || []).length;
    if (/^[0-9]$/.test(key)) {
      const where = n ? `this question has ${n} choice${n === 1 ? "" : "s"}` : "nothing is left to label";
      note(`\u201c${key}\u201d picks nothing: ${where}. Press ? to see the keys.`);
    } else {
      note(`\u201c${keyName(key)}\u201d is not a key of the annotator. Press ? to see the keys.`);
    }
  }
  function stopOnly(e) { if (!(e.ctrlKey || e.metaKey || e.altKey)) { e.stopPropagation(); } }
  function onHelpButton() { focusRoot(); setHelp(help.hidden); }
  function onHelpClose() { focusRoot(); setHelp(false); }
  function keepFocus(e) { e.preventDefault(); }

  root.addEventListener("keydown", onKeyDown);
  root.addEventListener("keypress", stopOnly);
  root.addEventListener("keyup", stopOnly);
  root.addEventListener("focusin", onFocusIn);
  root.addEventListener("focusout", onFocusOut);
  root.addEventListener("click", focusRoot);
  for (const b of [helpButton, helpClose]) { b.addEventListener("mousedown", keepFocus); }
  helpButton.addEventListener("click", onHelpButton);
  helpClose.addEventListener("click", onHelpClose);

  draw();
  // Take the focus once, so typing starts right away (without scrolling the notebook).
  requestAnimationFrame(() => { root.focus({ preventScroll: true }); setFocused(root.contains(document.activeElement)); });

  return () => {
    for (const t of traits) { model.off(`change:${t}`, schedule); }
    model.off("change:revision", onRevision);
    if (noteTimer !== null) { clearTimeout(noteTimer); }
    root.removeEventListener("keydown", onKeyDown);
    root.removeEventListener("keypress", stopOnly);
    root.removeEventListener("keyup", stopOnly);
    root.removeEventListener("focusin", onFocusIn);
    root.removeEventListener("focusout", onFocusOut);
    root.removeEventListener("click", focusRoot);
  };
}

export default { render };
