import type { ApiClient } from "./api-client.ts";
import { h } from "./dom.ts";

// The API-key prompt both pages share: a native <dialog> (focus stays inside and Escape closes it,
// for free), made on first use. Resolves with the key, or null when cancelled.

let parts: { dialog: HTMLDialogElement; input: HTMLInputElement; message: HTMLElement } | null = null;

function keyDialog() {
  if (parts) return parts;
  const input = h("input", {
    id: "key-input",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "key-message",
  });
  const message = h("p", { id: "key-message", class: "muted" });
  const dialog = h(
    "dialog",
    { id: "key-dialog", "aria-labelledby": "key-title" },
    h(
      "form",
      { method: "dialog" },
      h("h2", { id: "key-title" }, "API key"),
      message,
      h("label", { for: "key-input" }, "Key"),
      input,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { value: "cancel", formnovalidate: true }, "Cancel"),
        h("button", { value: "save", class: "primary" }, "Save key"),
      ),
    ),
  );
  document.body.append(dialog);
  parts = { dialog, input, message };
  return parts;
}

let pending: Promise<string | null> | null = null;

/** Asks for a key; requests that hit a 401 while the dialog is open share the one answer. */
export function askForKey(reason: "missing" | "rejected"): Promise<string | null> {
  pending ??= new Promise<string | null>((resolve) => {
    const { dialog, input, message } = keyDialog();
    message.textContent =
      reason === "rejected"
        ? "The server did not accept that key. Enter another one."
        : "This server needs an API key. It is kept in this browser only (localStorage).";
    input.value = "";
    dialog.addEventListener(
      "close",
      () => {
        pending = null;
        resolve(dialog.returnValue === "save" && input.value.trim() ? input.value.trim() : null);
      },
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
  return pending;
}

/** The header's "API key" button: enter a new key (replacing the stored one), then reload the data. */
export function wireKeyButton(button: HTMLButtonElement, api: ApiClient, reload: () => void): void {
  button.addEventListener("click", async () => {
    const key = await askForKey("missing");
    if (key === null) return;
    api.key = key;
    reload();
  });
}
